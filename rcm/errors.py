"""One exception for everything a user can fix, mapped to a response in one place per surface.

Services raise `DomainError(message, field=...)`. The DRF exception handler (rcm.api) turns it into
a problem+json 400 naming the field; HTML views put it on the form (`form_add_domain_error`), and
anything a view did not catch is shown by `DomainErrorMiddleware` as a 400 page with the message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class DomainError(Exception):
    """A rule of the domain refused the change; the message is for the user, `field` says where.
    A refusal for several reasons at once (`DomainError.combine`) carries each in `errors`, so a
    form shows every one beside its field in one submit."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "invalid",
        errors: Sequence[DomainError] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.errors: list[DomainError] = list(errors) or [self]

    @classmethod
    def combine(cls, errors: Sequence[DomainError]) -> DomainError:
        """One refusal carrying every error (the first's field names it as a whole)."""
        flat = [e for error in errors for e in error.errors]
        if len(flat) == 1:
            return flat[0]
        return cls(" ".join(e.message for e in flat), field=flat[0].field, errors=flat)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


class ErrorCollector:
    """Runs a service's independent checks and refuses once with all their errors:

    errors = ErrorCollector()
    with errors.check():
        _check_address(patient)
    if patient.date_of_birth > today:
        errors.add("Date of birth is in the future.", field="date_of_birth")
    errors.raise_any()
    """

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def add(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        self.errors.append(DomainError(message, field=field, code=code))

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except DomainError as exc:
            self.errors.extend(exc.errors)

    def raise_any(self) -> None:
        if self.errors:
            raise DomainError.combine(self.errors)


def form_add_domain_error(form: Any, error: DomainError) -> None:
    """Show a service's refusal on the form: each of its errors beside the field it names when
    the form has it (above the form otherwise)."""
    for each in error.errors:
        field = each.field if each.field in getattr(form, "fields", {}) else None
        form.add_error(field, each.message)


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
