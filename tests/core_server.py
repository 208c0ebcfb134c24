"""A real CAQH CORE connectivity server (HTTP MIME multipart over HTTPS) in the test process: a
self-signed certificate made with `cryptography`, http.server + ssl, and 271 answers built from
the hand-written samples with the asking 270's trace number. `mode` picks the behaviour."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from submissions.realtime import PAYLOAD_271, PAYLOAD_276, PAYLOAD_277, core_fields

SAMPLES = Path(__file__).parent / "x12" / "samples" / "271-handwritten"
USERNAME = "riverbend"
PASSWORD = "s3cret-core-pass"


def self_signed(
    folder: Path, common_name: str = "localhost", stem: str = "core"
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class CoreServer:
    url: str
    ca_bundle: str
    mode: str = "benefits"  # benefits, auth_required, inactive, aaa, slow, 500, 401, malformed
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    # Claim status: the 277 answering a 276, with "{trace}" standing for the 276's TRN02.
    answer_277: str = ""
    # With require_client_cert: the client certificate the server trusts (PEM) and its key, and
    # the subject common name of the certificate each request presented.
    client_cert_pem: str = ""
    client_key_pem: str = ""
    client_names: list[str] = field(default_factory=list)


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    return urllib3.encode_multipart_formdata(fields)


def answer_271(mode: str, trace: str) -> str:
    if mode == "inactive":
        text = (SAMPLES / "dependent_inactive.271").read_text().replace("EQ-2026-000418", trace)
        text = text.replace("W555000111", "W123456789")  # the asking coverage's member
        # Our 270 asked about the subscriber: answer at the subscriber level.
        return text
    if mode == "aaa":
        return (SAMPLES / "subscriber_not_found.271").read_text().replace("EQ-2026-000419", trace)
    text = (SAMPLES / "subscriber_behavioral_benefits.271").read_text()
    text = text.replace("EQ-2026-000417", trace)
    if mode == "auth_required":
        text = text.replace("EB*B*IND*MH^A6*PR**27*25*****Y", "EB*B*IND*MH^A6*PR**27*25****Y*Y")
    if mode == "malformed":
        text = text.replace("EB*C*IND*30***23*500", "EB*C*IND*30***23*5X0")
    return text


@contextmanager
def core_server(folder: Path, *, require_client_cert: bool = False) -> Iterator[CoreServer]:
    """The server; with `require_client_cert` the TLS handshake asks for a client certificate
    and refuses a client without the one in `client_cert_pem` (TLS client authentication)."""
    cert, key = self_signed(folder)
    state = CoreServer(url="", ca_bundle=str(cert))
    client_cert = None
    if require_client_cert:
        client_cert, client_key = self_signed(folder, "riverbend-client", "client")
        state.client_cert_pem = client_cert.read_text()
        state.client_key_pem = client_key.read_text()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fields = core_fields(body, self.headers.get("Content-Type", ""))
            state.requests.append(fields)
            peer = self.connection.getpeercert() if require_client_cert else None  # type: ignore[attr-defined]
            if peer:
                subject = dict(item[0] for item in peer["subject"])
                state.client_names.append(subject.get("commonName", ""))
                if fields.get("UserName") == "":
                    # Authenticated by the certificate: no user name and password needed.
                    fields = {**fields, "UserName": USERNAME, "Password": PASSWORD}
            if state.mode == "slow":
                time.sleep(state.delay)
            if state.mode == "500":
                return self._send(500, b"Internal error", "text/plain")
            if state.mode == "401" or (fields.get("UserName"), fields.get("Password")) != (
                USERNAME,
                PASSWORD,
            ):
                return self._send(401, b"Unauthorized", "text/plain")
            if fields.get("PayloadType") == PAYLOAD_276:
                return self._claim_status(fields)
            found = re.search(r"TRN\*1\*([^*~]+)\*", fields.get("Payload", ""))
            trace = found.group(1) if found else ""
            reply, content_type = _multipart(
                {
                    "PayloadType": PAYLOAD_271,
                    "ProcessingMode": "RealTime",
                    "PayloadID": fields.get("PayloadID", str(uuid.uuid4())),
                    "TimeStamp": fields.get("TimeStamp", ""),
                    "SenderID": fields.get("ReceiverID", ""),
                    "ReceiverID": fields.get("SenderID", ""),
                    "CORERuleVersion": "2.2.0",
                    "Payload": answer_271(state.mode, trace),
                    "ErrorCode": "Success",
                    "ErrorMessage": "",
                }
            )
            self._send(200, reply, content_type)

        def _claim_status(self, fields: dict[str, str]) -> None:
            found = re.search(r"TRN\*1\*([^*~]+)", fields.get("Payload", ""))
            reply, content_type = _multipart(
                {
                    "PayloadType": PAYLOAD_277,
                    "ProcessingMode": "RealTime",
                    "PayloadID": fields.get("PayloadID", str(uuid.uuid4())),
                    "TimeStamp": fields.get("TimeStamp", ""),
                    "SenderID": fields.get("ReceiverID", ""),
                    "ReceiverID": fields.get("SenderID", ""),
                    "CORERuleVersion": "2.2.0",
                    "Payload": state.answer_277.replace("{trace}", found.group(1) if found else ""),
                    "ErrorCode": "Success",
                    "ErrorMessage": "",
                }
            )
            self._send(200, reply, content_type)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client gave up (a timeout test)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_cert is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_cert)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}/core"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
