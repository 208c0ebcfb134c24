"""Credentials encrypted at rest: Fernet (the `cryptography` package) with settings.CREDENTIALS_KEY."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from rcm.errors import DomainError


def _fernet() -> Fernet:
    return Fernet(settings.CREDENTIALS_KEY.encode())


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The secret back; a token from another key (the key was changed) is a clear error."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DomainError(
            "The stored credential cannot be read with the current key; enter it again.",
            field="core_password",
        ) from exc


def encrypt_text(text: str) -> str:
    """PHI kept at rest (a raw 270/271): encrypted, or empty for an empty text."""
    return encrypt(text) if text else ""


def decrypt_text(token: str) -> str:
    """The text back; empty stays empty. A token the current key cannot read (the key was
    changed) reads as a note saying so rather than failing the page that shows it."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return "(encrypted with an earlier key; cannot be read)"
