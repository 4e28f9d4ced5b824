"""Readers that turn outside data (registry files, feeds) into plain records; no database here."""
