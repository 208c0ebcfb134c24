"""Clearinghouses: the receiver, envelope settings and transport of each one."""

from __future__ import annotations

import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction

from rcm.audit.services import audit_record
from rcm.crypto import encrypt
from rcm.errors import DomainError
from submissions.models import (
    Clearinghouse,
)
from x12.reader import Separators, X12Error
from x12.writer import SegmentWriter

# --- Clearinghouses ------------------------------------------------------------------------------


CLEARINGHOUSE_FIELDS = [
    "name",
    "code",
    "receiver_name",
    "receiver_id",
    "receiver_qualifier",
    "submitter_id",
    "submitter_qualifier",
    "contact_name",
    "contact_phone",
    "usage",
    "element_separator",
    "component_separator",
    "repetition_separator",
    "segment_terminator",
    "line_break_after_segment",
    "transport",
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_password_env",
    "sftp_host_key",
    "sftp_remote_dir",
    "realtime_transport",
    "core_url",
    "core_username",
    "realtime_timeout_seconds",
    "realtime_retries",
    "claim_status_batch",
    "claim_status_realtime",
    "is_active",
]


def _clearinghouse_check(ch: Clearinghouse) -> None:
    try:
        SegmentWriter(_separators(ch))
    except X12Error as error:
        raise DomainError(error.message, field="element_separator") from error
    for name in ("receiver_id", "submitter_id"):
        value = getattr(ch, name)
        seps = _separators(ch)
        chars = {seps.element, seps.component, seps.repetition, seps.segment}
        if not value.strip() or any(c in value for c in chars):
            raise DomainError(f"Enter a valid {name.replace('_', ' ')}.", field=name)
    if not re.fullmatch(r"\d{10}", ch.contact_phone):
        raise DomainError("The contact phone is ten digits.", field="contact_phone")
    if ch.realtime_transport == "core_mime":
        if not ch.core_url.startswith("https://"):
            raise DomainError("The CORE endpoint must be an https:// address.", field="core_url")
        if not (ch.core_username and ch.core_password_encrypted) and not (
            ch.core_client_cert_encrypted
        ):
            raise DomainError(
                "CAQH CORE needs a user name and a password, or a client certificate.",
                field="core_username",
            )
    if not 1 <= ch.realtime_timeout_seconds <= 120:
        raise DomainError("The timeout is 1 to 120 seconds.", field="realtime_timeout_seconds")
    if ch.claim_status_realtime and ch.realtime_transport != "core_mime":
        raise DomainError(
            "Real-time claim status needs the real-time (CAQH CORE) transport.",
            field="claim_status_realtime",
        )
    if ch.realtime_retries > 5:
        raise DomainError("At most 5 retries.", field="realtime_retries")
    if ch.transport == "sftp" and not (ch.sftp_host and ch.sftp_username and ch.sftp_host_key):
        raise DomainError(
            "SFTP needs a host, a user name and the server's host key.", field="sftp_host"
        )


def _check_client_certificate(cert_pem: str, key_pem: str) -> None:
    """A PEM certificate and the unencrypted PEM private key that belongs to it."""
    if not (cert_pem and key_pem):
        raise DomainError(
            "Enter both the client certificate and its private key.",
            field="core_client_key" if cert_pem else "core_client_cert",
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError as exc:
        raise DomainError(
            "The client certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----).",
            field="core_client_cert",
        ) from exc
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise DomainError(
            "The private key is not an unencrypted PEM private key.", field="core_client_key"
        ) from exc
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    if key.public_key().public_bytes(pem, public) != cert.public_key().public_bytes(pem, public):
        raise DomainError(
            "The private key does not belong to the client certificate.", field="core_client_key"
        )


def clearinghouse_save(
    *,
    clearinghouse: Clearinghouse | None = None,
    core_password: str = "",
    core_client_cert: str = "",
    core_client_key: str = "",
    **data: Any,
) -> Clearinghouse:
    """Create or change a clearinghouse (receiver ids, separators, transport). `core_password`
    and the client certificate and key (PEM, both together) are stored encrypted (rcm.crypto) and
    never shown again; empty keeps the stored ones."""
    ch = clearinghouse or Clearinghouse()
    if core_password:
        ch.core_password_encrypted = encrypt(core_password)
    core_client_cert, core_client_key = core_client_cert.strip(), core_client_key.strip()
    if core_client_cert or core_client_key:
        _check_client_certificate(core_client_cert, core_client_key)
        ch.core_client_cert_encrypted = encrypt(core_client_cert + "\n")
        ch.core_client_key_encrypted = encrypt(core_client_key + "\n")
    unknown = set(data) - set(CLEARINGHOUSE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown field: {', '.join(sorted(unknown))}")
    for key, value in data.items():
        setattr(
            ch, key, value.strip() if isinstance(value, str) and key != "sftp_host_key" else value
        )
    _clearinghouse_check(ch)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ch.save()
        except IntegrityError as error:
            raise DomainError(
                "Another clearinghouse already uses that code.", field="code"
            ) from error
        audit_record(
            action="clearinghouse.save",
            obj=ch,
            detail={
                "fields": sorted(data)
                + (["core_password"] if core_password else [])
                + (["core_client_certificate"] if core_client_cert else [])
            },
        )
    return ch


def _separators(ch: Clearinghouse) -> Separators:
    return Separators(
        ch.element_separator, ch.component_separator, ch.repetition_separator, ch.segment_terminator
    )
