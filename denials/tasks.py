"""The hourly follow-up scan (Celery beat) and the daily small-balance rule."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from denials.services import follow_up_scan, small_balances_write_off
from rcm.tenancy.fanout import OrganizationTurn, for_each_organization


@shared_task(name="denials.tasks.follow_up_scan_all")
def follow_up_scan_all() -> dict[str, int]:
    """Every active organization in its own tenant context; safe to run twice."""

    def scan(turn: OrganizationTurn) -> dict[str, int]:
        return asdict(follow_up_scan(today=turn.today))

    totals: dict[str, int] = {"organizations": 0}
    for _organization, result in for_each_organization(scan, name="follow_up_scan_all"):
        totals["organizations"] += 1
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + value
    return totals


@shared_task(name="denials.tasks.small_balances_write_off_all")
def small_balances_write_off_all() -> dict[str, int]:
    results = for_each_organization(
        lambda turn: small_balances_write_off(), name="small_balances_write_off_all"
    )
    return {"organizations": len(results), "written_off": sum(n for _org, n in results)}


@shared_task(name="denials.tasks.claim_status_pickup")
def claim_status_pickup() -> int:
    """Apply the 277 claim status responses waiting in each clearinghouse's inbound folder (the
    999 / 277CA pickup leaves them there). The same file twice changes nothing. Returns how many
    files were seen."""
    from denials.claimstatus import claim_status_import_folder
    from rcm.tenancy.selectors import organization_now
    from submissions.models import Clearinghouse
    from submissions.transport import inbound_folder

    def pickup(turn: OrganizationTurn) -> int:
        seen = 0
        now = organization_now(turn.organization)
        codes = Clearinghouse.objects.filter(is_active=True).values_list("code", flat=True)
        for code in list(codes):
            folder = inbound_folder(turn.organization.slug, code)
            if folder.is_dir():
                seen += len(claim_status_import_folder(folder=folder, now=now, today=turn.today))
        return seen

    return sum(n for _, n in for_each_organization(pickup, name="claim_status_pickup"))
