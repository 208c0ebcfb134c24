"""Every change in the denials app: 835 import and posting, work items and their queue, the
follow-up scan, appeals and letters, write-offs."""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.services import AlertSpec, alerts_raise, rows_inserted
from claims import services as claims_services
from claims.cob import prior_payer_settled
from claims.models import Claim, ClaimEvent, ClaimLine, ClaimStatus
from denials import rules
from denials.models import (
    OPEN_WORK_STATUSES,
    Appeal,
    AppealLevel,
    AppealOutcome,
    Denial,
    DenialSettings,
    ExceptionKind,
    ImportStatus,
    LineBalance,
    RemittanceClaim,
    RemittanceException,
    RemittanceImport,
    RemittanceLine,
    SecondaryClaim,
    SecondaryStatus,
    WorkItem,
    WorkItemEvent,
    WorkKind,
    WorkStatus,
    WriteOff,
    WriteOffStatus,
)
from denials.posting import Poster, Summary, progress_set
from denials.reposting import StoredPoster
from rcm import part2
from rcm.audit.services import audit_record
from rcm.errors import DomainError
from rcm.outbox.services import outbox_enqueue
from rcm.service_helpers import tenant_advisory_lock
from rcm.tenancy.context import require_organization_id
from rcm.tenancy.models import Membership, Organization
from rcm.tenancy.permissions import Role
from rcm.tenancy.selectors import member_with_scope
from submissions.services import FILING_INDICATOR, RESPONSIBILITY
from x12.reader import X12Error
from x12.remit835 import Remittance835File, check_balance, parse_835

MAX_FILE_BYTES = 50 * 1024 * 1024


# --- 835 import -------------------------------------------------------------------------------


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


# The last file this process validated and what it found: posting an upload in the process
# that received it (the folder import, a worker running both) reads it instead of parsing the
# same text again. One slot, taken by the next post of that text; the parse is never changed.
_last_validated: tuple[str, tuple[Remittance835File | None, str, int | None]] | None = None


def remittance_validate(text: str) -> tuple[Remittance835File | None, str, int | None]:
    """Parse and balance-check a file: (parsed, "", None) or (None, reason, segment position)."""
    global _last_validated
    last = _last_validated
    if last is not None and last[0] == text:
        _last_validated = None
        return last[1]
    result = _validate(text)
    _last_validated = (text, result)
    return result


def _validate(text: str) -> tuple[Remittance835File | None, str, int | None]:
    try:
        parsed = parse_835(text, strict=True)
    except X12Error as exc:
        return None, exc.message, exc.segment_position
    for remit in parsed.remittances:
        problems = check_balance(remit)
        if problems:
            first = problems[0]
            more = f" ({len(problems) - 1} more)" if len(problems) > 1 else ""
            return None, first.message + more, first.segment_position
    return parsed, "", None


def remittance_import_create(
    *, file_name: str, content: bytes | str, source: str = "ui", uploaded_by: Any = None
) -> RemittanceImport:
    """Record an uploaded 835. A file that is not a readable, balanced 835 is kept as rejected
    with the reason and segment position (nothing is posted); the same bytes as a file already
    waiting, posting or posted are kept as a duplicate (`summary["duplicate_of"]` names that import),
    whatever the timing of the two uploads; otherwise posting is queued (remittance_post)."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if not raw.strip():
        raise DomainError("The file is empty.", field="file")
    if len(raw) > MAX_FILE_BYTES:
        raise DomainError("The file is larger than 50 MB; split it.", field="file")
    text = _decode(raw)
    sha = hashlib.sha256(raw).hexdigest()
    parsed, error, position = remittance_validate(text)
    fields = {
        "file_name": file_name[:200] or "remittance.835",
        "sha256": sha,
        "source": source,
        "total_claims": len(parsed.claims) if parsed else 0,
        "error": error,
        "error_position": position,
        "uploaded_by": uploaded_by,
    }
    first = ""
    with transaction.atomic():
        if parsed is None:
            status = ImportStatus.REJECTED
        else:
            # Two uploads of the same file are decided by the database, not by timing: the lock
            # (per organization and hash, released at commit) makes the second check wait for the
            # first insert to commit, and the partial unique constraint backs it up.
            tenant_advisory_lock(f"remittance-import:{sha}")
            first = _live_import_of(sha)
            status = ImportStatus.DUPLICATE if first else ImportStatus.PENDING
        imp: RemittanceImport | None = None
        if status == ImportStatus.PENDING:
            try:
                with transaction.atomic():
                    imp = RemittanceImport.objects.create(
                        **fields, content=text, status=status, summary={}, finished_at=None
                    )
            except IntegrityError as exc:
                if LIVE_IMPORT_CONSTRAINT not in str(exc):
                    raise
                # Another upload of the same file committed first (a path that skipped the lock).
                status, first = ImportStatus.DUPLICATE, _live_import_of(sha)
        if imp is None:
            summary: dict[str, Any] = {"rows_posted": 0}
            if status == ImportStatus.DUPLICATE and first:
                summary["duplicate_of"] = first
            imp = RemittanceImport.objects.create(
                **fields, content="", status=status, summary=summary, finished_at=timezone.now()
            )
        audit_record(action="remittance.upload", obj=imp, detail={"status": status})
        if status == ImportStatus.PENDING:
            outbox_enqueue(
                topic="denials.remittance_post",
                payload={"import_id": str(imp.pk)},
                idempotency_key=f"remittance-post:{imp.pk}",
            )
    return imp


LIVE_IMPORT_STATUSES = (ImportStatus.PENDING, ImportStatus.RUNNING, ImportStatus.POSTED)
LIVE_IMPORT_CONSTRAINT = "remitimport_org_sha_live_uniq"


def _live_import_of(sha: str) -> str:
    """The id of the import of these bytes that is waiting, posting or posted ("" if none)."""
    pk = (
        RemittanceImport.objects.filter(sha256=sha, status__in=LIVE_IMPORT_STATUSES)
        .order_by("created_at")
        .values_list("pk", flat=True)
        .first()
    )
    return str(pk) if pk else ""


def remittance_post(*, import_id: Any, today: date) -> RemittanceImport:
    """Post a pending import in one transaction, dating its work in `today` (the organization's
    day); a second call (a redelivered job) finds it no longer pending and does nothing."""
    with transaction.atomic():
        claimed = RemittanceImport.objects.filter(pk=import_id, status=ImportStatus.PENDING).update(
            status=ImportStatus.RUNNING
        )
        imp = RemittanceImport.objects.get(pk=import_id)
        if not claimed:
            return imp
        parsed, error, position = remittance_validate(imp.content)
        summary: Summary | None = None
        if parsed is None:
            imp.status, imp.error, imp.error_position = ImportStatus.REJECTED, error, position
        else:
            poster = Poster(org_id=require_organization_id(), remittance_import=imp, today=today)
            try:
                with transaction.atomic():
                    summary = poster.post(parsed)
            except DataError as exc:
                # A value the reader let through but a column cannot hold: the same file would
                # fail the same way on every retry, so the import ends here instead of staying
                # pending while the job is retried.
                summary = None
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "data error"
                imp.status, imp.error, imp.error_position = (
                    ImportStatus.REJECTED,
                    f"The file could not be posted; nothing was posted: {reason}.",
                    None,
                )
                imp.summary = {"rows_posted": 0}
        if summary is not None:
            imp.status = ImportStatus.POSTED
            imp.summary = summary.as_dict()
            imp.processed_claims = imp.total_claims
            if summary.secondary_claims:
                # The balance moves to the secondary payer: its claims are built after this commits.
                outbox_enqueue(
                    topic="denials.secondary_claims_build",
                    payload={"import_id": str(imp.pk)},
                    idempotency_key=f"secondary-build:{imp.pk}",
                )
        imp.finished_at = timezone.now()
        imp.save()
        audit_record(
            action="remittance.post",
            obj=imp,
            detail={k: v for k, v in imp.summary.items() if k != "status_unchanged"},
        )
    progress_set(imp.pk, imp.processed_claims)
    return imp


def _exception_for_update(exception: RemittanceException, field: str) -> RemittanceException:
    """Lock the exception (two people matching it at once post it once) and refuse a resolved
    one."""
    locked = (
        RemittanceException.objects.select_for_update(of=("self",))
        .select_related(
            "remittance_import",
            "remittance_line",
            "remittance_claim__payment__payer",
            "remittance_claim__claim",
        )
        .get(pk=exception.pk)
    )
    if locked.resolved:
        raise DomainError("This exception is already resolved; nothing was posted.", field=field)
    return locked


def _exception_close(
    exception: RemittanceException, *, note: str, actor: Any, today: date
) -> RemittanceException:
    """Mark the exception resolved with how, and close its work item with the same note."""
    exception.resolved = True
    exception.resolution_note = note
    exception.resolved_by = actor if getattr(actor, "pk", None) else None
    exception.resolved_at = timezone.now()
    exception.save(
        update_fields=["resolved", "resolution_note", "resolved_by", "resolved_at", "updated_at"]
    )
    item = WorkItem.objects.filter(
        kind=WorkKind.UNMATCHED_REMITTANCE, source_id=exception.pk
    ).first()
    if item is not None and item.is_open:
        work_item_update(
            item=item, actor=actor, status=WorkStatus.RESOLVED_PAID, note=note, today=today
        )
    return exception


def _primary_snapshot(secondary: SecondaryClaim) -> dict[str, Any]:
    """The primary's adjudication (recorded at posting) with the primary payer and subscriber as
    they were billed: everything the secondary's 837 COB loops need (claims.cob)."""
    primary = secondary.primary_claim
    coverage, payer, patient = primary.coverage, primary.payer, primary.patient
    dependent = coverage.relationship != "18"
    return {
        **secondary.primary_adjudication,
        "payer_name": payer.name,
        "payer_id": payer.payer_id,
        "filing_indicator": FILING_INDICATOR.get(payer.payer_type, "ZZ"),
        "responsibility": RESPONSIBILITY.get(coverage.priority, "P"),
        "relationship": coverage.relationship,
        "group_number": coverage.group_number,
        "member_id": coverage.member_id,
        "subscriber_last_name": coverage.subscriber_last_name if dependent else patient.last_name,
        "subscriber_first_name": (
            coverage.subscriber_first_name if dependent else patient.first_name
        ),
    }


def secondary_claims_build(
    *,
    secondary_ids: list[Any] | None = None,
    import_id: Any = None,
    today: date,
    actor: Any = None,
    scopes: Collection[str],
) -> list[Claim]:
    """Build the claims for balances that moved to a secondary coverage and are still to bill
    (the given ones, those of one 835 import, or all): each claim carries the primary's
    adjudication, its lines open at what the primary left (the patient's share), and is scrubbed.
    Safe to run twice (a secondary with a claim is skipped; rows another worker holds are
    skipped too). A fixed number of queries however many.

    `scopes` are the member's (a page or the API): only the balances they may see are built
    (42 CFR Part 2); the ids of others are ignored like those already billed. `part2.ORGANIZATION`
    is the organization as a whole (the posting job, the outbox handler), which sees every row."""
    with transaction.atomic():
        qs = SecondaryClaim.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=SecondaryStatus.TO_BILL, claim__isnull=True
        )
        qs = part2.visible(qs, scopes)
        if secondary_ids is not None:
            qs = qs.filter(pk__in=secondary_ids)
        if import_id is not None:
            qs = qs.filter(remittance_claim__payment__remittance_import_id=import_id)
        rows = list(
            qs.select_related(
                "coverage",
                "primary_claim__coverage",
                "primary_claim__payer",
                "primary_claim__patient",
            ).order_by("created_at")
        )
        if not rows:
            return []
        claims = claims_services.secondary_claims_create(
            sources=[
                claims_services.SecondarySource(
                    row.primary_claim, row.coverage, _primary_snapshot(row)
                )
                for row in rows
            ],
            today=today,
            actor=actor,
        )
        settled = {c.pk: prior_payer_settled(c.other_payer_adjudication) for c in claims}
        LineBalance.objects.bulk_create(
            [
                LineBalance(
                    organization_id=line.organization_id,
                    claim_id=line.claim_id,
                    claim_line=line,
                    charge=line.charge,
                    prior_payer=settled[line.claim_id].get(str(line.service_entry_id), rules.ZERO),
                )
                for line in ClaimLine.objects.filter(claim_id__in=list(settled))
            ],
            batch_size=2000,
        )
        for row, claim in zip(rows, claims, strict=True):
            row.claim, row.status = claim, SecondaryStatus.BILLED
        SecondaryClaim.objects.bulk_update(rows, ["claim", "status"], batch_size=1000)
        audit_record(action="secondary_claims.build", detail={"claims": len(claims)})
    return claims


def secondary_claim_build(
    *, secondary: SecondaryClaim, today: date, actor: Any = None
) -> SecondaryClaim:
    """Build one secondary claim now; refused (nothing changed) unless it is still to bill. The
    caller looked `secondary` up among the rows it may see (selectors.secondaries_list)."""
    with transaction.atomic():
        secondary = SecondaryClaim.objects.select_for_update().get(pk=secondary.pk)
        if secondary.status != SecondaryStatus.TO_BILL:
            raise DomainError(
                f"This balance is {secondary.get_status_display().lower()}: nothing to build.",
                field="status",
            )
        secondary_claims_build(
            secondary_ids=[secondary.pk], today=today, actor=actor, scopes=part2.ORGANIZATION
        )
        secondary.refresh_from_db()
    return secondary


def remittance_exception_resolve(
    *,
    exception: RemittanceException,
    note: str,
    today: date,
    actor: Any = None,
) -> RemittanceException:
    """Close an exception that is not ours to post (another provider's claim, a payer error to
    refund): nothing is posted, and the note saying why is required."""
    if not note.strip():
        raise DomainError("Say why this is not ours (refund, other provider...).", field="note")
    with transaction.atomic():
        exception = _exception_for_update(exception, "note")
        _exception_close(exception, note=note.strip(), actor=actor, today=today)
        audit_record(
            action="remittance_exception.resolve",
            obj=exception,
            detail={"kind": exception.kind, "fields": ["resolution_note"]},
        )
    return exception


def remittance_exception_match(
    *,
    exception: RemittanceException,
    claim_line: ClaimLine | None = None,
    claim: Claim | None = None,
    confirm: bool = False,
    today: date,
    actor: Any = None,
) -> RemittanceException:
    """Post an exception to what a person says it belongs to, exactly as the import would have:
    an unmatched line to a line of the claim its CLP matched (`claim_line`), an unmatched claim
    to one of our claims (`claim`, its SVCs matched by REF*6R or the fallback; those still
    unmatched become line exceptions). Resolves the exception and its work item."""
    field = "claim_line" if exception.kind == ExceptionKind.UNMATCHED_LINE else "claim"
    with transaction.atomic():
        exception = _exception_for_update(exception, field)
        if exception.kind == ExceptionKind.UNMATCHED_LINE:
            target, note, summary = _match_line(exception, claim_line, claim, confirm, today)
        else:
            target, note, summary = _match_claim(exception, claim, claim_line, today)
        _exception_close(exception, note=note, actor=actor, today=today)
        if summary.secondary_claims:
            # The matched claim's patient share moved to a secondary coverage: bill it, as an
            # import does once it commits.
            secondary_claims_build(
                secondary_ids=list(
                    SecondaryClaim.objects.filter(
                        remittance_claim_id=exception.remittance_claim_id
                    ).values_list("pk", flat=True)
                ),
                today=today,
                actor=actor,
                # The claim was matched by the caller, who may see it: its balances too.
                scopes=part2.ORGANIZATION,
            )
        audit_record(
            action="remittance_exception.match",
            obj=exception,
            patient_id=target.patient_id,
            detail={
                "kind": exception.kind,
                "fields": [field],
                "denials": summary.denied_lines,
                "status_changes": summary.status_changes,
                "new_exceptions": summary.unmatched,
            },
        )
    return exception


def _lock_claim(claim_id: Any, field: str) -> Claim:
    """The claim (of this organization: the tenant manager filters) and its balances, locked:
    two hand matches on one claim add up, never overwrite each other's balance totals."""
    claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
    if claim is None:
        raise DomainError("That claim is not one of this organization's.", field=field)
    list(LineBalance.objects.select_for_update().filter(claim=claim).values_list("pk"))
    return claim


def _status_words(poster: StoredPoster, claim: Claim) -> str:
    """What happened to the claim's status, for the resolution note."""
    if poster.summary.status_unchanged:
        return f" Status left alone ({'; '.join(poster.summary.status_unchanged)})."
    if poster.summary.status_changes:
        return f" The claim is now {ClaimStatus(poster.claim_targets[claim.pk]).label.lower()}."
    return ""


def _match_line(
    exception: RemittanceException,
    claim_line: ClaimLine | None,
    claim: Claim | None,
    confirm: bool,
    today: date,
) -> tuple[Claim, str, Summary]:
    rc = exception.remittance_claim
    if claim is not None or claim_line is None:
        raise DomainError(
            "A line exception is posted to a line of the claim this payment is for: choose "
            "the claim line.",
            field="claim_line",
        )
    if rc.claim_id is None or exception.remittance_line is None:
        raise DomainError("This exception has no matched claim to post to.", field="claim_line")
    if claim_line.claim_id != rc.claim_id:
        raise DomainError(
            f"That line belongs to another claim, not to claim {rc.claim.patient_control_number}"  # type: ignore[union-attr]
            " this payment is for.",
            field="claim_line",
        )
    ours = _lock_claim(rc.claim_id, "claim_line")
    if ours.status == ClaimStatus.VOID:
        raise DomainError(
            f"Claim {ours.patient_control_number} is void: nothing can be posted to it.",
            field="claim_line",
        )
    if exception.remittance_line.claim_line_id is not None:
        raise DomainError("This remittance line is already posted.", field="claim_line")
    twice = RemittanceLine.objects.filter(remittance_claim=rc, claim_line=claim_line).first()
    if twice is not None and not confirm:
        raise DomainError(
            f"Line {claim_line.line_number} already carries SVC {twice.service_code} "
            f"${twice.charge} (paid ${twice.paid}) of this same remittance claim. Confirm to "
            "post a second payment to it.",
            field="confirm",
        )
    poster = StoredPoster(org_id=require_organization_id(), exception=exception, today=today)
    summary = poster.match_line(claim_line)
    note = (
        f"Posted to line {claim_line.line_number} ({claim_line.service_code} on "
        f"{claim_line.date_of_service:%Y-%m-%d}) of claim {ours.patient_control_number}."
        + _status_words(poster, ours)
    )
    return ours, note, summary


def _match_claim(
    exception: RemittanceException,
    claim: Claim | None,
    claim_line: ClaimLine | None,
    today: date,
) -> tuple[Claim, str, Summary]:
    if claim_line is not None or claim is None:
        raise DomainError(
            "A claim exception is posted to one of our claims: choose the claim.", field="claim"
        )
    if exception.remittance_claim.claim_id is not None:
        raise DomainError("This remittance claim is already matched to a claim.", field="claim")
    ours = _lock_claim(claim.pk, "claim")
    if ours.status == ClaimStatus.VOID:
        raise DomainError(
            f"Claim {ours.patient_control_number} is void: nothing can be posted to it.",
            field="claim",
        )
    poster = StoredPoster(org_id=require_organization_id(), exception=exception, today=today)
    summary = poster.match_claim(ours)
    posted = len(poster.relinked)
    note = f"Matched to claim {ours.patient_control_number}: {posted} line(s) posted" + (
        f", {summary.unmatched} line(s) matched none of its lines (new exceptions)."
        if summary.unmatched
        else "."
    )
    return ours, note + _status_words(poster, ours), summary


# --- Work items ------------------------------------------------------------------------------


def work_item_open(
    *,
    kind: str,
    source_id: uuid.UUID,
    title: str,
    today: date,
    claim: Claim | None = None,
    amount: Decimal = Decimal("0.00"),
    category: str = "",
    deadline: date | None = None,
) -> WorkItem:
    """Open a work item for anything another app wants chased (e.g. a 277CA rejection: kind
    'rejection', source_id the rejection's id). The same kind + source twice is one item."""
    if kind not in WorkKind.values:
        raise DomainError(f"Unknown work item kind: {kind}", field="kind")
    with transaction.atomic():
        item, created = WorkItem.objects.get_or_create(
            kind=kind,
            source_id=source_id,
            defaults={
                "title": title[:200],
                "claim": claim,
                "payer_id": claim.payer_id if claim else None,
                "amount": amount,
                "category": category,
                "deadline": deadline,
                "priority_score": rules.priority_score(
                    amount=amount, category=category or "other", deadline=deadline, today=today
                ),
                "status_changed_on": today,
                "opened_on": today,
                "next_follow_up": today,
                "is_due": True,
            },
        )
        if created:
            audit_record(action="work_item.open", obj=item, detail={"kind": kind})
    return item


def _event(item: WorkItem, actor: Any, before: str, after: str, note: str = "") -> WorkItemEvent:
    return WorkItemEvent(
        organization_id=item.organization_id,
        work_item=item,
        actor=actor,
        from_status=before,
        to_status=after,
        note=note,
    )


def work_items_assign(
    *, item_ids: list[Any], assignee: Any, actor: Any = None, scopes: Collection[str]
) -> int:
    """Bulk assign (or unassign with None); the assignee (a User or its id) must be an active
    member here who may work denials. Only the items the caller may see are assigned (42 CFR
    Part 2): the ids of others are ignored, like ids of no item; the count says how many were."""
    if assignee is not None:
        assignee = member_with_scope(assignee, scope="denials:write")
    with transaction.atomic():
        items = list(
            part2.visible(
                WorkItem.objects.select_for_update(of=("self",)).filter(pk__in=item_ids), scopes
            )
        )
        WorkItem.objects.filter(pk__in=[i.pk for i in items]).update(assignee=assignee)
        name = str(assignee) if assignee else "nobody"
        WorkItemEvent.objects.bulk_create(
            [_event(i, actor, i.status, i.status, f"Assigned to {name}") for i in items]
        )
        audit_record(action="work_item.assign", detail={"count": len(items)})
    return len(items)


def work_item_update(
    *,
    item: WorkItem,
    actor: Any = None,
    status: str | None = None,
    next_follow_up: date | None = None,
    note: str = "",
    today: date,
) -> WorkItem:
    """Move a work item (status, next follow-up date) and add a note to its history, dated
    `today` (the organization's day; a follow-up before it is refused)."""
    if status is not None and status not in WorkStatus.values:
        raise DomainError(f"Unknown status: {status}", field="status")
    if next_follow_up is not None and next_follow_up < today:
        raise DomainError("The next follow-up date is in the past.", field="next_follow_up")
    with transaction.atomic():
        item = WorkItem.objects.select_for_update().get(pk=item.pk)
        before = item.status
        if status and status != before:
            item.status = status
            item.status_changed_on = today
        if next_follow_up is not None:
            item.next_follow_up = next_follow_up
            item.is_due = next_follow_up <= today
        if not item.is_open:
            item.is_due = False
        if note:
            stamp = f"{today.isoformat()} {actor or 'system'}: {note.strip()}"
            item.notes = f"{item.notes}\n{stamp}".strip()
        item.save()
        WorkItemEvent.objects.create(
            work_item=item, actor=actor, from_status=before, to_status=item.status, note=note
        )
        audit_record(
            action="work_item.update",
            obj=item,
            detail={
                "fields": [
                    f
                    for f, v in (
                        ("status", status),
                        ("next_follow_up", next_follow_up),
                        ("note", note),
                    )
                    if v
                ]
            },
        )
    return item


def work_item_claim_next(*, user: Any, today: date, scopes: Collection[str]) -> WorkItem | None:
    """Give `user` the highest-priority due, unassigned item among those `scopes` may see (never
    a Part 2 item without the grant). SKIP LOCKED: two workers asking at once get different
    items, never the same one."""
    with transaction.atomic():
        due = WorkItem.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            assignee__isnull=True, is_due=True, status__in=OPEN_WORK_STATUSES
        )
        item = part2.visible(due, scopes).order_by("-priority_score", "opened_on").first()
        if item is None:
            return None
        item.assignee = user
        before = item.status
        if item.status == WorkStatus.NEW:
            item.status = WorkStatus.IN_PROGRESS
            item.status_changed_on = today
        item.save(update_fields=["assignee", "status", "status_changed_on", "updated_at"])
        WorkItemEvent.objects.create(
            work_item=item,
            actor=user,
            from_status=before,
            to_status=item.status,
            note="Taken from the queue",
        )
    return item


# --- Follow-up scan ----------------------------------------------------------------------------


@dataclass
class ScanResult:
    became_due: int = 0
    escalations: int = 0
    payer_follow_ups: int = 0
    status_follow_ups: int = 0
    rescored: int = 0


STATUS_FOLLOW_UP_DAYS = 30


def follow_up_scan(*, today: date) -> ScanResult:
    """The hourly scan for the organization in context; set-based and safe to run twice:
    due follow-ups, appeal deadlines at 14/7/3 days (manager alert), items waiting on the payer
    past its response time (a follow-up item), and accepted claims with no remittance after 30
    days (a status follow-up item)."""
    result = ScanResult()
    org_id = require_organization_id()
    with transaction.atomic():
        result.became_due = WorkItem.objects.filter(
            status__in=OPEN_WORK_STATUSES, is_due=False, next_follow_up__lte=today
        ).update(is_due=True)
        result.escalations = _escalate_deadlines(today)
        waiting = list(
            WorkItem.objects.filter(
                status=WorkStatus.WAITING_ON_PAYER, payer__isnull=False
            ).select_related("payer")
        )
        overdue = [w for w in waiting if (today - w.status_changed_on).days > w.payer.response_days]
        existing = set(
            WorkItem.objects.filter(
                kind=WorkKind.PAYER_FOLLOW_UP, source_id__in=[w.pk for w in overdue]
            ).values_list("source_id", flat=True)
        )
        follow_ups = [
            WorkItem(
                organization_id=org_id,
                kind=WorkKind.PAYER_FOLLOW_UP,
                source_id=w.pk,
                claim_id=w.claim_id,
                payer_id=w.payer_id,
                title=f"Call {w.payer.name}: no answer in {w.payer.response_days} days ({w.title})"[
                    :200
                ],
                category=w.category,
                amount=w.amount,
                deadline=w.deadline,
                priority_score=rules.priority_score(
                    amount=w.amount,
                    category=w.category or "other",
                    deadline=w.deadline,
                    today=today,
                ),
                status_changed_on=today,
                opened_on=today,
                next_follow_up=today,
                is_due=True,
            )
            for w in overdue
            if w.pk not in existing
        ]
        WorkItem.objects.bulk_create(follow_ups, ignore_conflicts=True)
        # Counted as inserted: a concurrent scan's rows are not this scan's.
        result.payer_follow_ups = len(rows_inserted(WorkItem, follow_ups))
        result.status_follow_ups = _status_follow_ups(org_id, today)
        result.rescored = _rescore(today)
    return result


def _escalate_deadlines(today: date) -> int:
    denials = list(
        Denial.objects.filter(
            appeal_deadline__gte=today,
            appeal_deadline__lte=today + timedelta(days=max(rules.ESCALATION_DAYS)),
        )
        .filter(
            pk__in=WorkItem.objects.filter(
                kind=WorkKind.DENIAL,
                status__in=[WorkStatus.NEW, WorkStatus.IN_PROGRESS, WorkStatus.WAITING_ON_PAYER],
            ).values("source_id")
        )
        .select_related("claim")
    )
    manager = (
        Membership.objects.filter(role__in=[Role.MANAGER, Role.OWNER], is_active=True)
        .order_by("role")
        .values_list("user_id", flat=True)
        .first()
    )
    specs = []
    for d in denials:
        threshold = rules.escalation_threshold(d.appeal_deadline, today)
        if threshold is None:
            continue
        specs.append(
            AlertSpec(
                area="denials",
                kind="appeal_deadline",
                dedupe_key=f"denials:appeal-deadline:{d.pk}:{threshold}",
                title=f"Appeal deadline in {(d.appeal_deadline - today).days} days: "
                f"{d.group_code}-{d.carc} ${d.amount} on claim {d.claim.patient_control_number}",
                message=f"The {d.get_category_display().lower()} denial must be appealed by "
                f"{d.appeal_deadline:%b %d, %Y}.",
                severity="critical" if threshold <= 3 else "warning",
                subject_type="denial",
                subject_id=d.pk,
                patient_id=d.claim.patient_id,
                part2=part2.is_part2(d),
                due_on=d.appeal_deadline,
                assignee_id=manager,
            )
        )
    return len(alerts_raise(specs=specs))


def _status_follow_ups(org_id: uuid.UUID, today: date) -> int:
    # Accepted on or before the day STATUS_FOLLOW_UP_DAYS before `today`, in the organization's
    # time zone: before the start of the day after that one there.
    zone = zoneinfo.ZoneInfo(
        Organization.objects.values_list("time_zone", flat=True).get(pk=org_id)
    )
    cutoff = datetime.combine(
        today - timedelta(days=STATUS_FOLLOW_UP_DAYS - 1), time.min, tzinfo=zone
    )
    accepted_ids = ClaimEvent.objects.filter(
        to_status=ClaimStatus.ACCEPTED, created_at__lt=cutoff
    ).values("claim_id")
    answered = RemittanceClaim.objects.filter(claim__isnull=False).values("claim_id")
    existing = WorkItem.objects.filter(kind=WorkKind.STATUS_FOLLOW_UP).values("source_id")
    claims = list(
        Claim.objects.filter(status=ClaimStatus.ACCEPTED, pk__in=accepted_ids)
        .exclude(pk__in=answered)
        .exclude(pk__in=existing)
        .select_related("payer")
        .only("pk", "payer_id", "total_charge", "patient_control_number", "payer__name")
    )
    items = [
        WorkItem(
            organization_id=org_id,
            kind=WorkKind.STATUS_FOLLOW_UP,
            source_id=c.pk,
            claim_id=c.pk,
            payer_id=c.payer_id,
            title=f"No answer from {c.payer.name} on claim {c.patient_control_number} "
            f"{STATUS_FOLLOW_UP_DAYS} days after acceptance: check claim status"[:200],
            amount=c.total_charge,
            priority_score=rules.priority_score(
                amount=c.total_charge, category="other", deadline=None, today=today
            ),
            status_changed_on=today,
            opened_on=today,
            next_follow_up=today,
            is_due=True,
        )
        for c in claims
    ]
    WorkItem.objects.bulk_create(items, ignore_conflicts=True)
    return len(rows_inserted(WorkItem, items))


def _rescore(today: date) -> int:
    """Deadline urgency changes with the date: refresh the score of open items with a deadline
    (only the ones whose score moved are written)."""
    items = list(
        WorkItem.objects.filter(status__in=OPEN_WORK_STATUSES, deadline__isnull=False).only(
            "pk", "amount", "category", "deadline", "priority_score"
        )
    )
    changed = []
    for item in items:
        score = rules.priority_score(
            amount=item.amount,
            category=item.category or "other",
            deadline=item.deadline,
            today=today,
        )
        if score != item.priority_score:
            item.priority_score = score
            changed.append(item)
    WorkItem.objects.bulk_update(changed, ["priority_score"], batch_size=1000)
    return len(changed)


# --- Appeals and letters ------------------------------------------------------------------------


def appeal_create(*, denial: Denial, level: str, today: date, actor: Any = None) -> Appeal:
    """Open an appeal at a level, with its deadline (a later level's counts from `today`) and a
    first draft of the letter."""
    from denials.letters import letter_draft

    if level not in AppealLevel.values:
        raise DomainError(f"Unknown appeal level: {level}", field="level")
    if Appeal.objects.filter(denial=denial, level=level).exists():
        raise DomainError("This denial already has an appeal at that level.", field="level")
    deadline = (
        denial.appeal_deadline
        if level == AppealLevel.LEVEL_1
        else today + timedelta(days=denial.payer.appeal_window_days)
    )
    with transaction.atomic():
        appeal = Appeal.objects.create(denial=denial, level=level, deadline=deadline)
        appeal.letter_body = letter_draft(appeal, today=today)
        appeal.letter_updated_at = timezone.now()
        appeal.save(update_fields=["letter_body", "letter_updated_at", "updated_at"])
        audit_record(
            action="appeal.create",
            obj=appeal,
            patient_id=denial.claim.patient_id,
            detail={"level": level},
        )
    return appeal


def appeal_letter_save(*, appeal: Appeal, body: str, actor: Any = None) -> Appeal:
    """Save the biller's edit of a letter not yet sent (a sent letter is a record)."""
    if appeal.submitted_on is not None:
        raise DomainError(
            "This letter was sent: its recorded copy can no longer change.", field="letter_body"
        )
    if not body.strip():
        raise DomainError("The letter is empty.", field="letter_body")
    with transaction.atomic():
        appeal.letter_body = body
        appeal.letter_updated_at = timezone.now()
        appeal.save(update_fields=["letter_body", "letter_updated_at", "updated_at"])
        audit_record(
            action="appeal.letter_edit",
            obj=appeal,
            patient_id=appeal.denial.claim.patient_id,
            detail={"fields": ["letter_body"]},
        )
    return appeal


def appeal_submit(
    *, appeal: Appeal, submitted_on: date, method: str, today: date, actor: Any = None
) -> Appeal:
    """Record that the appeal went out (on or before `today`); its work item waits on the payer,
    the claim is appealed. The letter must be complete (no placeholder; date, payer name and
    appeals address, provider signature block, claim and member ids); the copy sent is recorded."""
    from claims.services import claim_transition
    from denials.letters import html_to_pdf, letter_html, letter_missing

    if appeal.submitted_on is not None:
        raise DomainError("This appeal was already recorded as sent.", field="submitted_on")
    missing = letter_missing(appeal)
    if missing:
        raise DomainError(
            "The letter cannot be recorded as sent yet. It lacks: " + "; ".join(missing) + ".",
            field="letter_body",
        )
    if submitted_on > today:
        raise DomainError("The submission date is in the future.", field="submitted_on")
    if submitted_on > appeal.deadline:
        raise DomainError(
            f"The appeal deadline was {appeal.deadline}; a late appeal needs the payer's "
            "good-cause exception, record it in the notes.",
            field="submitted_on",
        )
    if not method.strip():
        raise DomainError("Say how the appeal was sent (portal, fax, mail).", field="method")
    html = letter_html(appeal)
    pdf = html_to_pdf(html)
    with transaction.atomic():
        appeal.submitted_on, appeal.method = submitted_on, method.strip()[:20]
        appeal.sent_letter_html, appeal.sent_letter_pdf = html, pdf
        appeal.save(
            update_fields=[
                "submitted_on",
                "method",
                "sent_letter_html",
                "sent_letter_pdf",
                "updated_at",
            ]
        )
        claim = appeal.denial.claim
        claim.refresh_from_db(fields=["status"])
        if claim.status in {ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID}:
            claim_transition(
                claim=claim,
                to_status=ClaimStatus.APPEALED,
                actor=actor,
                note=f"{appeal.get_level_display()} appeal sent",
            )
        item = WorkItem.objects.filter(kind=WorkKind.DENIAL, source_id=appeal.denial_id).first()
        if item is not None:
            work_item_update(
                item=item,
                actor=actor,
                status=WorkStatus.WAITING_ON_PAYER,
                note=f"{appeal.get_level_display()} appeal sent by {method}",
                today=submitted_on,
            )
        audit_record(
            action="appeal.submit",
            obj=appeal,
            patient_id=claim.patient_id,
            detail={"fields": ["submitted_on", "method"]},
        )
    return appeal


def appeal_decide(
    *,
    appeal: Appeal,
    outcome: str,
    decided_on: date,
    recovered_amount: Decimal,
    today: date,
    actor: Any = None,
) -> Appeal:
    if outcome not in {AppealOutcome.OVERTURNED, AppealOutcome.PARTIAL, AppealOutcome.UPHELD}:
        raise DomainError("The outcome is overturned, partial or upheld.", field="outcome")
    if recovered_amount < 0 or recovered_amount > appeal.denial.amount:
        raise DomainError(
            "The recovered amount is between 0 and the denied amount.", field="recovered_amount"
        )
    if appeal.submitted_on is None:
        raise DomainError("Record when the appeal was sent first.", field="outcome")
    with transaction.atomic():
        appeal.outcome, appeal.decided_on, appeal.recovered_amount = (
            outcome,
            decided_on,
            recovered_amount,
        )
        appeal.save(update_fields=["outcome", "decided_on", "recovered_amount", "updated_at"])
        item = WorkItem.objects.filter(kind=WorkKind.DENIAL, source_id=appeal.denial_id).first()
        if item is not None and outcome != AppealOutcome.UPHELD:
            work_item_update(
                item=item,
                actor=actor,
                status=WorkStatus.RESOLVED_PAID,
                note=f"Appeal {outcome}: ${recovered_amount} recovered",
                today=today,
            )
        elif item is not None:
            work_item_update(
                item=item,
                actor=actor,
                status=WorkStatus.IN_PROGRESS,
                note="Appeal upheld: next level or write off",
                today=today,
            )
        audit_record(
            action="appeal.decide",
            obj=appeal,
            patient_id=appeal.denial.claim.patient_id,
            detail={"outcome": outcome},
        )
    return appeal


def denial_correct_claim(*, denial: Denial, today: date, actor: Any = None) -> Claim:
    """A coding denial is fixed by a corrected claim (frequency 7), not an appeal."""
    from claims.services import claim_correct

    if denial.category not in {"coding", "information_missing", "documentation"}:
        raise DomainError(
            "A corrected claim fixes coding or missing-information denials; appeal this one.",
            field="category",
        )
    with transaction.atomic():
        copy = claim_correct(claim=denial.claim, today=today, actor=actor)
        item = WorkItem.objects.filter(kind=WorkKind.DENIAL, source_id=denial.pk).first()
        if item is not None:
            work_item_update(
                item=item,
                actor=actor,
                status=WorkStatus.IN_PROGRESS,
                note=f"Corrected claim {copy.patient_control_number} started",
                today=today,
            )
    return copy


# --- Write-offs ---------------------------------------------------------------------------------


def denial_settings() -> DenialSettings:
    found = DenialSettings.objects.first()
    return found or DenialSettings(organization_id=require_organization_id())


def denial_settings_update(
    *, write_off_approval_threshold: Decimal, small_balance_limit: Decimal
) -> DenialSettings:
    if write_off_approval_threshold < 0 or small_balance_limit < 0:
        raise DomainError("Amounts cannot be negative.", field="write_off_approval_threshold")
    with transaction.atomic():
        found, _ = DenialSettings.objects.update_or_create(
            defaults={
                "write_off_approval_threshold": write_off_approval_threshold,
                "small_balance_limit": small_balance_limit,
            }
        )
        audit_record(action="denial_settings.update", obj=found)
    return found


def write_off_request(
    *, balance: LineBalance, amount: Decimal, reason: str, actor: Any = None
) -> WriteOff:
    """Write off part of a line's open balance; above the organization's threshold it waits for
    a manager's approval before the balance moves."""
    if not reason.strip():
        raise DomainError("Give the reason for the write-off.", field="reason")
    if amount <= 0:
        raise DomainError("The amount must be positive.", field="amount")
    with transaction.atomic():
        balance = LineBalance.objects.select_for_update().get(pk=balance.pk)
        if amount > balance.open_balance:
            raise DomainError(
                f"The open balance is ${balance.open_balance}; write off no more than that.",
                field="amount",
            )
        needs = rules.write_off_needs_approval(
            amount, denial_settings().write_off_approval_threshold
        )
        wo = WriteOff.objects.create(
            claim_line_id=balance.claim_line_id,
            claim_id=balance.claim_id,
            amount=amount,
            reason=reason.strip()[:200],
            requested_by=actor,
            status=WriteOffStatus.PENDING if needs else WriteOffStatus.APPROVED,
            approved_by=None if needs else actor,
        )
        if not needs:
            LineBalance.objects.filter(pk=balance.pk).update(written_off=F("written_off") + amount)
        audit_record(action="write_off.request", obj=wo, detail={"needs_approval": needs})
    return wo


def write_off_decide(*, write_off: WriteOff, approve: bool, actor: Any) -> WriteOff:
    """Approve or refuse a pending write-off, once: two people deciding at the same moment do
    not both apply it, and an approval larger than what is still open on the line is refused."""
    with transaction.atomic():
        write_off = WriteOff.objects.select_for_update().get(pk=write_off.pk)
        if write_off.status != WriteOffStatus.PENDING:
            raise DomainError("This write-off was already decided.", field="status")
        if (
            write_off.requested_by_id is not None
            and actor is not None
            and write_off.requested_by_id == actor.pk
        ):
            raise DomainError("Someone else must approve your own write-off.", field="status")
        if approve:
            balance = (
                LineBalance.objects.select_for_update()
                .filter(claim_line_id=write_off.claim_line_id)
                .first()
            )
            if balance is not None and write_off.amount > balance.open_balance:
                raise DomainError(
                    f"Only ${balance.open_balance} is still open on this line; the write-off of "
                    f"${write_off.amount} would take it below zero.",
                    field="amount",
                )
            if balance is not None:
                balance.written_off += write_off.amount
                balance.save(update_fields=["written_off", "updated_at"])
        write_off.status = WriteOffStatus.APPROVED if approve else WriteOffStatus.REFUSED
        write_off.approved_by = actor
        write_off.save(update_fields=["status", "approved_by", "updated_at"])
        audit_record(action="write_off.decide", obj=write_off, detail={"approved": approve})
    return write_off


def small_balances_write_off() -> int:
    """The small-balance rule: open balances above 0 and at most the organization's limit are
    written off automatically (status 'auto'); run twice, the second run finds none left."""
    limit = denial_settings().small_balance_limit
    if limit <= 0:
        return 0
    with transaction.atomic():
        balances = list(
            LineBalance.objects.select_for_update(skip_locked=True).filter(
                Q(paid__gt=0) | Q(contractual__gt=0)
            )
        )
        picked = [
            (b, b.open_balance) for b in balances if rules.is_small_balance(b.open_balance, limit)
        ]
        WriteOff.objects.bulk_create(
            [
                WriteOff(
                    organization_id=b.organization_id,
                    claim_line_id=b.claim_line_id,
                    claim_id=b.claim_id,
                    amount=amount,
                    reason="Small balance (automatic rule)",
                    status=WriteOffStatus.AUTO,
                )
                for b, amount in picked
            ]
        )
        for b, amount in picked:
            b.written_off += amount
        LineBalance.objects.bulk_update([b for b, _ in picked], ["written_off"], batch_size=1000)
        if picked:
            audit_record(action="write_off.small_balances", detail={"count": len(picked)})
    return len(picked)
