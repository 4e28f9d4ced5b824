"""The offline pack: every shelter and its status in one cacheable document."""
