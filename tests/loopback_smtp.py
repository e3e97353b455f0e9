"""A minimal SMTP server on loopback (no TLS, no auth) that keeps what it receives, for the e-mail channel."""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    mails: list[Mail] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)


def _address(argument: str) -> str:
    return argument.split(":", 1)[1].strip().strip("<>").split(">")[0]


@contextmanager
def serve_smtp(greeting_delay: threading.Event | None = None):
    """Serve SMTP on a free loopback port; yield (port, inbox). With ``greeting_delay`` the server says
    nothing until the event is set (a server that hangs)."""
    inbox = Inbox()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            if greeting_delay is not None:
                greeting_delay.wait(30)
                return
            self.reply("220 loopback ESMTP")
            sender, recipients = "", []
            while line := self.rfile.readline():
                verb = line.decode("ascii", "replace").strip()
                command = verb[:4].upper()
                if command in ("EHLO", "HELO"):
                    self.reply("250 loopback")
                elif command == "MAIL":
                    sender, recipients = _address(verb), []
                    self.reply("250 ok")
                elif command == "RCPT":
                    recipients.append(_address(verb))
                    self.reply("250 ok")
                elif command == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    inbox.mails.append(Mail(sender, recipients, message_from_bytes(bytes(data), policy=policy.default)))
                    inbox.received.set()
                    self.reply("250 queued")
                elif command == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], inbox
    finally:
        if greeting_delay is not None:
            greeting_delay.set()
        server.shutdown()
        server.server_close()
