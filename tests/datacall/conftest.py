"""Data calls on the demo enterprise (SQLite, and PostgreSQL when configured), and a real SMTP
server on loopback (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

from bigov.demo import generate
from bigov.workspace import Workspace
from tests.server.conftest import org  # noqa: F401 - the server tests' organisation, for the API


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    """The demo enterprise (seed 42), as `bigov demo` makes it."""
    generate(workspace)
    return workspace


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    sender: str
    to: list[str]
    message: Message


@dataclass
class Sink:
    """What the loopback SMTP server accepted."""

    port: int
    messages: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def recipients(self) -> list[str]:
        return sorted(m.message["To"] for m in self.messages)


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.sink.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """A real SMTP server on a free loopback port for the test's duration."""
    from aiosmtpd.controller import Controller

    sink = Sink(free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
