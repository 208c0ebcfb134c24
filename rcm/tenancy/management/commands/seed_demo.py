"""Demo data for `make run`: two organizations and one user per role in each.

Safe to run again (everything is matched by slug or email). Each domain app may add its own demo
rows with a `demo.seed(organization)` function, called here inside that organization's context.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from rcm.tenancy.context import tenant_context
from rcm.tenancy.models import Membership, Organization
from rcm.tenancy.permissions import Role

DEMO_PASSWORD = "parity-demo-2026"  # noqa: S105  (printed for the embedded demo only)

ORGANIZATIONS = [
    {
        "slug": "riverbend",
        "name": "Riverbend Recovery Center",
        "time_zone": "America/Chicago",
        "group_npi": "1245319599",
        "tax_id": "371234567",
        "taxonomy_code": "261QR0405X",
        "address_line1": "400 River Road",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "627011234",
    },
    {
        "slug": "harborview",
        "name": "Harborview Behavioral Health",
        "time_zone": "America/New_York",
        "group_npi": "1679576722",
        "tax_id": "521234567",
        "taxonomy_code": "261QM0801X",
        "address_line1": "12 Harbor Street",
        "city": "Baltimore",
        "state": "MD",
        "postal_code": "212021234",
    },
]


class Command(BaseCommand):
    help = "Load demo organizations and users (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        # One hash for every demo user: hashing is slow on purpose (a second each), and the
        # demo's thirteen users share one password.
        password_hash = make_password(DEMO_PASSWORD)
        lines = []
        with transaction.atomic():
            for spec in ORGANIZATIONS:
                org, _ = Organization.objects.update_or_create(slug=spec["slug"], defaults=spec)
                with tenant_context(org):
                    for role in Role:
                        email = f"{role.value}@{org.slug}.example"
                        user = user_model.objects.filter(email=email).first()
                        if user is None:
                            user = user_model.objects.create_user(
                                email=email,
                                password=None,
                                first_name=role.label.split(" ")[0],
                                last_name=org.name.split(" ")[0],
                            )
                            user.password = password_hash
                            user.save(update_fields=["password"])
                        Membership.objects.get_or_create(
                            user=user,
                            defaults={
                                "role": role.value,
                                "part2_access": role in {Role.OWNER, Role.BILLER},
                            },
                        )
                        second = " (two-factor)" if role == Role.OWNER else ""
                        lines.append(f"  {email:38} {role.label} at {org.name}{second}")
                    for config in apps.get_app_configs():
                        try:
                            demo = importlib.import_module(f"{config.name}.demo")
                        except ModuleNotFoundError:
                            continue
                        demo.seed(org)
            # A billing-company user who works for both clinics.
            multi = user_model.objects.filter(email="billing@partner.example").first()
            if multi is None:
                multi = user_model.objects.create_user(
                    email="billing@partner.example",
                    password=None,
                    first_name="Pat",
                    last_name="Partner",
                )
                multi.password = password_hash
                multi.save(update_fields=["password"])
            for org in Organization.objects.filter(slug__in=[o["slug"] for o in ORGANIZATIONS]):
                with tenant_context(org):
                    Membership.objects.get_or_create(user=multi, defaults={"role": Role.BILLER})
            lines.append(
                f"  {'billing@partner.example':38} Biller at both organizations (two-factor)"
            )
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            "The demo organizations keep the default two-factor policy: owners and the "
            "billing-company user set up an authenticator app at their first sign-in (scan the QR "
            "code, or type the key shown into any TOTP app, e.g. `oathtool --totp -b KEY`), then "
            "enter its code at each sign-in. The other roles sign in with the password alone."
        )
