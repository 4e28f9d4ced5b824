"""One intake for every observation: decided in `core`, read by `load`, stored by `write`."""
