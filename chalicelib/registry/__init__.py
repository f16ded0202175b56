"""The org-unit registry: units and their filters, sources and versions, types and groups, change
requests, bulk updates, mobile sync, geometry, audit."""
