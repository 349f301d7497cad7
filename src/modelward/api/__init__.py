"""REST API: routes generated from the operation table, one error shape."""
