"""Coverage gaps: who cannot reach a usable shelter before the threat arrives (issue 14)."""
