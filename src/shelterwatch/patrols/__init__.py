"""Patrol units (police, rescue) and the tasks they are given: open a locked door, check rounds."""
