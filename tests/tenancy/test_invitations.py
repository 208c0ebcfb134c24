"""Membership by invitation: the owner invites an address, the person accepts by the emailed
link, and only then is there a membership."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from rcm.audit.models import AuditEvent
from rcm.outbox.models import OutboxMessage
from rcm.outbox.services import outbox_process
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Invitation, Membership
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import invitation_create, invitation_token
from tests import clock
from tests.factories import PASSWORD

MEMBERS = "/o/riverbend/settings/members/"
NEW_PASSWORD = "a-long-pass-phrase-9"


def deliver_outbox(org: Any) -> None:
    """Run the organization's pending outbox messages now (the relay's job)."""
    with tenant_context(org):
        pending = list(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True))
    for pk in pending:
        with tenant_context(org):
            outbox_process(message_id=pk, now=clock.now() + timedelta(minutes=1))


def link_in(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def invite(org: Any, email: str, *, sent_days_ago: int = 0, role: str = Role.BILLER) -> Invitation:
    """An invitation sent `sent_days_ago` days before the suite's frozen instant."""
    with tenant_context(org):
        return invitation_create(
            email=email,
            role=role,
            part2_access=False,
            invited_by=None,
            now=clock.now() - timedelta(days=sent_days_ago),
        )


def accept_url(invitation: Invitation) -> str:
    return f"/accounts/invitation/{invitation_token(invitation)}/"


def test_inviting_answers_the_same_for_a_new_and_an_existing_address(
    owner: Any, org: Any, outsider: Any, client_for: Any
) -> None:
    client = client_for(owner)
    answers = []
    for email in ["nobody.yet@example.com", outsider.email]:
        response = client.post(MEMBERS, {"email": email, "role": "biller"})
        assert response.status_code == 302 and response.url == MEMBERS
        shown = [str(m).replace(email, "EMAIL") for m in client.get(MEMBERS).context["messages"]]
        answers.append(shown)
    assert answers[0] == answers[1] == ["Invitation sent to EMAIL."]
    with tenant_context(org):
        assert not Membership.objects.filter(user=outsider).exists()  # not until they accept
        assert Invitation.objects.count() == 2
        assert AuditEvent.objects.filter(action="invitation.create").count() == 2
    deliver_outbox(org)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["nobody.yet@example.com", outsider.email]
    )
    assert all("Riverbend Recovery Center" in m.subject for m in mail.outbox)


def test_a_new_person_accepts_sets_a_password_and_lands_in_the_organization(
    owner: Any, org: Any
) -> None:
    invite(org, "Nina@Example.com")
    deliver_outbox(org)
    url = link_in(mail.outbox[0])
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and "Create account and join" in page.content.decode()
    weak = client.post(
        url, {"first_name": "Nina", "last_name": "Ng", "password1": "short", "password2": "short"}
    )
    assert weak.status_code == 200 and weak.context["form"].errors["password1"]
    assert not get_user_model().objects.filter(email="nina@example.com").exists()
    response = client.post(
        url,
        {
            "first_name": "Nina",
            "last_name": "Ng",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response.url == "/o/riverbend/"
    assert client.get("/o/riverbend/").status_code == 200  # signed in, a member
    user = get_user_model().objects.get(email="nina@example.com")
    assert user.check_password(NEW_PASSWORD) and user.get_full_name() == "Nina Ng"
    with tenant_context(org):
        membership = Membership.objects.get(user=user)
        assert membership.role == Role.BILLER
        assert Invitation.objects.get().accepted_by == user
        accepted = AuditEvent.objects.get(action="invitation.accept")
        assert accepted.detail["new_user"] is True
        assert AuditEvent.objects.filter(
            action="membership.create", object_id=str(membership.pk)
        ).exists()
    # The link is used up: a second use says so and changes nothing.
    again = Client().get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_existing_user_must_sign_in_as_themselves_to_accept(
    owner: Any, org: Any, outsider: Any, biller: Any, client_for: Any
) -> None:
    invitation = invite(org, outsider.email, role=Role.MANAGER)
    url = accept_url(invitation)
    anonymous = Client().get(url)
    assert "Sign in to accept" in anonymous.content.decode()
    assert "Create account" not in anonymous.content.decode()

    # Someone else, signed in, cannot take the invitation.
    other = client_for(biller)
    assert "sent to another email address" in other.get(url).content.decode()
    other.post(url)
    with tenant_context(org):
        assert not Membership.objects.filter(user=outsider).exists()
        assert Invitation.objects.get().accepted_at is None

    # The invited person signs in, comes back to the link, and accepts.
    client = Client()
    signed_in = client.post(
        f"/accounts/login/?next={url}",
        {"username": outsider.email, "password": PASSWORD, "next": url},
    )
    assert signed_in.status_code == 302 and signed_in.url == url
    response = client.post(url)
    assert response.status_code == 302 and response.url == "/o/riverbend/"
    with tenant_context(org):
        assert Membership.objects.get(user=outsider).role == Role.MANAGER
        assert AuditEvent.objects.get(action="invitation.accept").detail["new_user"] is False


def test_expired_revoked_superseded_and_forged_links_are_refused(
    owner: Any, org: Any, client_for: Any
) -> None:
    expired = invite(org, "late@example.com", sent_days_ago=8)
    response = Client().get(accept_url(expired))
    assert response.status_code == 410 and "has expired" in response.content.decode()

    revoked = invite(org, "gone@example.com")
    url = accept_url(revoked)
    assert (
        client_for(owner)
        .post(f"/o/riverbend/settings/invitations/{revoked.pk}/revoke/")
        .status_code
        == 302
    )
    for method in ("get", "post"):
        response = getattr(Client(), method)(
            url,
            {
                "first_name": "G",
                "last_name": "O",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 410
        assert "withdrawn" in response.content.decode()
    assert not get_user_model().objects.filter(email="gone@example.com").exists()
    with tenant_context(org):
        assert AuditEvent.objects.filter(action="invitation.revoke").count() == 1

    resent = invite(org, "again@example.com")
    old_url = accept_url(resent)
    client_for(owner).post(f"/o/riverbend/settings/invitations/{resent.pk}/resend/")
    resent.refresh_from_db()
    assert Client().get(old_url).status_code == 404  # replaced by the newer link
    assert Client().get(accept_url(resent)).status_code == 200

    assert Client().get("/accounts/invitation/not-a-token/").status_code == 404


def test_owners_see_pending_invitations_and_a_second_invite_is_refused(
    owner: Any, org: Any, client_for: Any
) -> None:
    invite(org, "pending@example.com")
    client = client_for(owner)
    page = client.get(MEMBERS).content.decode()
    assert "pending@example.com" in page and "Pending" in page
    response = client.post(MEMBERS, {"email": "pending@example.com", "role": "biller"})
    assert response.status_code == 200
    assert "already pending" in response.content.decode()


def test_another_tenant_cannot_see_resend_or_revoke_an_invitation(
    owner: Any, org: Any, outsider: Any, other_org: Any, client_for: Any
) -> None:
    invitation = invite(org, "private@example.com")
    client = client_for(outsider)
    assert (
        "private@example.com" not in client.get("/o/harborview/settings/members/").content.decode()
    )
    for action in ("revoke", "resend"):
        response = client.post(f"/o/harborview/settings/invitations/{invitation.pk}/{action}/")
        assert response.status_code == 404
    with tenant_context(org):
        invitation.refresh_from_db()
        assert invitation.revoked_at is None
        assert not AuditEvent.objects.filter(
            action__in=["invitation.revoke", "invitation.resend"]
        ).exists()


def test_a_non_owner_cannot_invite(biller: Any, client_for: Any) -> None:
    response = client_for(biller).post(MEMBERS, {"email": "x@example.com", "role": "owner"})
    assert response.status_code == 403


@pytest.mark.parametrize("password", ["short", "password1234", "123456789012"])
def test_weak_passwords_are_refused_when_accepting(password: str, owner: Any, org: Any) -> None:
    url = accept_url(invite(org, "new@riverbend.example"))
    response = Client().post(
        url, {"first_name": "N", "last_name": "P", "password1": password, "password2": password}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not get_user_model().objects.filter(email="new@riverbend.example").exists()
