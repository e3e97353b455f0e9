"""One module per page: its ``layout(**url_vars)`` and its ``register(app)`` callbacks."""
