"""Notification channels: DingTalk and WeCom group robots, a generic JSON webhook, e-mail over SMTP.

Each channel is declared in the config's ``notifications.channels`` by name, checked by its options
model (credentials only as ``${ENV}``: a robot's webhook URL holds its token, so it counts as one).
``send(message, deadline_s)`` delivers one message within ``deadline_s`` or raises ``ChannelError``
whose text names the channel and the cause and holds none of the channel's secrets (``scrub``).
The webhooks go through the sources' transport (``datasources.transport``): its deadline on each
whole answer, its size limit, no redirect off the webhook's host, no retries (the escalation job
retries with its own back-off, so a send never holds up a poll).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Annotated, Literal

from pydantic import Field

from dashboard.security.redact import MASK, redact
from datasources.base import SourceError
from datasources.options import SECRET, HttpUrl, Secret, Strict
from datasources.transport import HttpClient

MAX_ANSWER_BYTES = 64 * 2**10  # a robot answers a few bytes of JSON
MAX_TEXT = 4000  # the robots' limit on one text message is a little above this


class ChannelError(Exception):
    """A send failed; the text is safe to store and show (no secret of the channel in it)."""


@dataclass(frozen=True)
class Recipient:
    """Someone on duty: a person id of the roster, the name shown, how channels reach them."""

    id: str
    name: str
    email: str | None = None
    mobile: str | None = None


@dataclass(frozen=True)
class Message:
    """One notification: a one-line title, a plain text, the people it is meant for, and what it is about
    (``facts``: the generic webhook's JSON, e.g. incident id, priority, level)."""

    title: str
    text: str
    recipients: tuple[Recipient, ...] = ()
    facts: dict = field(default_factory=dict)


# ---------------------------------------------------------------- options


SecretUrl = Annotated[HttpUrl, Field(repr=False), SECRET]  # a webhook URL that holds its token


class _ChannelOptions(Strict):
    timeout_s: float = Field(10.0, gt=0, le=60, description="Deadline of one send, start to end, in seconds.")


class DingTalkOptions(_ChannelOptions):
    """A DingTalk group robot (自定义机器人); with ``secret``, its signed webhook ("加签")."""

    kind: Literal["dingtalk"]
    url: SecretUrl = Field(description="The robot's webhook URL with its access_token, as ${ENV}.")
    secret: Secret = Field(None, description="The robot's signing secret (SEC...), as ${ENV}.")


class WeComOptions(_ChannelOptions):
    """A WeCom (企业微信) group robot."""

    kind: Literal["wecom"]
    url: SecretUrl = Field(description="The robot's webhook URL with its key, as ${ENV}.")


class WebhookOptions(_ChannelOptions):
    """Any HTTP endpoint taking a JSON POST (an on-call system, a chat bridge)."""

    kind: Literal["webhook"]
    url: HttpUrl = Field(description="Where the JSON is posted.")
    bearer_token: Secret = Field(None, description="Sent as `Authorization: Bearer ...`, as ${ENV}.")


class EmailOptions(_ChannelOptions):
    """E-mail over SMTP to the people on duty (their roster `email`) and to `to`."""

    kind: Literal["email"]
    host: str = Field(description="The SMTP server.")
    port: int = Field(587, gt=0, lt=65536, description="Its port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before anything else.")
    tls_verify: bool = Field(True, description="Verify the server's certificate (with STARTTLS).")
    username: str | None = Field(None, description="Log in as this user (after STARTTLS).")
    password: Secret = Field(None, description="Its password, as ${ENV}.")
    sender: str = Field(description="The From address.")
    to: list[str] = Field(
        default_factory=list, description="Addresses that receive every message besides the people on duty."
    )


ChannelOptions = Annotated[DingTalkOptions | WeComOptions | WebhookOptions | EmailOptions, Field(discriminator="kind")]
KINDS = ("dingtalk", "wecom", "webhook", "email")


def model_of(kind: str):
    """The options model of a channel kind (KeyError for an unknown one)."""
    return {"dingtalk": DingTalkOptions, "wecom": WeComOptions, "webhook": WebhookOptions, "email": EmailOptions}[kind]


# ---------------------------------------------------------------- secrets kept out of text


def secrets_of(options) -> list[str]:
    """The channel's secret values: credentials, and its webhook URL with its path and query."""
    values = [getattr(options, key, None) for key in ("secret", "bearer_token", "password")]
    url = getattr(options, "url", None)
    if url:
        parts = urllib.parse.urlsplit(url)
        values += [url, parts.path + ("?" + parts.query if parts.query else ""), parts.query]
        values += [v for _, v in urllib.parse.parse_qsl(parts.query)]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` without any of ``secrets`` (nor their URL-encoded forms), then redacted."""
    for value in secrets:
        for form in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}:
            text = text.replace(form, MASK)
    return redact(text)


# ---------------------------------------------------------------- the robots' signature


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature of a signed webhook: base64 of HMAC-SHA256 over "timestamp\\nsecret" keyed by the
    secret (URL-encoded when it is put in the query)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with DingTalk's ``timestamp`` and ``sign`` parameters added."""
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode({"timestamp": timestamp_ms, "sign": dingtalk_sign(secret, timestamp_ms)})
    return urllib.parse.urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


# ---------------------------------------------------------------- channels


def _mentioned(message: Message) -> list[str]:
    return [r.mobile for r in message.recipients if r.mobile]


def robot_text(message: Message) -> str:
    """The robots' text: title, body, and the people on duty by name, cut to ``MAX_TEXT``."""
    text = f"{message.title}\n{message.text}"
    mentions = " ".join(f"@{m}" for m in _mentioned(message))
    return (text[: MAX_TEXT - len(mentions) - 1] + ("\n" + mentions if mentions else "")).strip()


def dingtalk_payload(message: Message) -> dict:
    return {"msgtype": "text", "text": {"content": robot_text(message)}, "at": {"atMobiles": _mentioned(message)}}


def wecom_payload(message: Message) -> dict:
    return {
        "msgtype": "text",
        "text": {"content": robot_text(message), "mentioned_mobile_list": _mentioned(message)},
    }


def webhook_payload(message: Message) -> dict:
    return {
        "title": message.title,
        "text": message.text,
        "recipients": [{"id": r.id, "name": r.name, "email": r.email, "mobile": r.mobile} for r in message.recipients],
        **message.facts,
    }


class Channel:
    """A configured channel: ``send(message, now_ms)`` or ChannelError."""

    def __init__(self, name: str, options):
        self.name, self.options, self.kind = name, options, options.kind
        self.secrets = secrets_of(options)

    def send(self, message: Message, now_ms: int) -> None:
        try:
            self._send(message, now_ms)
        except ChannelError as exc:
            raise ChannelError(scrub(str(exc), self.secrets)) from None
        except SourceError as exc:  # the transport's errors name the channel already
            raise ChannelError(scrub(str(exc), self.secrets)) from None
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            raise ChannelError(scrub(f"{self.name}: {exc}", self.secrets)) from None

    def _send(self, message: Message, now_ms: int) -> None:
        raise NotImplementedError


class _Robot(Channel):
    """A group robot: a JSON POST answered with {"errcode": 0} on success."""

    def url(self, now_ms: int) -> str:
        return self.options.url

    def payload(self, message: Message) -> dict:
        raise NotImplementedError

    def _send(self, message: Message, now_ms: int) -> None:
        answer = _post(self, self.url(now_ms), self.payload(message))
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            code = answer.get("errcode") if isinstance(answer, dict) else None
            why = answer.get("errmsg") if isinstance(answer, dict) else None
            raise ChannelError(f"{self.name}: the robot refused the message: errcode {code}: {str(why)[:200]}")


class DingTalk(_Robot):
    def url(self, now_ms: int) -> str:
        return signed_url(self.options.url, self.options.secret, now_ms) if self.options.secret else self.options.url

    def payload(self, message: Message) -> dict:
        return dingtalk_payload(message)


class WeCom(_Robot):
    def payload(self, message: Message) -> dict:
        return wecom_payload(message)


class Webhook(Channel):
    def _send(self, message: Message, now_ms: int) -> None:
        _post(self, self.options.url, webhook_payload(message))


def _post(channel: Channel, url: str, body: dict):
    """POST ``body`` to ``url`` through the transport: one attempt, bounded in time and size."""
    options = {
        "url": url,
        "timeout_s": channel.options.timeout_s,
        "retries": 0,
        "max_bytes": MAX_ANSWER_BYTES,
        "bearer_token": getattr(channel.options, "bearer_token", None),
    }
    client = HttpClient.from_options(channel.name, {k: v for k, v in options.items() if v is not None})
    try:
        return client.post(url, body)
    finally:
        client.session.close()


class Email(Channel):
    """One message to the recipients' addresses and ``to``, over SMTP; the whole exchange is cut at
    ``timeout_s`` (the socket shut down), however slowly the server answers."""

    def _send(self, message: Message, now_ms: int) -> None:
        options = self.options
        to = sorted({r.email for r in message.recipients if r.email} | set(options.to))
        if not to:
            raise ChannelError(f"{self.name}: nobody to write to (no e-mail address on duty, no 'to')")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = options.sender, ", ".join(to), message.title
        mail.set_content(message.text)
        smtp, expired = smtplib.SMTP(timeout=options.timeout_s), threading.Event()
        timer = threading.Timer(options.timeout_s, _shut, (smtp, expired))
        timer.daemon = True
        timer.start()
        try:
            smtp.connect(options.host, options.port)
            if options.starttls:
                context = ssl.create_default_context()
                if not options.tls_verify:
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                smtp.starttls(context=context)
            if options.username:
                smtp.login(options.username, options.password or "")
            smtp.send_message(mail, to_addrs=to)
            smtp.quit()
        except (OSError, smtplib.SMTPException) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise ChannelError(f"{self.name}: timed out after {options.timeout_s:g} s") from None
            raise ChannelError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        finally:
            timer.cancel()
            smtp.close()


def _shut(smtp: smtplib.SMTP, expired: threading.Event) -> None:
    """End a mail exchange past its deadline, saying so first: any read or write on its socket ends at once."""
    expired.set()
    if smtp.sock is not None:
        try:
            smtp.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


CLASSES = {"dingtalk": DingTalk, "wecom": WeCom, "webhook": Webhook, "email": Email}


def build(name: str, options) -> Channel:
    """The channel ``name`` configured with ``options``."""
    return CLASSES[options.kind](name, options)
