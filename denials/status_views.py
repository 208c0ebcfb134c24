"""Claim status pages: "Check status" on a claim (a panel of the claim page, which lives in a
lower layer, loaded by htmx) and on a selection of claims. A real-time answer shows at once; a
batch request shows "waiting for the 277" and the panel refreshes itself until the answer comes.

42 CFR Part 2: the claims come through rcm.part2, so a member without the grant finds a Part 2
claim "not found" and the selection list says how many it left out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from claims.models import Claim
from denials import forms
from denials.claimstatus import claim_status_check, claim_status_inquiries, claims_askable
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse
from submissions.models import ClaimStatusSetting, ClaimStatusState
from submissions.services import claim_status_setting_save

READ, WRITE = "claims:read", "claims:write"
WAITING = (ClaimStatusState.QUEUED, ClaimStatusState.SENT)


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def claim_status_panel(request: OrgRequest, pk: Any) -> HttpResponse:
    """The claim's status answers (GET) and "Check status" (POST) on the claim page."""
    scopes = scopes_of(request)
    try:
        claim = part2.visible(Claim.objects.select_related("payer"), scopes).get(pk=pk)
    except Claim.DoesNotExist:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            claim_status_check(
                claims=[claim], now=request_now(request), today=request_today(request),
                source="ui", actor=request.user,
            )  # fmt: skip
        except DomainError as exc:
            error = exc.message
    audit_read(obj=claim, patient_id=claim.patient_id, part2=claim.is_part2)
    inquiries = list(claim_status_inquiries(scopes=scopes, claim_id=claim.pk)[:10])
    waiting = bool(inquiries) and inquiries[0].request.status in WAITING
    context = {"claim": claim, "inquiries": inquiries, "error": error, "waiting": waiting}
    if not getattr(request, "htmx", False) and request.method == "POST":
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Claim status asked.")
        return redirect(org_reverse(request, "claims:detail", pk=claim.pk))
    return render(request, "denials/_claim_status.html", context, status=400 if error else 200)


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def claim_status_checks(request: OrgRequest) -> HttpResponse:
    """Submitted and accepted claims with when each was last asked about; tick some and "Check
    status" (one 276 per payer)."""
    scopes = scopes_of(request)
    setting_post = request.method == "POST" and "save_setting" in request.POST
    setting_form = forms.ClaimStatusSettingForm(request.POST if setting_post else None)
    if setting_post and setting_form.is_valid():
        data = setting_form.cleaned_data
        try:
            claim_status_setting_save(
                payer=data["payer"], after_days=data["after_days"],
                interval_days=data["interval_days"],
            )  # fmt: skip
        except DomainError as error:
            form_add_domain_error(setting_form, error)
        else:
            messages.success(request, f"Claim status timing saved for {data['payer'].name}.")
            return redirect(org_reverse(request, "denials:claim_status_checks"))
    form = forms.ClaimStatusCheckForm(
        request.POST if request.method == "POST" and not setting_post else None
    )
    if request.method == "POST" and not setting_post and form.is_valid():
        ids = form.cleaned_data["claim_ids"]
        claims = list(claims_askable(scopes=scopes).filter(pk__in=ids))
        try:
            if len(claims) != len(set(ids)):
                raise DomainError(
                    "Some ticked claims cannot be asked about (not found, or not submitted or "
                    "accepted).",
                    field="claim_ids",
                )
            made = claim_status_check(
                claims=claims, now=request_now(request), today=request_today(request),
                source="ui", actor=request.user,
            )  # fmt: skip
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            answered = sum(r.status == ClaimStatusState.ANSWERED for r in made)
            messages.success(
                request,
                f"{len(claims)} claim(s) asked about in {len(made)} request(s); "
                f"{answered} answered at once, the others wait for the payer's 277.",
            )
            return redirect(org_reverse(request, "denials:claim_status_checks"))
    page = Paginator(claims_askable(scopes=scopes), 50).get_page(request.GET.get("page"))
    recent = list(claim_status_inquiries(scopes=scopes)[:20])
    context = {
        "form": form,
        "setting_form": setting_form,
        "settings": ClaimStatusSetting.objects.select_related("payer").order_by("payer__name"),
        "page": page,
        "recent": recent,
        "waiting": any(i.request.status in WAITING for i in recent),
        "part2_hidden": part2.hidden_count(claims_askable(scopes=part2.ORGANIZATION), scopes),
        "checked": {str(v) for v in request.POST.getlist("claim_ids")},
    }
    failed = form.errors or setting_form.errors
    return render(request, "denials/claim_status.html", context, status=400 if failed else 200)
