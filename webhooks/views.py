"""Webhook pages, for the organization's owners: endpoints, adding one (its secret shown once),
each endpoint's delivery log, redelivery and the "send test event" button."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rcm import part2
from rcm.errors import DomainError, form_add_domain_error
from rcm.tenancy.decorators import require_scope
from rcm.tenancy.http import OrgRequest, request_now, scopes_of
from rcm.tenancy.templatetags.org_urls import org_reverse
from webhooks import selectors, services
from webhooks.forms import EndpointFilterForm, EndpointForm, Part2Form
from webhooks.models import WebhookDelivery, WebhookEndpoint


@require_scope("org:admin")
def endpoint_list(request: OrgRequest) -> HttpResponse:
    form = EndpointFilterForm(request.GET or None)
    search = (form.cleaned_data.get("q") or "") if form.is_valid() else ""
    page = Paginator(selectors.endpoint_list(search=search), 25).get_page(request.GET.get("page"))
    return render(request, "webhooks/list.html", {"form": form, "page": page, "search": search})


@require_scope("org:admin")
def endpoint_add(request: OrgRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        if "url" not in form.errors:
            # Every error at once: the URL's refusal beside the form's own errors.
            refusal = services.url_refusal(form.cleaned_data["url"].strip())
            if refusal:
                form.add_error("url", refusal)
    elif request.method == "POST":
        data = form.cleaned_data
        try:
            created = services.endpoint_create(
                url=data["url"].strip(),
                event_types=list(data["event_types"]),
                description=data["description"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            # Rendered, not redirected: the secret is on this response and nowhere else.
            response = render(
                request,
                "webhooks/created.html",
                {"endpoint": created.endpoint, "secret": created.secret},
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "webhooks/add.html", {"form": form})


@require_scope("org:admin")
def endpoint_detail(request: OrgRequest, pk: str) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    scopes = scopes_of(request)
    page = Paginator(selectors.delivery_log(endpoint=endpoint, scopes=scopes), 25).get_page(
        request.GET.get("page")
    )
    hidden = part2.hidden_count(WebhookDelivery.objects.filter(endpoint=endpoint), scopes)
    return render(
        request,
        "webhooks/detail.html",
        {"endpoint": endpoint, "page": page, "hidden": hidden, "part2_form": Part2Form()},
    )


def _back(request: OrgRequest, endpoint_id: object) -> HttpResponse:
    return redirect(org_reverse(request, "webhooks:detail", pk=endpoint_id))


@require_POST
@require_scope("org:admin")
def send_test(request: OrgRequest, pk: str) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        services.endpoint_send_test(endpoint_id=endpoint.pk, now=request_now(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "A test event is on its way; it shows in the log below.")
    return _back(request, endpoint.pk)


@require_POST
@require_scope("org:admin")
def enable(request: OrgRequest, pk: str) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_enable(endpoint_id=endpoint.pk)
    messages.success(request, "The endpoint is enabled again.")
    return _back(request, endpoint.pk)


@require_POST
@require_scope("org:admin")
def part2_setting(request: OrgRequest, pk: str) -> HttpResponse:
    """The owner's choice whether events about 42 CFR Part 2 records may go to the endpoint."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = Part2Form(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether Part 2 detail may be sent.")
        return _back(request, endpoint.pk)
    allowed = form.cleaned_data["allowed"] == "yes"
    services.endpoint_part2_set(endpoint_id=endpoint.pk, allowed=allowed)
    messages.success(
        request,
        "Events about Part 2 records will be sent to this endpoint."
        if allowed
        else "Events about Part 2 records will not be sent to this endpoint.",
    )
    return _back(request, endpoint.pk)


@require_POST
@require_scope("org:admin")
def redeliver(request: OrgRequest, pk: str) -> HttpResponse:
    delivery = get_object_or_404(
        part2.visible(WebhookDelivery.objects.all(), scopes_of(request)), pk=pk
    )
    try:
        services.delivery_redeliver(delivery_id=delivery.pk, now=request_now(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The event will be sent again with the same webhook-id.")
    return _back(request, delivery.endpoint_id)
