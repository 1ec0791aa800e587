"""The API\x27s routes, one module per resource."""
