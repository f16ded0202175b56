"""Exporting org units as CSV, XLSX, GeoJSON and GeoPackage, as tasks."""
