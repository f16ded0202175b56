"""Importing org units from GeoPackage, CSV and GeoJSON files into versions, as tasks."""
