"""gunicorn settings for production web workers: ``gunicorn -c python:dashboard.gunicorn_conf
'dashboard.wsgi:server'`` (``deploy/production.sh``); options on the command line override them.

The access log goes to standard output through ``redact.GunicornLogger``, so display tokens and
other secrets in query strings (also percent-encoded ones) are masked; ``pre_request`` notes
repeated header fields for the access check (``dashboard.security.serving``).
"""
from dashboard.security.serving import mark_repeated as pre_request  # noqa: F401  (a gunicorn hook, by name)

accesslog = "-"
logger_class = "dashboard.security.redact.GunicornLogger"
