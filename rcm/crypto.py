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
