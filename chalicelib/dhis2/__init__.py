"""DHIS2: connections, the Web API client, tree import and sync, pushing org units and data values."""
