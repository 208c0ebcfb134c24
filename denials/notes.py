"""Notes on patients, claims and denials: the subject is resolved here, the highest layer that
knows all three, and the note is written by patients.services (where the one Note model lives).

A subject the caller may not see (another organization's, or a Part 2 record without the grant)
is `LookupError` (the views and API answer 404), never a note on it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from claims.models import Claim
from denials.models import Denial
from patients import services as patient_services
from patients.models import Note, NoteSubject, Patient
from rcm import part2


@dataclass(frozen=True)
class Subject:
    type: str
    id: Any
    patient: Patient
    part2: bool
    label: str
    url_name: str


def note_subject(*, subject_type: str, subject_id: Any, scopes: Collection[str]) -> Subject:
    """The subject a note is about, as the caller may see it; LookupError when there is none."""
    try:
        if subject_type == NoteSubject.CLAIM:
            claim = part2.visible(Claim.objects.select_related("patient"), scopes).get(
                pk=subject_id
            )
            return Subject(
                "claim",
                claim.pk,
                claim.patient,
                claim.is_part2,
                f"Claim {claim.patient_control_number}",
                "claims:detail",
            )
        if subject_type == NoteSubject.DENIAL:
            denial = part2.visible(
                Denial.objects.select_related("claim", "claim__patient"), scopes
            ).get(pk=subject_id)
            return Subject(
                "denial",
                denial.pk,
                denial.claim.patient,
                denial.claim.is_part2,
                f"Denial {denial.group_code}-{denial.carc} on claim "
                f"{denial.claim.patient_control_number}",
                "denials:denial",
            )
        if subject_type == NoteSubject.PATIENT:
            patient = Patient.objects.get(pk=subject_id)
            return Subject(
                "patient",
                patient.pk,
                patient,
                False,
                f"{patient.last_name}, {patient.first_name}",
                "patients:detail",
            )
    except (ValidationError, ValueError, Claim.DoesNotExist, Denial.DoesNotExist) as exc:
        raise LookupError(subject_type) from exc
    except Patient.DoesNotExist as exc:
        raise LookupError(subject_type) from exc
    raise LookupError(subject_type)


def note_add(
    *,
    subject_type: str,
    subject_id: Any,
    body: str,
    author: Any,
    scopes: Collection[str],
    part2_content: bool = False,
) -> Note:
    """Write a note on a subject the caller may see. A claim's or denial's note is Part 2 when
    its claim is; a patient note when its author says it holds SUD treatment detail."""
    subject = note_subject(subject_type=subject_type, subject_id=subject_id, scopes=scopes)
    return patient_services.note_create(
        patient=subject.patient,
        subject_type=subject.type,
        subject_id=subject.id,
        body=body,
        author=author,
        part2=subject.part2 or part2_content,
    )
