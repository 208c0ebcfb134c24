"""Listen for HL7 v2 messages over MLLP for one organization.

    manage.py hl7_mllp --port 2575 --organization riverbend [--host 0.0.0.0] [--part2]

Every message is processed as over HTTPS (`POST /api/v1/hl7/messages/`) and answered with its
ACK on the same connection. `--part2` lets charges on substance use (42 CFR Part 2) episodes
through, as the `part2:read` scope does for an API key; without it they are refused (AE).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interfaces.mllp import MllpServer
from rcm import part2
from rcm.tenancy.models import Organization


class Command(BaseCommand):
    help = "Receive HL7 v2 messages over MLLP (0x0B ... 0x1C 0x0D) for one organization."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--organization", required=True, help="The organization's slug")
        parser.add_argument(
            "--part2",
            action="store_true",
            help="Accept charges on 42 CFR Part 2 episodes from this feed",
        )

    def handle(self, *args: Any, port: int, host: str, organization: str, **options: Any) -> None:
        org = Organization.objects.filter(slug=organization, is_active=True).first()
        if org is None:
            raise CommandError(f"No active organization {organization!r}.")
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        scopes = part2.ORGANIZATION if options["part2"] else frozenset()
        try:
            server = MllpServer((host, port), organization=org, scopes=scopes)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(f"Listening for HL7 v2 over MLLP on {host}:{port} for {org.slug}.")
        with server:
            try:
                server.serve()
            except KeyboardInterrupt:
                self.stdout.write("Stopped.")
