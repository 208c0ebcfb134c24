"""The fail-closed manager every tenant-owned model uses as `objects`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import BaseUserManager
from django.db import models

from rcm.tenancy.context import require_organization_id


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Filters by the current organization with an explicit `organization_id = X` (which keeps
    queries on the organization indexes and is what a sharded cluster routes on), and raises
    `TenantNotSet` when no organization is in context."""

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(organization_id=require_organization_id())


class UserManager(BaseUserManager):
    use_in_migrations = False

    def _create(self, email: str, password: str | None, **extra: Any) -> Any:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # type: ignore[attr-defined]
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> Any:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> Any:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)
