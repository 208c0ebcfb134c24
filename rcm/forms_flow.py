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
) -> HttpResponse:
    """On a valid POST run `action(cleaned_data)`; a DomainError lands on the form beside its
    field and nothing is saved. Otherwise render the form (with inline errors)."""
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, success_message(result) if callable(success_message) else success_message
            )
            return redirect(success_url(result) if callable(success_url) else success_url)
    return render(request, template, {"form": form, **(context or {})})
