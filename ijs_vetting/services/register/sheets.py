"""Do-not-photograph sheets: for the adult holding the iPad, the children who must not appear.

The policy's first duty is the photographer's: "Staff should ensure that only children who have
permission to appear on Twitter are photographed." A sheet lists, for a class, a year group or a
trip list, the children on roll who must not appear on a channel: no consent, consent withdrawn,
never publish (without its reason: that is safeguarding information), consent lapsed at its
review, and consent due to be re-confirmed. One page (or more) per class, A4, black and white,
marked internal with the date and the register state it was made from (the newest audit entry:
a sheet made before a later change can be recognised). Printing is audited: who, which children.
"""

from __future__ import annotations

import enum
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import AuditEntry, Child, ConsentRecord, FaceTemplate
from ijs_vetting.db.state import current_consents, safeguarding_flags
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import InvalidInput, Role, year_label
from ijs_vetting.names import fold
from ijs_vetting.renewal import ReviewState
from ijs_vetting.services.core.lookup import find_channel
from ijs_vetting.services.core.posting_folder import write_atomically
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.register.consent_review import LAPSED_SOURCE, review_status
from ijs_vetting.services.register.templates import REFERENCE

ACTION = "sheet.print"
SHEET_ROLES = tuple(Role)  # the adults who take photos need the sheet most
PHOTO_MM = 24.0


class Why(enum.StrEnum):
    NEVER_PUBLISH = "never_publish"
    NO_CONSENT = "no_consent"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    REVIEW_DUE = "review_due"


_WORDS = {
    Why.NEVER_PUBLISH: "Never publish",
    Why.NO_CONSENT: "No consent",
    Why.WITHDRAWN: "Consent withdrawn",
    Why.LAPSED: "Consent lapsed (not re-confirmed)",
    Why.REVIEW_DUE: "To be re-confirmed by {date}",
}


@dataclass(frozen=True)
class SheetEntry:
    mis_id: str
    name: str  # preferred (else first) name and surname
    year_group: int
    class_name: str
    why: Why
    until: date | None  # for a review due: the last day consent still counts
    photo: bytes | None = None  # a small JPEG of the reference photo, when the school allows

    def words(self) -> str:
        until = f"{self.until:%d %b %Y}" if self.until else ""
        return _WORDS[self.why].format(date=until)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.mis_id,
            "name": self.name,
            "year": self.year_group,
            "class": self.class_name,
            "why": self.why.value,
            "until": self.until.isoformat() if self.until else None,
            "photo": self.photo is not None,
        }


@dataclass
class SheetReport:
    file: str
    channel: str
    scope: str
    made_at: datetime
    register_state: str
    selected: int
    classes: dict[str, list[SheetEntry]] = field(default_factory=dict)  # class -> listed

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "channel": self.channel,
            "scope": self.scope,
            "made_at": self.made_at.isoformat(),
            "register_state": self.register_state,
            "selected": self.selected,
            "pages": len(self.classes),
            "classes": {
                name: [e.as_json() for e in entries] for name, entries in self.classes.items()
            },
        }


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


def match_children(session: Session, lines: Sequence[str]) -> list[Child]:
    """The children a pasted list names, one per line: a MIS id or a name ("Millie Smith" or
    "Amelia Smith"), ignoring case and accents. Every line must name exactly one child on roll:
    a sheet that silently missed a child would be worse than none."""
    kids = list(session.scalars(select(Child).where(Child.on_roll.is_(True))))
    keys: dict[str, list[Child]] = {}
    for c in kids:
        names = {c.mis_id, f"{c.first_name} {c.last_name}"}
        if c.preferred_name:
            names.add(f"{c.preferred_name} {c.last_name}")
        for name in names:
            keys.setdefault(_fold(name), []).append(c)
    found: dict[int, Child] = {}
    problems = []
    for number, line in enumerate(lines, start=1):
        text = line.split(",")[0].strip()
        if not text or text.startswith("#"):
            continue
        matches = keys.get(_fold(text), [])
        if len({c.id for c in matches}) == 1:
            found.setdefault(matches[0].id, matches[0])
        elif matches:
            ids = ", ".join(sorted({c.mis_id for c in matches}))
            problems.append(f"line {number} '{text}' could be {ids}: use the MIS id")
        else:
            problems.append(f"line {number} '{text}' is no child on roll")
    if problems:
        raise InvalidInput("The list of children has problems: " + "; ".join(problems) + ".")
    if not found:
        raise InvalidInput("The list of children names nobody.")
    return list(found.values())


def _select(
    session: Session, year: int | None, class_name: str | None, names: Sequence[str] | None
) -> tuple[list[Child], str]:
    if sum(x is not None for x in (year, class_name, names)) != 1:
        raise InvalidInput("Choose one of a year group, a class or a list of children.")
    if names is not None:
        picked = match_children(session, names)
        return picked, f"a trip list of {len(picked)} children"
    query = select(Child).where(Child.on_roll.is_(True))
    if year is not None:
        query = query.where(Child.year_group == year)
        scope = year_label(year)
    else:
        assert class_name is not None
        query = query.where(func.lower(Child.class_name) == class_name.strip().lower())
        scope = f"class {class_name.strip()}"
    kids = list(session.scalars(query))
    if not kids:
        raise InvalidInput(f"There are no children on roll in {scope}.")
    return kids, scope


def _why(session: Session, kids: list[Child], channel: str, today: date) -> dict[int, SheetEntry]:
    ids = [c.id for c in kids]
    consents = current_consents(session, ids)
    flags = safeguarding_flags(session, ids)
    policy = settings_of(session).consent_review
    ever_granted = set(
        session.scalars(
            select(ConsentRecord.child_id).where(
                ConsentRecord.child_id.in_(ids),
                ConsentRecord.granted.is_(True),
                ConsentRecord.channel.has(code=channel),
            )
        )
    )
    out: dict[int, SheetEntry] = {}
    for c in kids:
        record = consents.get((c.id, channel))
        status = review_status(record, policy, today) if record else None
        until = None
        if (flag := flags.get(c.id)) is not None and flag.active:
            why = Why.NEVER_PUBLISH
        elif record is None:
            why = Why.NO_CONSENT
        elif status is not None and status.state is ReviewState.LAPSED:
            why = Why.LAPSED
        elif not record.granted:
            withdrawn = c.id in ever_granted and record.source != LAPSED_SOURCE
            why = Why.WITHDRAWN if withdrawn else Why.NO_CONSENT
        elif status is not None and status.state in (ReviewState.DUE, ReviewState.OVERDUE):
            why, until = Why.REVIEW_DUE, status.grace_ends
        else:
            continue
        out[c.id] = SheetEntry(
            c.mis_id,
            f"{c.preferred_name or c.first_name} {c.last_name}",
            c.year_group,
            c.class_name,
            why,
            until,
        )
    return out


def _photo(station: Station, session: Session, child_id: int) -> bytes | None:
    """A small greyscale JPEG of the child's first reference photo, if they have one."""
    sha = session.scalar(
        select(FaceTemplate.reference_sha256)
        .where(FaceTemplate.child_id == child_id)
        .order_by(FaceTemplate.id)
        .limit(1)
    )
    if sha is None:
        return None
    try:
        with Image.open(io.BytesIO(station.vault.read_sealed(sha, REFERENCE))) as img:
            img.thumbnail((240, 240))
            out = io.BytesIO()
            img.convert("L").save(out, "JPEG", quality=85)
            return out.getvalue()
    except (OSError, ValueError):
        return None  # unreadable: the name and class still identify the child


def register_state(session: Session) -> str:
    """The register's state as the newest audit entry: every change writes one."""
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()
    return f"audit entry {entry.id} ({entry.entry_hash[:12]})" if entry else "empty register"


def check_trip_list(station: Station, lines: Sequence[str]) -> int:
    """How many children a trip list names, or the refusal `make_sheet` would give it: asked
    before the office picks where to save the sheet, not after."""
    with station.read() as session:
        return len(match_children(session, lines))


def make_sheet(
    station: Station,
    actor: Actor,
    out: Path,
    *,
    channel: str = "twitter",
    year: int | None = None,
    class_name: str | None = None,
    names: Sequence[str] | None = None,
    today: date | None = None,
) -> SheetReport:
    """Write the do-not-photograph sheet to `out` (a PDF), audited."""
    day = today or date.today()
    with station.write(actor, ACTION, *SHEET_ROLES) as w:
        chan = find_channel(w.session, channel)
        kids, scope = _select(w.session, year, class_name, names)
        listed = _why(w.session, kids, chan.code, day)
        with_photos = settings_of(w.session).reference_photos_on_sheets
        report = SheetReport(
            file=str(out),
            channel=chan.code,
            scope=scope,
            made_at=utcnow(),
            register_state=register_state(w.session),
            selected=len(kids),
        )
        for c in sorted(kids, key=lambda k: (k.year_group, k.class_name, k.last_name)):
            entries = report.classes.setdefault(c.class_name or year_label(c.year_group), [])
            if c.id in listed:
                photo = _photo(station, w.session, c.id) if with_photos else None
                entries.append(replace(listed[c.id], photo=photo))
        trip = names is not None
        write_atomically(out, render_sheet(report, chan.name, actor.username, with_photos, trip))
        w.audit(
            f"do-not-photograph sheet for {scope} ({chan.code}) printed",
            target_type="sheet",
            target_id=chan.code,
            details={
                "channel": chan.code,
                "scope": scope,
                "selected": [c.mis_id for c in kids],
                "listed": [e.mis_id for entries in report.classes.values() for e in entries],
                "register_state": report.register_state,
                "reference_photos": with_photos,
            },
        )
        return report


def render_sheet(
    report: SheetReport, channel_name: str, username: str, photos: bool, trip: bool
) -> bytes:
    """The PDF: one page (or more, if long) per class; `trip` when it is for a trip list."""
    made = f"{report.made_at.astimezone():%d %B %Y %H:%M}"  # the office's own clock
    from ijs_vetting.documents import Column, Document  # fpdf: only when printing (1 s)

    doc = Document(f"made {made} by {username} from {report.register_state}")
    doc.alias_nb_pages()
    columns = [Column("Name", 75, bold=True), Column("Class", 20), Column("Why", 85)]
    if photos:
        columns = [
            Column("Photo", PHOTO_MM + 4),
            Column("Name", 62, bold=True),
            Column("Class", 18),
            Column("Why", 72),
        ]
    for class_name, entries in report.classes.items():
        doc.add_page()
        doc.title_block(
            f"Do not photograph for {channel_name}: {class_name}",
            [
                f"Made {made} from the register ({report.register_state}); {report.scope}.",
                f"These children must not appear in photos for {channel_name}. "
                + (
                    f"The other children of {class_name} on the trip list"
                    if trip
                    else f"The other children of {class_name}"
                )
                + " have consent today; ask the office about any child who is not on the "
                "register.",
            ],
        )
        if not entries:
            doc.set_font("DejaVu", "B", 14)
            doc.multi_cell(0, 8, f"Nobody: every child of {class_name} on this sheet has consent.")
            continue
        doc.continued = f"Do not photograph for {channel_name}: {class_name}"
        doc.table_header(columns)
        for entry in entries:
            values = [entry.name, entry.class_name, entry.words()]
            height = PHOTO_MM + 2 if photos else 10
            if photos:
                values = ["", *values]
            doc.table_row(columns, values, height)
            if photos and entry.photo:  # in the row just drawn, on whichever page it went
                top = doc.get_y() - height + 1
                doc.image(io.BytesIO(entry.photo), x=doc.l_margin + 1, y=top, h=PHOTO_MM)
    return doc.pdf_bytes()
