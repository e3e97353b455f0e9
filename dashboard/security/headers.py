"""Security headers on every response: no MIME sniffing, no framing by other sites, and a
Content-Security-Policy that lets Dash run (its inline renderer script by hash) and nothing else.
"""

from __future__ import annotations

import dash
import flask

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def content_security_policy(script_hashes: list[str]) -> str:
    """The CSP for pages whose only inline scripts have ``script_hashes``.

    Styles may be inline: Dash components set style attributes, and plotly.js and AG Grid
    inject their styles as style elements.
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_app(app: dash.Dash) -> None:
    """Add the headers to every response of ``app``; the CSP is computed on the first response,
    after every callback (and so every inline script) is registered."""
    csp: list[str] = []

    @app.server.after_request
    def add_security_headers(response: flask.Response) -> flask.Response:
        if not csp:
            csp.append(content_security_policy(app.csp_hashes()))
        response.headers["Content-Security-Policy"] = csp[0]
        for name, value in FIXED.items():
            response.headers[name] = value
        if flask.request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
