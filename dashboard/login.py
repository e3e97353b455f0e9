"""The built-in login: ``/login`` (a form with a CSRF token) and ``/logout``, plus the bare page
they and the access refusals are drawn on.

A successful login puts only the user name in the signed session cookie (HttpOnly, SameSite=Lax,
Secure unless ``auth.cookie_secure`` is false); the role is read from the database on every request.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlsplit

import flask
from markupsafe import escape

from dashboard.access import AccessStore
from dashboard.i18n import pick_lang, t
from dashboard.settings import Settings

MAX_FIELD = 256
log = logging.getLogger("opscenter.auth")


def page(center_name: str, lang: str, body: str) -> str:
    """A bare page in the dashboard's style; ``body`` must already be escaped HTML."""
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(center_name)}</title>'
        '<link rel="stylesheet" href="/assets/opscenter.css"><link rel="stylesheet" href="/assets/auth.css"></head>'
        f'<body><main class="oc-page oc-auth"><h1>{escape(center_name)}</h1>{body}</main></body></html>'
    )


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site (not the login page itself), else ``/``."""
    parts = urlsplit(target or "")
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or parts.scheme or parts.netloc or parts.path in ("/login", "/logout")):
        return "/"
    return target


def _form(settings: Settings, lang: str, next_url: str, message: str | None = None) -> str:
    csrf = flask.session.setdefault("csrf", secrets.token_urlsafe(32))
    alert = f'<p class="oc-auth-message" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f'<h2>{escape(t("login.title", lang))}</h2>{alert}'
        '<form method="post" action="/login" class="oc-login">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<label>{escape(t("login.user", lang))} <input name="user" autocomplete="username" required autofocus></label>'
        f'<label>{escape(t("login.password", lang))} '
        '<input name="password" type="password" autocomplete="current-password" required></label>'
        f'<button type="submit">{escape(t("login.submit", lang))}</button></form>'
    )
    return page(settings.center_name, lang, body)


def register(server: flask.Flask, settings: Settings, access: AccessStore) -> None:
    """Add ``/login`` and ``/logout`` to ``server``."""

    @server.route("/login", methods=["GET", "POST"])
    def login():
        request = flask.request
        lang = pick_lang(request.args.get("lang"), settings.language)
        next_url = safe_next(request.values.get("next"))
        if request.method == "GET":
            return _form(settings, lang, next_url)
        sent_csrf = request.form.get("csrf", "")
        if not hmac.compare_digest(sent_csrf.encode(), flask.session.get("csrf", "").encode()) or not sent_csrf:
            return _form(settings, lang, next_url, t("auth.cross_site", lang)), 400
        user = request.form.get("user", "")[:MAX_FIELD]
        role = access.authenticate(user, request.form.get("password", "")[:MAX_FIELD])
        if role is None:
            log.info("login refused for %r from %s", user[:64], request.remote_addr)
            return _form(settings, lang, next_url, t("login.failed", lang)), 401
        log.info("login of %s (%s) from %s", user, role, request.remote_addr)
        flask.session.clear()
        flask.session["user"] = user
        flask.session.permanent = True
        return flask.redirect(next_url)

    @server.get("/logout")
    def logout():
        flask.session.clear()
        return flask.redirect("/login")
