"""The resident's street map, built from an OpenStreetMap extract and served by the app itself."""
