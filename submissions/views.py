"""Submission screens: batches (list, create, page with live progress, file download),
clearinghouses, acknowledgment upload, the rejections queue and an X12 preview of one claim.

42 CFR Part 2: the selectors and services take the member's scopes, so a member without the
Part 2 grant never sees nor batches a Part 2 claim, gets no 837 file holding one, and finds a
Part 2 rejection "not found"; the lists say how many they left out."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.views.decorators.http import require_POST

from claims import selectors as claim_selectors
from claims.models import Claim
from patients.models import Coverage
from rcm import part2
from rcm.audit.reads import audit_phi
from rcm.audit.services import audit_read
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, request_today, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse
from submissions import selectors, services
from submissions.forms import (
    AckUploadForm,
    BatchCreateForm,
    BatchFilterForm,
    BatchSelectionForm,
    ClaimPickForm,
    ClearinghouseForm,
    RejectionFilterForm,
)
from submissions.models import Clearinghouse, SubmissionBatch
from submissions.selectors import ClaimPick
from x12.loops import label_loops

READ, WRITE = "claims:read", "claims:write"


def _create_batches(request: OrgRequest, form: Any, pick: ClaimPick) -> list[SubmissionBatch]:
    """The batches of the claims the biller picked (or, from the older form without a
    selection, of every ready claim)."""
    data = form.cleaned_data
    ids, expected = None, None
    if isinstance(form, BatchSelectionForm):
        ids = data["claim_ids"]
        if data["all_matching"]:
            picked = selectors.ready_claims_picked(pick=pick, scopes=scopes_of(request))
            ids, expected = list(picked.values_list("pk", flat=True)), data["expected_count"]
    return services.batches_create(
        clearinghouse=data["clearinghouse"], actor=request.user, claim_ids=ids,
        expected_count=expected, scopes=scopes_of(request),
    )  # fmt: skip


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def batch_list(request: OrgRequest) -> HttpResponse:
    scopes = scopes_of(request)
    pick_form = ClaimPickForm(request.GET or None)  # on a POST the filter stays in the URL
    pick = pick_form.pick()
    selecting = "selection" in request.POST
    create = (BatchSelectionForm if selecting else BatchCreateForm)(request.POST or None)
    if request.method == "POST" and create.is_valid():
        try:
            batches = _create_batches(request, create, pick)
        except DomainError as error:
            form_add_domain_error(create, error)
        else:
            messages.success(request, f"{len(batches)} batch(es) queued.")
            return redirect(org_reverse(request, "batches:detail", pk=batches[0].pk))
    filters = BatchFilterForm(request.GET or None)
    status = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    page = Paginator(selectors.batch_list(status=status), 50).get_page(request.GET.get("page"))
    picked = selectors.ready_claims_picked(pick=pick, scopes=scopes)
    context = {
        "page": page, "create": create, "filters": filters, "pick_form": pick_form,
        "claims": Paginator(picked, 50).get_page(request.GET.get("claims_page")),
        "selection_total": selectors.selection_total(picked),
        "checked": set(request.POST.getlist("claim_ids")),
        "ready": selectors.ready_claim_counts(scopes=scopes),
        "part2_hidden": selectors.ready_claims_picked_hidden(pick=pick, scopes=scopes),
        "has_clearinghouse": create.fields["clearinghouse"].queryset.exists(),  # type: ignore[attr-defined]
    }  # fmt: skip
    return render(request, "batches/list.html", context)


@require_scope(READ)
@audit_phi("submissions.submissionbatch")
def batch_detail(request: OrgRequest, pk: str) -> HttpResponse:
    try:
        page = selectors.batch_page(pk=pk, scopes=scopes_of(request))
    except SubmissionBatch.DoesNotExist as missing:
        raise Http404("No such batch.") from missing
    batch = page.batch
    context = {
        "batch": batch, "items": page.items, "acks": page.acks, "part2_hidden": page.part2_hidden,
        "error": page.error, "failures": page.failures,
    }  # fmt: skip
    if request.GET.get("part") != "progress":
        return render(request, "batches/detail.html", context)
    response = render(request, "batches/_progress.html", context)
    if getattr(request, "htmx", False) and batch.status not in services.OPEN_BATCH:
        response["HX-Refresh"] = "true"  # done: reload the whole page (numbers, claim statuses)
    return response


@require_scope(READ)
@audit_phi("submissions.submissionbatch")
def batch_file(request: OrgRequest, pk: str) -> HttpResponse:
    try:
        found = selectors.batch_file(pk=pk, scopes=scopes_of(request))
    except SubmissionBatch.DoesNotExist as missing:
        raise Http404("No such batch.") from missing
    batch = found.batch
    if not batch.content:
        raise DomainError("This batch has no file (it was not released).")
    audit_read(obj=batch, patient_id=None, part2=found.part2, what="837 file download")
    response = HttpResponse(batch.content, content_type="application/edi-x12")
    response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
    return response


@require_POST
@require_scope(WRITE)
def batch_retry(request: OrgRequest, pk: str) -> HttpResponse:
    batch = get_object_or_404(SubmissionBatch, pk=pk)
    try:
        services.batch_retry(batch=batch, actor=request.user, scopes=scopes_of(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The batch will be built again.")
    return redirect(org_reverse(request, "batches:detail", pk=pk))


@require_POST
@require_scope(WRITE)
def batch_send(request: OrgRequest, pk: str) -> HttpResponse:
    try:  # the file names every patient in it: as for its download (42 CFR Part 2)
        batch = selectors.batch_file(pk=pk, scopes=scopes_of(request)).batch
    except SubmissionBatch.DoesNotExist as missing:
        raise Http404("No such batch.") from missing
    batch = services.batch_send(batch=batch)
    messages.info(request, batch.transport_detail)
    return redirect(org_reverse(request, "batches:detail", pk=pk))


@require_scope(READ, post=WRITE)
def clearinghouses(request: OrgRequest, pk: str | None = None) -> HttpResponse:
    instance = get_object_or_404(Clearinghouse, pk=pk) if pk else None
    form = ClearinghouseForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            data = {f: form.cleaned_data[f] for f in form.Meta.fields}
            ch = services.clearinghouse_save(
                clearinghouse=instance,
                core_password=form.cleaned_data["core_password"],
                core_client_cert=form.cleaned_data["core_client_cert"],
                core_client_key=form.cleaned_data["core_client_key"],
                **data,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"{ch.name} saved.")
            return redirect(org_reverse(request, "batches:clearinghouses"))
    context = {"form": form, "instance": instance, "items": selectors.clearinghouse_list()}
    return render(request, "batches/clearinghouses.html", context)


@require_scope(READ, post=WRITE)
def ack_upload(request: OrgRequest) -> HttpResponse:
    form = AckUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            ack, applied = services.acknowledgment_import(
                content=upload.read(), file_name=upload.name, source="upload", actor=request.user
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request, ack.summary if applied else "Already applied: nothing changed."
            )
            target = ack.batch_id and org_reverse(request, "batches:detail", pk=ack.batch_id)
            return redirect(target or org_reverse(request, "batches:list"))
    return render(request, "batches/ack_upload.html", {"form": form})


def _fix_url(request: OrgRequest, claim_id: Any) -> str:
    """The claim's edit view (the claims screens own it), else our X12 preview."""
    try:
        return org_reverse(request, "claims:edit", pk=claim_id)
    except NoReverseMatch:
        return org_reverse(request, "batches:claim_x12_preview", pk=claim_id)


@require_scope(READ)
@audit_phi("submissions.claimrejection")
def rejections(request: OrgRequest) -> HttpResponse:
    form = RejectionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = {"q": data.get("q", ""), "show": data.get("show") or "open"}
    scopes = scopes_of(request)
    rows = selectors.rejection_queue(**filters, scopes=scopes)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for rejection in page:
        rejection.fix_url = _fix_url(request, rejection.claim_id)  # type: ignore[attr-defined]
    context = {
        "form": form, "page": page,
        "part2_hidden": selectors.rejection_queue_hidden(**filters, scopes=scopes),
    }  # fmt: skip
    return render(request, "batches/rejections.html", context)


@require_POST
@require_scope(WRITE)
def rejection_resolve(request: OrgRequest, pk: str) -> HttpResponse:
    rejection = get_object_or_404(selectors.rejections(scopes=scopes_of(request)), pk=pk)
    services.rejection_resolve(rejection=rejection, actor=request.user)
    messages.success(request, "Taken off the rejections queue.")
    return redirect(org_reverse(request, "batches:rejections"))


@require_scope(READ)
@audit_phi("claims.claim")
def claim_x12_preview(request: OrgRequest, pk: str) -> HttpResponse:
    try:  # a Part 2 claim is not found without the Part 2 grant, as on the claim page
        claim = claim_selectors.claim_detail(pk=pk, scopes=scopes_of(request))
    except Claim.DoesNotExist:
        raise Http404 from None
    text, problems = services.claim_x12_preview(
        claim=claim,
        now=request_now(request),
    )
    audit_read(obj=claim, patient_id=claim.patient_id, what="837 preview")
    context = {"claim": claim, "rows": label_loops(text) if text else [], "problems": problems}
    return render(request, "batches/claim_x12.html", context)


@require_scope(READ)
@audit_phi("claims.claim")
def claim_cms1500(request: OrgRequest, pk: str) -> HttpResponse:
    """The claim on the CMS-1500 (02/12), to look at or print by hand (changes nothing)."""
    try:  # a Part 2 claim is not found without the Part 2 grant, as on the claim page
        claim = claim_selectors.claim_detail(pk=pk, scopes=scopes_of(request))
    except Claim.DoesNotExist:
        raise Http404 from None
    # An institutional claim is refused with the reason (DomainErrorMiddleware shows it).
    pages = services.cms1500_pages(
        claim, organization=request.organization, today=request_today(request)
    )
    audit_read(obj=claim, patient_id=claim.patient_id, what="CMS-1500")
    response = HttpResponse(services.cms1500_pdf(pages), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="cms1500-{claim.patient_control_number}.pdf"'
    )
    return response


@require_scope(READ, post=WRITE)
@audit_phi("claims.claim")
def paper_print(request: OrgRequest) -> HttpResponse:
    """Ready claims for payers that take paper: pick some (or none for all) and print them as
    one PDF; printing marks them submitted."""
    scopes = scopes_of(request)
    error = ""
    if request.method == "POST":
        raw = request.POST.getlist("claim")
        try:
            ids = [uuid.UUID(value) for value in raw] or None
        except ValueError:
            error = "A chosen claim id is not valid: reload the page and choose again."
        else:
            try:
                pdf, printed = services.paper_claims_print(
                    scopes=scopes, actor=request.user, today=request_today(request), claim_ids=ids
                )
            except DomainError as refused:
                error = refused.message
            else:
                response = HttpResponse(pdf, content_type="application/pdf")
                name = f"cms1500-{request_today(request):%Y%m%d}-{len(printed)}-claims.pdf"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
    rows = (
        services.paper_claims(scopes=scopes)
        .select_related("patient", "payer")
        .order_by("payer__name", "patient_control_number")
    )
    totals = rows.aggregate(n=Count("id"), amount=Sum("total_charge"))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    hidden = part2.hidden_count(services.paper_claims(scopes=part2.ORGANIZATION), scopes)
    context = {"page": page, "totals": totals, "error": error, "part2_hidden": hidden}
    return render(request, "batches/paper.html", context, status=400 if error else 200)


@require_POST
@require_scope("patients:write")
@audit_phi("patients.coverage")
def eligibility_check(request: OrgRequest, pk: str) -> HttpResponse:
    """ "Check eligibility" on a coverage: the real-time 270/271 through the organization's
    clearinghouse with a CORE transport, synchronously (its short timeout and retries); the
    answer (or why there is none) shows within the patient page (htmx)."""
    coverage = get_object_or_404(Coverage.objects.select_related("patient", "payer"), pk=pk)
    clearinghouse = (
        Clearinghouse.objects.filter(is_active=True, realtime_transport="core_mime")
        .order_by("name")
        .first()
    )
    result, error = None, ""
    if clearinghouse is None:
        error = "No active clearinghouse has a real-time (CAQH CORE) transport; set one up first."
    else:
        try:
            result = services.eligibility_check(
                coverage=coverage,
                clearinghouse=clearinghouse,
                now=request_now(request),
                today=request_today(request),
                user=request.user,
            )
        except DomainError as exc:
            error = exc.message
    if not getattr(request, "htmx", False):
        if error or result is None or result.status != "answered":
            messages.error(request, error or (result.error if result else ""))
        else:
            messages.success(request, "Eligibility checked.")
        return redirect(org_reverse(request, "patients:detail", pk=coverage.patient_id))
    coverage.refresh_from_db()
    remaining = (
        coverage.deductible - (coverage.deductible_met or 0)
        if coverage.deductible is not None
        else None
    )
    return render(
        request,
        "patients/_eligibility.html",
        {"result": result, "error": error, "coverage": coverage, "remaining": remaining},
    )


def _realtime_clearinghouse() -> Clearinghouse | None:
    return (
        Clearinghouse.objects.filter(is_active=True, realtime_transport="core_mime")
        .order_by("name")
        .first()
    )


@require_scope("patients:read", post="patients:write")
def eligibility_batches(request: OrgRequest) -> HttpResponse:
    """ "Check eligibility for all active episodes": the batches so far, and (POST) start one —
    or, while one runs, go to it."""
    error = ""
    if request.method == "POST":
        clearinghouse = _realtime_clearinghouse()
        if clearinghouse is None:
            error = (
                "No active clearinghouse has a real-time (CAQH CORE) transport; set one up first."
            )
        else:
            try:
                batch, _ = services.eligibility_batch_start(
                    clearinghouse=clearinghouse,
                    now=request_now(request),
                    today=request_today(request),
                    user=request.user,
                )
            except DomainError as exc:
                error = exc.message
            else:
                return redirect(org_reverse(request, "batches:eligibility_batch", pk=batch.pk))
    page = Paginator(selectors.eligibility_batches(), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "batches/eligibility_batches.html",
        {"page": page, "error": error},
        status=400 if error else 200,
    )


@require_scope("patients:read")
@audit_phi("submissions.eligibilitybatchitem")
def eligibility_batch(request: OrgRequest, pk: str) -> HttpResponse:
    """One eligibility batch: its progress (the partial htmx polls while it runs) and each
    coverage's result."""
    batch = get_object_or_404(selectors.eligibility_batches(), pk=pk)
    scopes = scopes_of(request)
    if request.GET.get("part") == "progress":
        response = render(request, "batches/_eligibility_progress.html", {"batch": batch})
        if getattr(request, "htmx", False) and batch.status == "done":
            response["HX-Refresh"] = "true"  # done: reload the whole page with the results
        return response
    items = selectors.eligibility_batch_items(batch=batch, scopes=scopes)
    context = {
        "batch": batch,
        "page": Paginator(items, 50).get_page(request.GET.get("page")),
        "part2_hidden": selectors.eligibility_batch_items_hidden(batch=batch, scopes=scopes),
    }
    return render(request, "batches/eligibility_batch.html", context)
