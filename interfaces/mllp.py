"""An MLLP listener (Minimal Lower Layer Protocol, HL7 v2 over TCP) for sites whose interface
engine sends that way: each message arrives framed as 0x0B <message> 0x1C 0x0D and its ACK goes
back framed the same way, on the same connection. One thread per connection (socketserver); every
message goes through `services.hl7_receive`, exactly as over HTTPS.

Run it with `manage.py hl7_mllp --port 2575 --organization <slug>` behind a TLS terminator or on
a private network segment: MLLP itself has no authentication or encryption.
"""

from __future__ import annotations

import socketserver
from collections.abc import Collection, Iterator
from typing import Any

from django.db import close_old_connections

from interfaces.models import Channel
from interfaces.services import hl7_receive
from rcm.audit.context import Actor, acting_as
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.selectors import organization_now

START, END = b"\x0b", b"\x1c\x0d"
# A message larger than this is refused by closing the connection (a sender gone wrong).
MAX_MESSAGE_BYTES = 1_000_000


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def frames(buffer: bytearray) -> Iterator[bytes]:
    """Take every complete frame out of `buffer` (what is left is a partial frame)."""
    while True:
        end = buffer.find(END)
        if end < 0:
            return
        start = buffer.find(START, 0, end)
        block = bytes(buffer[start + 1 if start >= 0 else 0 : end])
        del buffer[: end + len(END)]
        yield block


def _decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")  # HL7 v2's default character set


class _Handler(socketserver.BaseRequestHandler):
    server: MllpServer

    def handle(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                buffer.extend(chunk)
                for block in frames(buffer):
                    self.request.sendall(frame(self.server.receive(_decode(block))))
                if len(buffer) > MAX_MESSAGE_BYTES:
                    return
        finally:
            close_old_connections()


class MllpServer(socketserver.ThreadingTCPServer):
    """Receives for one organization, with the scopes given when it starts (Part 2 only when the
    site says this feed may carry it)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], *, organization: Organization, scopes: Collection[str]
    ) -> None:
        super().__init__(address, _Handler)
        self.organization = organization
        self.scopes = frozenset(scopes)

    def receive(self, raw: str) -> str:
        now = organization_now(self.organization)
        actor = Actor(label=f"mllp:{self.server_address[1]}")
        with acting_as(actor), tenant_context(self.organization):
            receipt = hl7_receive(
                raw=raw, channel=Channel.MLLP, scopes=self.scopes, today=now.date(), now=now
            )
        return receipt.ack

    def serve(self, **kwargs: Any) -> None:
        self.serve_forever(**kwargs)
