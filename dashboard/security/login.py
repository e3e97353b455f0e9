"""The built-in login: ``/login`` and ``/logout`` (POST forms, each with a single-use token), plus
the bare page they and the access refusals are drawn on.

A successful login starts a server-side session (``dashboard.security.sessions``) and puts only its random
id in the signed session cookie (HttpOnly, SameSite=Lax, Secure unless ``auth.cookie_secure`` is
false); the user and their role are read from the database on every request. Failed attempts are
throttled (``dashboard.security.throttle``) and every failure reads the same, whether or not the name
exists; a GET of ``/logout`` shows a form, so a link or an image cannot sign anyone out.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

import flask
from itsdangerous import BadData, URLSafeTimedSerializer
from limits.errors import StorageError
from markupsafe import escape

from dashboard.core.settings import Settings
from dashboard.i18n import pick_lang, t
from dashboard.security.access import AccessStore
from dashboard.security.passwords import HashingBusy
from dashboard.security.sessions import Sessions
from dashboard.security.throttle import Throttle

MAX_FIELD = 256
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # browsers drop tabs and newlines from a Location: "/\t/x" is "//x"
SESSION_ID = "sid"
BROWSER_KEY = "browser"
FORM_TOKEN_MAX_AGE = 3600
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
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or CONTROL.search(target)
        or parts.scheme
        or parts.netloc
        or parts.path in ("/login", "/logout")
    ):
        return "/"
    return target


def _form_token(form: str) -> str:
    """A fresh single-use token for one ``form``, bound to this browser by a key in its session cookie."""
    browser = flask.session.setdefault(BROWSER_KEY, secrets.token_urlsafe(16))
    return _signer().dumps([form, browser, secrets.token_urlsafe(16)])


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(flask.current_app.secret_key, salt="opscenter.form")


def _form_nonce(form: str) -> str | None:
    """The nonce of the request's token when it was issued for ``form`` to this browser within the
    hour, else None."""
    try:
        issued_for, browser, nonce = _signer().loads(flask.request.form.get("csrf", ""), max_age=FORM_TOKEN_MAX_AGE)
    except (BadData, ValueError, TypeError):
        return None
    same_browser = hmac.compare_digest(str(browser), flask.session.get(BROWSER_KEY, ""))
    return str(nonce) if issued_for == form and same_browser else None


def _spend_form_token(throttle: Throttle, form: str) -> bool:
    """Whether the request carries a valid token for ``form`` never sent before (now spent)."""
    nonce = _form_nonce(form)
    return nonce is not None and throttle.first_use("form", nonce, FORM_TOKEN_MAX_AGE)


def _form(settings: Settings, lang: str, form: str, fields: str, message: str | None = None) -> str:
    """The login or logout page: a POST form to ``/<form>`` with its token, ``fields`` (escaped HTML)
    and an optional message."""
    alert = f'<p class="oc-auth-message" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f"<h2>{escape(t(f'{form}.title', lang))}</h2>{alert}"
        f'<form method="post" action="/{form}" class="oc-login">'
        f'<input type="hidden" name="csrf" value="{escape(_form_token(form))}">{fields}'
        f'<button type="submit">{escape(t(f"{form}.submit", lang))}</button></form>'
    )
    return page(settings.center_name, lang, body)


def _login_form(settings: Settings, lang: str, next_url: str, message: str | None = None) -> str:
    fields = (
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<label>{escape(t("login.user", lang))} <input name="user" autocomplete="username" required autofocus></label>'
        f"<label>{escape(t('login.password', lang))} "
        '<input name="password" type="password" autocomplete="current-password" required></label>'
    )
    return _form(settings, lang, "login", fields, message)


def _answer(body: str, status: int, retry_after: int | None = None) -> flask.Response:
    response = flask.Response(body, status=status, mimetype="text/html")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register(
    server: flask.Flask, settings: Settings, access: AccessStore, sessions: Sessions, throttle: Throttle
) -> None:
    """Add ``/login`` and ``/logout`` to ``server``."""

    def lang_and_next() -> tuple[str, str]:
        request = flask.request
        return pick_lang(request.args.get("lang"), settings.language), safe_next(request.values.get("next"))

    @server.route("/login", methods=["GET", "POST"])
    def login():
        request = flask.request
        lang, next_url = lang_and_next()
        if request.method == "GET":
            return _login_form(settings, lang, next_url)
        user, address = request.form.get("user", "")[:MAX_FIELD], request.remote_addr or "-"
        try:
            wait = throttle.wait(user, address)
            if wait:
                log.warning("login of %r from %s held for %d s", user[:64], address, wait)
                return _answer(
                    _login_form(settings, lang, next_url, t("login.locked", lang, seconds=wait)), 429, retry_after=wait
                )
            if not _spend_form_token(throttle, "login"):
                return _answer(_login_form(settings, lang, next_url, t("login.form_expired", lang)), 400)
            role = access.authenticate(user, request.form.get("password", "")[:MAX_FIELD])
            if role is None:
                throttle.failed(user, address)
        except (HashingBusy, StorageError) as exc:
            log.warning("login of %r from %s turned away: %s", user[:64], address, exc)
            return _answer(_login_form(settings, lang, next_url, t("login.busy", lang)), 503, retry_after=1)
        if role is None:
            log.info("login refused for %r from %s", user[:64], address)
            return _answer(_login_form(settings, lang, next_url, t("login.failed", lang)), 401)
        log.info("login of %s (%s) from %s", user, role, address)
        _end_session(sessions)
        flask.session[SESSION_ID] = sessions.start(user, address)
        # The signed-in cookie carries its form key from the start: a GET of /logout then changes no
        # cookie, so a page request answering late with the cookie it was sent cannot void the form.
        flask.session[BROWSER_KEY] = secrets.token_urlsafe(16)
        flask.session.permanent = True
        return flask.redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        lang = pick_lang(flask.request.args.get("lang"), settings.language)
        if flask.request.method == "GET":
            return _form(settings, lang, "logout", "")
        try:
            valid = _spend_form_token(throttle, "logout")
        except StorageError:  # signing out works while Redis is away: a replay could only sign out again
            valid = _form_nonce("logout") is not None
        if not valid:
            return _answer(_form(settings, lang, "logout", "", t("login.form_expired", lang)), 400)
        _end_session(sessions)
        return flask.redirect("/login")


def _end_session(sessions: Sessions) -> None:
    """End this browser's session, if it has one, and clear its cookie's content."""
    secret = flask.session.get(SESSION_ID)
    if secret:
        sessions.end(secret)
    flask.session.clear()
