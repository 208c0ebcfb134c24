"""A real SFTP server for the transport tests: paramiko's server classes on 127.0.0.1, a random
port, password authentication and a temporary root folder."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paramiko


class _Server(paramiko.ServerInterface):
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def check_auth_password(self, username: str, password: str) -> int:
        if (username, password) == (self.username, self.password):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self):  # type: ignore[no-untyped-def]
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.filehandle.fileno()))

    def chattr(self, attr):  # type: ignore[no-untyped-def]
        return paramiko.SFTP_OK


def _sftp_class(root: Path) -> type:
    class _SFTP(paramiko.SFTPServerInterface):
        def _real(self, path: str) -> str:
            real = (root / path.lstrip("/")).resolve()
            if root not in real.parents and real != root:
                raise PermissionError(path)
            return str(real)

        def canonicalize(self, path: str) -> str:
            return "/" + path.lstrip("/")

        def open(self, path, flags, attr):  # type: ignore[no-untyped-def]
            try:
                fd = os.open(self._real(path), flags | getattr(os, "O_BINARY", 0), 0o600)
                handle = _Handle(flags)
                handle.filehandle = os.fdopen(fd, "wb" if flags & os.O_WRONLY else "rb")
                handle.readfile = handle.writefile = handle.filehandle
                return handle
            except OSError as error:
                return paramiko.SFTPServer.convert_errno(error.errno)

        def stat(self, path):  # type: ignore[no-untyped-def]
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
            except OSError as error:
                return paramiko.SFTPServer.convert_errno(error.errno)

        lstat = stat

        def rename(self, oldpath, newpath):  # type: ignore[no-untyped-def]
            os.replace(self._real(oldpath), self._real(newpath))
            return paramiko.SFTP_OK

        posix_rename = rename

        def list_folder(self, path):  # type: ignore[no-untyped-def]
            real = self._real(path)
            return [
                paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(real, n)), n)
                for n in os.listdir(real)
            ]

    return _SFTP


@dataclass
class SftpServer:
    host: str
    port: int
    username: str
    password: str
    host_key: str  # "ssh-rsa AAAA..."
    root: Path


@contextmanager
def sftp_server(
    root: Path,
    *,
    username: str = "parity",
    password: str = "s3cret",  # noqa: S107 - a throwaway test server
) -> Iterator[SftpServer]:
    key = paramiko.RSAKey.generate(2048)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    stop = threading.Event()
    transports: list[paramiko.Transport] = []
    sftp_class = _sftp_class(root.resolve())

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, sftp_class)
            transport.start_server(server=_Server(username, password))
            transports.append(transport)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield SftpServer(
            "127.0.0.1", listener.getsockname()[1], username, password,
            f"{key.get_name()} {key.get_base64()}", root,
        )  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for transport in transports:
            transport.close()
