"""Forms, their XLSForm versions, and the OpenRosa form list."""
