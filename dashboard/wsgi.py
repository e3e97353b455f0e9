"""WSGI entry point for production web workers: ``gunicorn 'dashboard.wsgi:server'``.

Web workers only read the store; run ``opscenter poll`` beside them.
"""

from dashboard.app import create_app
from dashboard.core.settings import load
from dashboard.security import redact

app = create_app(load())
server = app.server
redact.install()
