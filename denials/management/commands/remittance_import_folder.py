"""Import every 835 waiting in an inbound folder (a clearinghouse drop), for one organization.

    manage.py remittance_import_folder --org riverbend /srv/inbound/riverbend

Each file is recorded as an import (posted by the worker, or rejected with its reason) and moved
to `done/` beside it, so a second run does not see it again; the same bytes dropped twice are
recorded as a duplicate and post nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from denials.services import remittance_import_create
from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Organization

SUFFIXES = {".835", ".edi", ".txt", ".x12", ".era"}


class Command(BaseCommand):
    help = "Import the 835 files of an inbound folder for one organization."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder")
        parser.add_argument("--org", required=True, help="The organization's slug")

    def handle(self, *args: Any, folder: str, org: str, **options: Any) -> None:
        organization = Organization.objects.filter(slug=org, is_active=True).first()
        if organization is None:
            raise CommandError(f"No active organization {org!r}.")
        inbound = Path(folder)
        if not inbound.is_dir():
            raise CommandError(f"{inbound} is not a folder.")
        done = inbound / "done"
        done.mkdir(exist_ok=True)
        for path in sorted(
            p for p in inbound.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
        ):
            with tenant_context(organization):
                imp = remittance_import_create(
                    file_name=path.name, content=path.read_bytes(), source="folder"
                )
            path.rename(done / path.name)
            self.stdout.write(
                f"{path.name}: {imp.get_status_display()}{': ' + imp.error if imp.error else ''}"
            )
