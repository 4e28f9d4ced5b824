"""Pure rules: plain data and `now` in, decisions out; no I/O, no framework (DESIGN §6)."""
