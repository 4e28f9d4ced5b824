"""Open311 GeoReport v2: residents' reports for existing 311 clients and dashboards."""
