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
from rcm.tenancy.forms import ApiKeyForm, MemberAddForm, MemberEditForm, OrganizationSettingsForm
from rcm.tenancy.http import OrgRequest
from rcm.tenancy.models import ApiKey, Membership
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
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_add(**form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, f"{membership.user.email} added as {membership.get_role_display()}."
            )
            return redirect(org_reverse(request, "tenancy:members"))
    return render(
        request, "tenancy/members.html", {"form": form, "memberships": selectors.membership_list()}
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
    return render(request, "tenancy/member_edit.html", {"form": form, "membership": membership})


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
