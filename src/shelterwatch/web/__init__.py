"""Web pages served by the app itself (no CDN at run time)."""
