"""A real SMTP server (aiosmtpd) on a free loopback port, with Django's SMTP
backend pointed at it: mail sent by the code under test arrives for real.
Test modules import the fixture: ``from support.smtp import smtp``."""

from __future__ import annotations

import email
import socket
from collections import Counter
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings


class Inbox:
    """aiosmtpd handler: keeps every message it accepts; refuses listed recipients."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]

    def recipients(self) -> Counter:
        return Counter(rcpt for rcpts, _ in self.messages for rcpt in rcpts)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=10,
            DEFAULT_FROM_EMAIL="cloudjudge@city.example.jp",
            CLOUDJUDGE_BASE_URL="https://cloudjudge.city.example.jp/",
        ):
            yield inbox
    finally:
        controller.stop()
