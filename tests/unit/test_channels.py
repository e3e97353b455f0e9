"""Notification channels against loopback servers: DingTalk's signed webhook, WeCom, a generic webhook, SMTP;
secrets kept out of errors; a hostile webhook or mail server bounded in time and size."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time

import pytest

from dashboard.command import channels
from dashboard.command.channels import ChannelError, Message, Recipient
from tests.loopback_http import Reply, serve
from tests.loopback_smtp import serve_smtp

TOKEN = "0123456789abcdef-robot-token"
SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NOW_MS = 1_765_000_000_000
ZHANG = Recipient("zhang.wei", "Zhang Wei", "zhang.wei@example.com", "13800000001")
MESSAGE = Message("[P1] INC1 Order gateway down", "Service: order-gateway", (ZHANG,), {"incident_id": "INC1"})
OK = Reply({"errcode": 0, "errmsg": "ok"})


def channel(kind: str, **options) -> channels.Channel:
    return channels.build(f"ops-{kind}", channels.model_of(kind).model_validate({"kind": kind, **options}))


def test_dingtalk_signs_the_webhook_and_mentions_who_is_on_duty():
    with serve(lambda request, base: OK) as (base, seen):
        channel("dingtalk", url=f"{base}/robot/send?access_token={TOKEN}", secret=SECRET).send(MESSAGE, NOW_MS)
    (request,) = seen
    assert request.path == "/robot/send" and request.query["access_token"] == TOKEN
    assert request.query["timestamp"] == str(NOW_MS)
    expected = hmac.new(SECRET.encode(), f"{NOW_MS}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(request.query["sign"]) == expected
    assert request.body["msgtype"] == "text" and request.body["at"] == {"atMobiles": ["13800000001"]}
    assert request.body["text"]["content"].startswith("[P1] INC1 Order gateway down\nService: order-gateway")
    assert "@13800000001" in request.body["text"]["content"]


def test_the_sign_is_url_encoded_in_the_query():
    url = channels.signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", SECRET, NOW_MS)
    sign = channels.dingtalk_sign(SECRET, NOW_MS)
    assert url.endswith(f"&timestamp={NOW_MS}&sign=" + sign.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"))


def test_a_robot_that_refuses_the_message_fails_the_send_without_its_secrets():
    refused = Reply({"errcode": 310000, "errmsg": f"sign not match, more: token {TOKEN}"})
    with serve(lambda request, base: refused) as (base, _):
        dingtalk = channel("dingtalk", url=f"{base}/robot/send?access_token={TOKEN}", secret=SECRET)
        with pytest.raises(ChannelError, match="errcode 310000") as caught:
            dingtalk.send(MESSAGE, NOW_MS)
    assert TOKEN not in str(caught.value) and SECRET not in str(caught.value)


def test_wecom_sends_text_mentioning_by_mobile():
    with serve(lambda request, base: OK) as (base, seen):
        channel("wecom", url=f"{base}/cgi-bin/webhook/send?key={TOKEN}").send(MESSAGE, NOW_MS)
    (request,) = seen
    assert request.query == {"key": TOKEN}
    assert request.body["msgtype"] == "text"
    assert request.body["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "Order gateway down" in request.body["text"]["content"]


def test_the_generic_webhook_posts_json_with_its_bearer_token():
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        channel("webhook", url=f"{base}/hooks/opscenter", bearer_token=TOKEN).send(MESSAGE, NOW_MS)
    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.body["title"] == MESSAGE.title and request.body["incident_id"] == "INC1"
    assert request.body["recipients"][0]["id"] == "zhang.wei"


def test_secrets_in_the_url_never_reach_an_error():
    echo = lambda request, base: Reply({"error": f"bad key in {request.path}?{request.query}"}, status=500)  # noqa: E731
    with serve(echo) as (base, _):
        hook = channel("webhook", url=f"{base}/hooks/{TOKEN}")
        with pytest.raises(ChannelError, match="HTTP 500") as caught:
            hook.send(MESSAGE, NOW_MS)
        wecom = channel("wecom", url=f"{base}/cgi-bin/webhook/send?key={TOKEN}")
        with pytest.raises(ChannelError, match="HTTP 500") as also:
            wecom.send(MESSAGE, NOW_MS)
    assert TOKEN not in str(caught.value) and TOKEN not in str(also.value)


def test_a_hostile_webhook_is_bounded():
    release = threading.Event()

    def hostile(request, base):
        if request.path == "/slow":
            release.wait(30)
            return OK
        if request.path == "/huge":
            return Reply(b"[" + b"0," * 600_000 + b"0]")
        return Reply({}, status=302, headers={"Location": f"{elsewhere}/steal"})

    with serve(lambda request, base: OK) as (elsewhere, stolen), serve(hostile) as (base, _):
        started = time.monotonic()
        with pytest.raises(ChannelError, match="timed out after 1 s"):
            channel("webhook", url=f"{base}/slow", timeout_s=1).send(MESSAGE, NOW_MS)
        assert time.monotonic() - started < 10
        release.set()
        with pytest.raises(ChannelError, match="larger than the limit"):
            channel("webhook", url=f"{base}/huge").send(MESSAGE, NOW_MS)
        with pytest.raises(ChannelError, match="refusing a redirect"):
            channel("webhook", url=f"{base}/redirect", bearer_token=TOKEN).send(MESSAGE, NOW_MS)
    assert stolen == []


def test_email_reaches_the_people_on_duty_and_the_fixed_addresses():
    with serve_smtp() as (port, inbox):
        mail = channel(
            "email", host="127.0.0.1", port=port, starttls=False, sender="opscenter@example.com", to=["noc@example.com"]
        )
        mail.send(MESSAGE, NOW_MS)
    (received,) = inbox.mails
    assert received.sender == "opscenter@example.com"
    assert sorted(received.recipients) == ["noc@example.com", "zhang.wei@example.com"]
    assert received.message["Subject"] == MESSAGE.title
    assert "Service: order-gateway" in received.message.get_content()


def test_a_mail_server_that_never_answers_is_cut_at_the_deadline():
    hang = threading.Event()
    with serve_smtp(greeting_delay=hang) as (port, inbox):
        mail = channel("email", host="127.0.0.1", port=port, starttls=False, sender="o@example.com", timeout_s=1)
        started = time.monotonic()
        with pytest.raises(ChannelError, match="timed out"):
            mail.send(MESSAGE, NOW_MS)
        assert time.monotonic() - started < 10
    assert inbox.mails == []


def test_email_with_nobody_to_write_to_fails():
    mail = channel("email", host="127.0.0.1", port=1, starttls=False, sender="o@example.com")
    with pytest.raises(ChannelError, match="nobody to write to"):
        mail.send(Message("t", "x", (Recipient("li", "Li"),)), NOW_MS)


def test_a_login_failure_names_no_password():
    with serve_smtp() as (port, _):
        mail = channel(
            "email", host="127.0.0.1", port=port, starttls=False, sender="o@example.com", username="u", password=SECRET
        )
        with pytest.raises(ChannelError) as caught:
            mail.send(MESSAGE, NOW_MS)
    assert SECRET not in str(caught.value)
