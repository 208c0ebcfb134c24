from __future__ import annotations

import paramiko
import pytest

from rcm import part2
from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from submissions.models import BatchStatus
from submissions.services import batch_build, batch_send, batches_create, clearinghouse_save
from submissions.transport import SftpSender
from tests.submissions.conftest import bill_ready
from tests.submissions.sftp_server import sftp_server


@pytest.fixture
def sftp(tmp_path):
    (tmp_path / "sftp" / "inbound").mkdir(parents=True)
    with sftp_server(tmp_path / "sftp") as server:
        yield server


def test_a_released_batch_is_uploaded_to_the_clearinghouse_sftp_server(billing, sftp, monkeypatch):
    monkeypatch.setenv("CHI_SFTP_PASSWORD", sftp.password)
    with tenant_context(billing.org):
        clearinghouse_save(
            clearinghouse=billing.clearinghouse, transport="sftp", sftp_host=sftp.host,
            sftp_port=sftp.port, sftp_username=sftp.username,
            sftp_password_env="CHI_SFTP_PASSWORD", sftp_host_key=sftp.host_key,
            sftp_remote_dir="inbound",
        )  # fmt: skip
    bill_ready(billing)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.RELEASED
    assert batch.transport_detail.startswith(f"Delivered to sftp://127.0.0.1:{sftp.port}/inbound/")
    uploaded = sftp.root / "inbound" / batch.file_name
    assert uploaded.read_bytes() == batch.content.encode()
    assert [p.name for p in (sftp.root / "inbound").iterdir()] == [batch.file_name]


def test_a_wrong_password_or_host_key_is_reported_and_the_batch_stays_released(
    billing, sftp, monkeypatch
):
    monkeypatch.setenv("CHI_SFTP_PASSWORD", "wrong")
    with tenant_context(billing.org):
        clearinghouse_save(
            clearinghouse=billing.clearinghouse, transport="sftp", sftp_host=sftp.host,
            sftp_port=sftp.port, sftp_username=sftp.username,
            sftp_password_env="CHI_SFTP_PASSWORD", sftp_host_key=sftp.host_key,
        )  # fmt: skip
    bill_ready(billing)
    with tenant_context(billing.org):
        batch = batches_create(scopes=part2.ORGANIZATION, clearinghouse=billing.clearinghouse)[0]
    batch = batch_build(organization_id=billing.org.pk, batch_id=batch.pk)
    assert batch.status == BatchStatus.RELEASED
    assert batch.transport_detail.startswith("Not delivered: The SFTP upload to 127.0.0.1:")
    assert not list((sftp.root / "inbound").iterdir())
    monkeypatch.setenv("CHI_SFTP_PASSWORD", sftp.password)
    with tenant_context(billing.org):
        batch.clearinghouse.refresh_from_db()
        assert batch_send(batch=batch).transport_detail.startswith("Delivered to sftp://")


def test_an_unknown_host_key_is_refused_before_logging_in(sftp):
    other = paramiko.RSAKey.generate(1024)
    sender = SftpSender(
        host=sftp.host, port=sftp.port, username=sftp.username, password=sftp.password,
        host_key=f"{other.get_name()} {other.get_base64()}", remote_dir="inbound",
    )  # fmt: skip
    with pytest.raises(DomainError, match=r"SFTP upload .* failed"):
        sender.send(name="x.x12", content=b"ISA")
    assert not list((sftp.root / "inbound").iterdir())
