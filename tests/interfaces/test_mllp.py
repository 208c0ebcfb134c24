"""The MLLP listener: a real TCP server on a free port of 127.0.0.1, a real framed message
(0x0B ... 0x1C 0x0D) over a socket, the ACK framed back on the same connection; the same
processing as over HTTPS (one charge for a message sent twice, AR for a wrong version)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from claims.models import ServiceEntry
from interfaces.mllp import END, START, MllpServer, frame, frames
from interfaces.models import Channel, Hl7Message
from rcm.tenancy.context import tenant_context
from tests.claims.conftest import Practice, at, dos
from tests.interfaces.messages import ack_fields, dft


@pytest.fixture
def listener(practice: Practice) -> Iterator[tuple[str, int]]:
    server = MllpServer(("127.0.0.1", 0), organization=practice.org, scopes=frozenset())
    thread = threading.Thread(target=server.serve, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        connections.close_all()


def _exchange(sock: socket.socket, payload: bytes) -> str:
    sock.sendall(payload)
    received = bytearray()
    while not received.endswith(END):
        chunk = sock.recv(65536)
        assert chunk, "the listener closed the connection"
        received.extend(chunk)
    assert received.startswith(START)
    return received[1:-2].decode()


def _session(practice: Practice, control_id: str, **kwargs: Any) -> str:
    start = at(dos(), 9)
    return dft(control_id, start=start, end=start + timedelta(minutes=55),
               npi=practice.provider.npi, **kwargs)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_framed_dft_over_a_socket_is_charged_once_and_acked(
    practice: Practice, listener: tuple[str, int]
) -> None:
    with socket.create_connection(listener, timeout=10) as sock:
        first = _exchange(sock, frame(_session(practice, "MLLP1")))
        # The same message again, split across two TCP writes: the same ACK, no second charge.
        payload = frame(_session(practice, "MLLP1"))
        sock.sendall(payload[:17])
        again = _exchange(sock, payload[17:])
        wrong = _exchange(sock, frame(_session(practice, "MLLP2", version="2.1")))
    assert ack_fields(first)["MSA"][1:3] == ["AA", "MLLP1"]
    assert again == first
    assert ack_fields(wrong)["MSA"][1] == "AR" and ack_fields(wrong)["ERR"][2] == "MSH^1^12"
    with tenant_context(practice.org):
        assert ServiceEntry.objects.count() == 1
        assert Hl7Message.objects.get().channel == Channel.MLLP


def test_frames_are_cut_at_the_end_block_and_a_partial_one_waits() -> None:
    buffer = bytearray(b"\x0bMSH|one\x1c\x0d\x0bMSH|two\x1c\x0d\x0bMSH|thr")
    assert list(frames(buffer)) == [b"MSH|one", b"MSH|two"]
    assert bytes(buffer) == b"\x0bMSH|thr"


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_organization(practice: Practice) -> None:
    with pytest.raises(CommandError, match="No active organization 'nowhere'"):
        call_command("hl7_mllp", "--port", "2575", "--organization", "nowhere")
    with pytest.raises(CommandError, match="--port"):
        call_command("hl7_mllp", "--port", "0", "--organization", "riverbend")
