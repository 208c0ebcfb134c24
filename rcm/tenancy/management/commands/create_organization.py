"""Onboard a clinic: create the organization and its first owner (platform operators only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rcm.errors import DomainError
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization
from rcm.tenancy.permissions import Role
from rcm.tenancy.services import membership_add


class Command(BaseCommand):
    help = "Create an organization and its first owner."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", default="", help="Needed when the owner is new.")
        parser.add_argument("--time-zone", default="America/New_York")

    def handle(self, *args: Any, **opts: Any) -> None:
        if Organization.objects.filter(slug=opts["slug"]).exists():
            raise CommandError(f"An organization with slug {opts['slug']!r} exists already.")
        try:
            with transaction.atomic():
                org = Organization.objects.create(
                    name=opts["name"], slug=opts["slug"], time_zone=opts["time_zone"]
                )
                with tenant_context(org):
                    membership_add(
                        email=opts["owner_email"],
                        role=Role.OWNER,
                        password=opts["owner_password"] or None,
                    )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created {org.name} at /o/{org.slug}/"))
