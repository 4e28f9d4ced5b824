"""Accountability statistics: rollups kept from the facts, the public figures, dossiers."""
