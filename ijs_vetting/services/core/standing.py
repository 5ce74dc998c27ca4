"""Whether a consent record counts as consent today: the one rule every decision reads.

It sits below every service (vetting's show/blur decisions, the queue's checks, clearing, the
Children page and the consent reviews all ask it), so a lapsed consent is none everywhere at the
same moment its grace period ends.
"""

from __future__ import annotations

from datetime import date

from ijs_vetting.db.models import ConsentRecord
from ijs_vetting.renewal import ReviewPolicy


def review_date(record: ConsentRecord, policy: ReviewPolicy) -> date | None:
    """When a granted record must be re-confirmed (None: never, or a refusal)."""
    if not record.granted:
        return None
    given = record.given_on or record.recorded_at.date()
    return policy.review_date(given, record.review_on)


def counts_today(record: ConsentRecord | None, policy: ReviewPolicy, today: date) -> bool:
    """Whether the record is consent today: granted, and not past its review's grace period."""
    if record is None:
        return False
    return policy.counts(record.granted, review_date(record, policy), today)
