"""The one shape of a form page: validate, call a service, show its refusal on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rcm.errors import DomainError, form_add_domain_error


def handle_form(
    request: HttpRequest,
    form: Any,
    *,
    action: Callable[[dict[str, Any]], Any],
    success_url: Callable[[Any], str] | str,
    success_message: Callable[[Any], str] | str,
    template: str,
    context: dict[str, Any] | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> HttpResponse:
    """On a valid POST run `action(cleaned_data)`; a DomainError lands on the form beside its
    field and nothing is saved. Otherwise render the form (with inline errors).

    `check(cleaned_data)` runs the service's own checks without saving (raising its DomainError):
    given, it also runs when the form's validation failed, so the service's refusals of the
    fields the form accepted show in the same submit as the form's own errors."""
    if request.method == "POST":
        if form.is_valid():
            try:
                result = action(form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    success_message(result) if callable(success_message) else success_message,
                )
                return redirect(success_url(result) if callable(success_url) else success_url)
        elif check is not None:
            _add_check_errors(form, check)
    return render(request, template, {"form": form, **(context or {})})


def _add_check_errors(form: Any, check: Callable[[dict[str, Any]], None]) -> None:
    """The service's refusals of the fields the form accepted (a field the form already refused,
    or one outside the form, is left to the form's own message)."""
    try:
        check(form.cleaned_data)
    except DomainError as exc:
        for each in exc.errors:
            if each.field in form.fields and each.field not in form.errors:
                form.add_error(each.field, each.message)
