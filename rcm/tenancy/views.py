"""Pages of the tenancy app: choosing an organization, its settings, members and API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy import selectors, services
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.forms import ApiKeyForm, InvitationForm, MemberEditForm, OrganizationSettingsForm
from rcm.tenancy.http import OrgRequest, request_now
from rcm.tenancy.models import ApiKey, Invitation, Membership
from rcm.tenancy.templatetags.org_urls import org_reverse


@login_required
def choose_organization(request: HttpRequest) -> HttpResponse:
    """The landing page: straight into the only organization, or a choice between several."""
    memberships = selectors.memberships_of_user(user=request.user)
    if len(memberships) == 1:
        return redirect("org_home", org_slug=memberships[0].organization.slug)
    return render(request, "tenancy/choose.html", {"memberships": memberships})


def org_home(request: OrgRequest) -> HttpResponse:
    counts = {"members": selectors.membership_list().filter(is_active=True).count()}
    return render(request, "tenancy/org_home.html", {"counts": counts})


@require_scope("org:admin")
def organization_settings(request: OrgRequest) -> HttpResponse:
    org = request.organization
    form = OrganizationSettingsForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        org.refresh_from_db()
        try:
            services.organization_update(organization=org, data=data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect(org_reverse(request, "tenancy:settings"))
    return render(request, "tenancy/settings.html", {"form": form})


@require_scope("org:admin")
def member_list(request: OrgRequest) -> HttpResponse:
    """Members, pending invitations, and the invitation form (which answers the same whether or
    not the address has a Parity account)."""
    now = request_now(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                invited_by=request.user, now=now, **form.cleaned_data
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect(org_reverse(request, "tenancy:members"))
    memberships = list(selectors.membership_list())
    locked = selectors.locked_out_emails([m.user.email.lower() for m in memberships], now=now)
    for m in memberships:
        m.locked_out = m.user.email.lower() in locked  # type: ignore[attr-defined]
    invitations = list(selectors.invitation_list())
    for i in invitations:
        i.status = i.status_at(now)  # type: ignore[attr-defined]
    return render(
        request,
        "tenancy/members.html",
        {"form": form, "memberships": memberships, "invitations": invitations},
    )


@require_scope("org:admin")
def member_edit(request: OrgRequest, pk: str) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    initial = {
        "role": membership.role,
        "part2_access": membership.part2_access,
        "is_active": membership.is_active,
    }
    form = MemberEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(membership=membership, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{membership.user.email} updated.")
            return redirect(org_reverse(request, "tenancy:members"))
    locked = bool(
        selectors.locked_out_emails([membership.user.email.lower()], now=request_now(request))
    )
    return render(
        request,
        "tenancy/member_edit.html",
        {"form": form, "membership": membership, "locked_out": locked},
    )


@require_POST
@require_scope("org:admin")
def member_unlock(request: OrgRequest, pk: str) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    services.member_unlock(membership=membership)
    messages.success(request, f"{membership.user.email} may sign in again.")
    return redirect(org_reverse(request, "tenancy:member_edit", pk=membership.pk))


@require_POST
@require_scope("org:admin")
def member_force_password_reset(request: OrgRequest, pk: str) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    services.member_force_password_reset(membership=membership, actor=request.user)
    messages.success(
        request,
        f"{membership.user.email} is signed out everywhere and must choose a new password: "
        "a reset link is on its way to them.",
    )
    return redirect(org_reverse(request, "tenancy:member_edit", pk=membership.pk))


@require_POST
@require_scope("org:admin")
def invitation_resend(request: OrgRequest, pk: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    services.invitation_resend(invitation=invitation, now=request_now(request))
    messages.success(request, f"Invitation sent to {invitation.email} again.")
    return redirect(org_reverse(request, "tenancy:members"))


@require_POST
@require_scope("org:admin")
def invitation_revoke(request: OrgRequest, pk: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk)
    services.invitation_revoke(invitation=invitation, now=request_now(request))
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect(org_reverse(request, "tenancy:members"))


@require_scope("org:admin")
def api_key_list(request: OrgRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = None
    now = selectors.organization_now(request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = services.api_key_create(
                created_by=request.user, now=now, **form.cleaned_data
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "tenancy/api_keys.html",
        {"form": form, "keys": selectors.api_key_list(), "new_key": new_key, "now": now},
    )


@require_POST
@require_scope("org:admin")
def api_key_revoke(request: OrgRequest, pk: str) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    services.api_key_revoke(key=key)
    messages.success(request, f"Key {key.name} ({key.prefix}…) revoked.")
    return redirect(org_reverse(request, "tenancy:api_keys"))
