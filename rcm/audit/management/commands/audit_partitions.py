"""Keep the audit table's month partitions: create the months ahead, move rows the default
partition caught into their month, drop the months past retention (rcm/audit/partitions.py).
Run monthly (cron or a systemd timer) as the role that owns the tables (the application role
cannot create or drop tables); safe to run again. docs/operations.md, "The audit table"."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from rcm.audit.partitions import audit_partitions_maintain
from rcm.audit.services import audit_record


class Command(BaseCommand):
    help = "Create, fill and drop the audit table's month partitions (retention: settings)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--months-ahead", type=int, default=settings.AUDIT_PARTITION_MONTHS_AHEAD
        )
        parser.add_argument("--retention-years", type=int, default=settings.AUDIT_RETENTION_YEARS)

    def handle(self, *args: Any, months_ahead: int, retention_years: int, **options: Any) -> None:
        # The edge reads the clock; partitions are in UTC months (occurred_at is UTC).
        today = timezone.now().date()
        result = audit_partitions_maintain(
            today=today, months_ahead=months_ahead, retention_years=retention_years
        )
        if result.dropped:
            audit_record(
                action="audit.partitions_dropped",
                platform=True,
                detail={"partitions": result.dropped, "retention_years": retention_years},
            )
        self.stdout.write(
            f"created {len(result.created)} ({', '.join(result.created) or 'none'}), "
            f"moved {result.moved} rows out of the default partition, "
            f"dropped {len(result.dropped)} ({', '.join(result.dropped) or 'none'})"
        )
