"""Readiness audits: the checklist, audits and quick-checks, deficiencies, ghosts, campaigns."""
