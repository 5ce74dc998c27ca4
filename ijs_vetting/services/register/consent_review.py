"""Consent that is renewed: each record's review date, what it counts as today, and who is due.

The rule itself is `ijs_vetting.renewal` (a school setting, [consent] in defaults.toml). Time
passing acts in two ways, so nothing waits for a person to remember:
- every decision reads consent "as of today" (`counts_today`): the show/blur policy, the queue's
  checks and clearing see lapsed consent as none the moment its grace period ends;
- `services.consent_lapse.apply_lapses` (run when the app starts, by `retention run`, and by
  `consent lapse`) records the lapse as a "no" (source `review_lapsed`), which withdraws queued
  items and lists posted ones for takedown exactly as a parent's withdrawal does, audited.
A roster import whose consent column is dated after the record (or that says yes again after a
lapse) renews it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, ConsentRecord
from ijs_vetting.db.state import current_consents
from ijs_vetting.domain import year_label
from ijs_vetting.json_report import JsonFields
from ijs_vetting.renewal import ReviewPolicy, ReviewState
from ijs_vetting.services.core.standing import review_date
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.core.station_settings import settings_of

LAPSED_SOURCE = "review_lapsed"  # the "no" recorded when a review's grace period ended


@dataclass(frozen=True)
class ReviewStatus(JsonFields):
    """A child's consent for one channel as the review sees it."""

    state: ReviewState
    review_on: date | None
    grace_ends: date | None


def review_status(record: ConsentRecord, policy: ReviewPolicy, today: date) -> ReviewStatus | None:
    """The review state of a current record, or None when no review concerns it (a parent's
    no, or consent without a review date)."""
    if record.source == LAPSED_SOURCE and not record.granted:
        return ReviewStatus(ReviewState.LAPSED, record.given_on, None)
    due = review_date(record, policy)
    if due is None:
        return None
    return ReviewStatus(policy.state(due, today), due, policy.grace_ends(due))


@dataclass(frozen=True)
class DueRow:
    """One line of the letters list: a child whose consent for a channel needs re-confirming."""

    mis_id: str
    first_name: str
    last_name: str
    preferred_name: str | None
    year_group: int
    class_name: str
    channel: str
    status: ReviewStatus

    @property
    def name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.mis_id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "preferred_name": self.preferred_name,
            "year": self.year_group,
            "class": self.class_name,
            "channel": self.channel,
            **self.status.as_json(),
        }


def due_rows(session: Session, today: date, child_ids: list[int] | None = None) -> list[DueRow]:
    """Children on roll whose consent is due, overdue or lapsed, by class and name."""
    policy = settings_of(session).consent_review
    query = select(Child).where(Child.on_roll.is_(True))
    if child_ids is not None:
        query = query.where(Child.id.in_(child_ids))
    kids = {c.id: c for c in session.scalars(query)}
    rows = []
    for (child_id, channel), record in current_consents(session, list(kids)).items():
        status = review_status(record, policy, today)
        if status is None or status.state is ReviewState.CURRENT:
            continue
        c = kids[child_id]
        rows.append(
            DueRow(
                c.mis_id,
                c.first_name,
                c.last_name,
                c.preferred_name,
                c.year_group,
                c.class_name,
                channel,
                status,
            )
        )
    rows.sort(key=lambda r: (r.year_group, r.class_name, r.last_name, r.first_name, r.channel))
    return rows


def due_for_review(station: Station, today: date | None = None) -> list[DueRow]:
    """The children whose consent the office should ask parents to re-confirm."""
    with station.read() as session:
        return due_rows(session, today or date.today())


@dataclass(frozen=True)
class Letter:
    """One letter home: a child and every channel whose consent needs re-confirming."""

    first: DueRow  # the child's most urgent row
    channels: tuple[str, ...]

    @property
    def summary(self) -> str:
        status = self.first.status
        return _STATE_WORDS[status.state].format(
            review=f"{status.review_on:%d %b %Y}" if status.review_on else "",
            grace=f"{status.grace_ends:%d %b %Y}" if status.grace_ends else "",
        )


_URGENCY = {ReviewState.LAPSED: 0, ReviewState.OVERDUE: 1, ReviewState.DUE: 2}
_STATE_WORDS = {
    ReviewState.DUE: "due {review}",
    ReviewState.OVERDUE: "overdue: counts until {grace}",
    ReviewState.LAPSED: "lapsed: no consent",
}


def letters(rows: list[DueRow]) -> list[Letter]:
    """One letter per child (rows are per channel), in the rows' order."""
    by_child: dict[str, list[DueRow]] = {}
    for row in rows:
        by_child.setdefault(row.mis_id, []).append(row)
    return [
        Letter(min(group, key=lambda r: _URGENCY[r.status.state]), tuple(r.channel for r in group))
        for group in by_child.values()
    ]


CSV_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "preferred_name",
    "year",
    "class",
    "channels",
    "state",
    "review_on",
)


def due_csv(rows: list[DueRow]) -> str:
    """The letters list for a mail merge, a line per child (UTF-8 with BOM, which Excel reads
    as UTF-8)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for letter in letters(rows):
        row = letter.first
        writer.writerow(
            {
                "id": row.mis_id,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "preferred_name": row.preferred_name or "",
                "year": year_label(row.year_group),
                "class": row.class_name,
                "channels": ", ".join(letter.channels),
                "state": row.status.state.value,
                "review_on": row.status.review_on.isoformat() if row.status.review_on else "",
            }
        )
    return "\ufeff" + out.getvalue()


def due_pdf(rows: list[DueRow], made_by: str, today: date) -> bytes:
    """The letters list as an A4 PDF for the office: one page (or more) per class."""
    from ijs_vetting.documents import Column, Document  # fpdf: only when printing (1 s)

    doc = Document(f"consent reviews as of {today:%d %B %Y}, made by {made_by}")
    doc.alias_nb_pages()
    columns = [
        Column("Child", 62, bold=True),
        Column("Class", 18),
        Column("Channels", 45),
        Column("Review", 55),
    ]
    by_class: dict[str, list[Letter]] = {}
    for letter in letters(rows):
        row = letter.first
        by_class.setdefault(row.class_name or year_label(row.year_group), []).append(letter)
    for class_name, entries in by_class.items() or {"": []}.items():
        doc.add_page()
        doc.title_block(
            f"Photo consent to re-confirm{': ' + class_name if class_name else ''}",
            [f"Send a permission form home for each child below ({today:%d %B %Y})."],
        )
        if not entries:
            doc.multi_cell(0, 8, "No child's consent is due for review.")
            continue
        doc.continued = f"Photo consent to re-confirm: {class_name}"
        doc.table_header(columns)
        for letter in entries:
            row = letter.first
            doc.table_row(
                columns, [row.name, row.class_name, ", ".join(letter.channels), letter.summary]
            )
    return doc.pdf_bytes()
