"""The `shelterwatch` command line."""
