"""How a released claim file reaches the clearinghouse: written to the outbound folder (the
default; billers download it or a sync tool picks it up) or uploaded by SFTP.

Both write under a temporary name and rename, so a half-written file is never picked up.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

from rcm.errors import DomainError


@dataclass(frozen=True)
class Delivery:
    where: str  # a path or sftp://host/path, shown on the batch page


class Sender(Protocol):
    def send(self, *, name: str, content: bytes) -> Delivery: ...


def outbound_folder(org_slug: str, clearinghouse_code: str) -> Path:
    return Path(settings.X12_OUTBOUND_DIR) / org_slug / clearinghouse_code


def inbound_folder(org_slug: str, clearinghouse_code: str) -> Path:
    return Path(settings.X12_INBOUND_DIR) / org_slug / clearinghouse_code


class FolderSender:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, name: str, content: bytes) -> Delivery:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        os.replace(partial, target)
        return Delivery(str(target))


class SftpSender:
    """Upload with paramiko, verifying the server's host key against the one configured."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        host_key: str,
        remote_dir: str,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.host_key, self.remote_dir, self.timeout = host_key.strip(), remote_dir, timeout

    def _client(self):  # type: ignore[no-untyped-def]
        import paramiko

        parts = self.host_key.split()
        if len(parts) < 2:
            raise DomainError(
                "The clearinghouse's SFTP host key is missing: paste the server's public key "
                "('ssh-ed25519 AAAA...') so we know we talk to the right server.",
                field="sftp_host_key",
            )
        client = paramiko.SSHClient()
        key = paramiko.PKey.from_type_string(parts[0], __import__("base64").b64decode(parts[1]))
        host_name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        client.get_host_keys().add(host_name, key.get_name(), key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        return client

    def send(self, *, name: str, content: bytes) -> Delivery:
        import paramiko

        client = self._client()
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                look_for_keys=False,
                allow_agent=False,
                timeout=self.timeout,
            )
            sftp = client.open_sftp()
            directory = self.remote_dir.rstrip("/") or "."
            partial, target = f"{directory}/.{name}.part", f"{directory}/{name}"
            sftp.putfo(io.BytesIO(content), partial)
            sftp.posix_rename(partial, target)
            sftp.close()
        except (paramiko.SSHException, OSError) as error:
            raise DomainError(
                f"The SFTP upload to {self.host}:{self.port} failed: {error}", field="transport"
            ) from error
        finally:
            client.close()
        return Delivery(f"sftp://{self.host}:{self.port}/{target}")


class DemoSftpSender(FolderSender):
    """Demo mode (settings.X12_SFTP_DEMO_DIR): the SFTP upload lands in a local folder standing
    for the server's, <demo dir>/<host>/<remote dir>/, with the same write-then-rename."""

    def __init__(self, root: Path, host: str, remote_dir: str) -> None:
        super().__init__(root / host / (remote_dir.strip("/") or "."))
        self.host = host

    def send(self, *, name: str, content: bytes) -> Delivery:
        delivered = super().send(name=name, content=content)
        return Delivery(f"sftp (demo mode) {self.host}: {delivered.where}")


def sender_for(clearinghouse, org_slug: str) -> Sender:  # type: ignore[no-untyped-def]
    demo_dir = getattr(settings, "X12_SFTP_DEMO_DIR", "")
    if clearinghouse.transport == "sftp" and demo_dir:
        return DemoSftpSender(
            Path(demo_dir), clearinghouse.sftp_host, clearinghouse.sftp_remote_dir
        )
    if clearinghouse.transport == "sftp":
        password = os.environ.get(clearinghouse.sftp_password_env, "")
        if not clearinghouse.sftp_password_env or not password:
            raise DomainError(
                f"The SFTP password for {clearinghouse.name} is not set: put it in the "
                f"environment variable {clearinghouse.sftp_password_env or '(none named)'}.",
                field="sftp_password_env",
            )
        return SftpSender(
            host=clearinghouse.sftp_host,
            port=clearinghouse.sftp_port,
            username=clearinghouse.sftp_username,
            password=password,
            host_key=clearinghouse.sftp_host_key,
            remote_dir=clearinghouse.sftp_remote_dir,
        )
    return FolderSender(outbound_folder(org_slug, clearinghouse.code))
