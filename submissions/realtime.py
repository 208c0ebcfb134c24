"""Real-time X12 exchange with a clearinghouse: the adapter interface and the CAQH CORE
connectivity implementation (HTTP MIME multipart over HTTPS, user name and password and/or a TLS
client certificate).

CORE connectivity (Phase II Connectivity Rule, vC2.2.0): the request is a multipart/form-data
POST with the fields PayloadType, ProcessingMode, PayloadID, TimeStamp, UserName, Password,
SenderID, ReceiverID, CORERuleVersion and Payload; the answer is multipart/form-data with the same
envelope fields, the Payload and ErrorCode / ErrorMessage ("Success" when the payload is the
answer)."""

from __future__ import annotations

import email.parser
import email.policy
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import requests

CORE_RULE_VERSION = "2.2.0"
PAYLOAD_270 = "X12_270_Request_005010X279A1"
PAYLOAD_271 = "X12_271_Response_005010X279A1"
PAYLOAD_276 = "X12_276_Request_005010X212"
PAYLOAD_277 = "X12_277_Response_005010X212"


class RealtimeError(Exception):
    """No usable answer. `status` is the eligibility request's: "no_answer" (timeouts, the
    connection refused, after the retries) or "error" (the server refused or answered wrong)."""

    def __init__(self, status: str, message: str, raw_response: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.raw_response = raw_response


class RealtimeAdapter(Protocol):
    def exchange(self, payload: str, *, payload_id: str, now: datetime) -> str:
        """Send one X12 request and return the X12 answer, or raise RealtimeError."""
        ...


def core_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The named fields of a multipart/form-data body (a CORE request or answer)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    out = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)
            out[str(name)] = (
                payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            )
    return out


@dataclass(frozen=True)
class CoreMimeTransport:
    url: str
    username: str
    password: str
    sender_id: str
    receiver_id: str
    timeout: float
    retries: int
    verify: str | bool = True
    # The CORE payload types of the exchange: eligibility (270/271) or claim status (276/277).
    request_payload_type: str = PAYLOAD_270
    response_payload_type: str = PAYLOAD_271
    # TLS client authentication: the certificate and its private key (PEM), decrypted only for
    # the request and written to a private temporary folder that is removed after it.
    client_cert: str = ""
    client_key: str = ""

    def _request_fields(self, payload: str, payload_id: str, now: datetime) -> dict[str, str]:
        return {
            "PayloadType": self.request_payload_type,
            "ProcessingMode": "RealTime",
            "PayloadID": payload_id,
            "TimeStamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "UserName": self.username,
            "Password": self.password,
            "SenderID": self.sender_id,
            "ReceiverID": self.receiver_id,
            "CORERuleVersion": CORE_RULE_VERSION,
            "Payload": payload,
        }

    def exchange(self, payload: str, *, payload_id: str, now: datetime) -> str:
        if not self.client_cert:
            return self._exchange(payload, payload_id=payload_id, now=now, cert=None)
        # requests (and ssl) read a client certificate only from files: a folder only this
        # process's user can read, removed as soon as the exchange ends.
        with tempfile.TemporaryDirectory(prefix="core-") as folder:
            cert_path, key_path = Path(folder) / "client.crt", Path(folder) / "client.key"
            for path, text in ((cert_path, self.client_cert), (key_path, self.client_key)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(text)
            return self._exchange(
                payload, payload_id=payload_id, now=now, cert=(str(cert_path), str(key_path))
            )

    def _exchange(
        self, payload: str, *, payload_id: str, now: datetime, cert: tuple[str, str] | None
    ) -> str:
        files = {k: (None, v) for k, v in self._request_fields(payload, payload_id, now).items()}
        attempts = self.retries + 1
        last = ""
        for _ in range(attempts):
            try:
                response = requests.post(
                    self.url, files=files, timeout=self.timeout, verify=self.verify, cert=cert
                )
            except requests.Timeout:
                last = f"no answer within {self.timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                last = f"could not connect ({type(exc).__name__})"
                continue
            if response.status_code >= 500:
                last = f"the server failed (HTTP {response.status_code})"
                continue
            if response.status_code >= 400:
                raise RealtimeError(
                    "error",
                    f"The clearinghouse refused the request (HTTP {response.status_code}"
                    f"{': ' + response.reason if response.reason else ''}).",
                    response.text[:10_000],
                )
            return self._answer(response)
        status = "error" if last.startswith("the server failed") else "no_answer"
        raise RealtimeError(
            status, f"The clearinghouse gave no answer after {attempts} attempt(s): {last}."
        )

    def _answer(self, response: requests.Response) -> str:
        try:
            fields = core_fields(response.content, response.headers.get("Content-Type", ""))
        except ValueError:
            raise RealtimeError(
                "error",
                "The clearinghouse's answer is not a CORE MIME multipart envelope.",
                response.text[:10_000],
            ) from None
        code = fields.get("ErrorCode", "")
        if code != "Success":
            raise RealtimeError(
                "error",
                f"The clearinghouse answered ErrorCode {code or '(none)'}: "
                f"{fields.get('ErrorMessage', '')}".rstrip(": "),
                response.text[:10_000],
            )
        expected = self.response_payload_type
        if fields.get("PayloadType") != expected or not fields.get("Payload"):
            raise RealtimeError(
                "error",
                f"The clearinghouse answered PayloadType {fields.get('PayloadType')!r}, "
                f"not a {expected[4:7]}.",
                response.text[:10_000],
            )
        return fields["Payload"]
