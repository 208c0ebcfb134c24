"""One exception for everything a user can fix, mapped to a response in one place per surface.

Services raise `DomainError(message, field=...)`. The DRF exception handler (rcm.api) turns it into
a problem+json 400 naming the field; HTML views put it on the form (`form_add_domain_error`), and
anything a view did not catch is shown by `DomainErrorMiddleware` as a 400 page with the message.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class DomainError(Exception):
    """A rule of the domain refused the change; the message is for the user, `field` says where."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


def form_add_domain_error(form: Any, error: DomainError) -> None:
    """Show a service's refusal on the form, beside the field it names when the form has it."""
    field = error.field if error.field in getattr(form, "fields", {}) else None
    form.add_error(field, error.message)


class DomainErrorMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        response = TemplateResponse(request, "error_domain.html", {"error": exception}, status=400)
        return response.render()
