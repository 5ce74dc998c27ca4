"""Caption checks: the platform's character count, and children named where they must not be.

UK guidance (and the school's policy) never puts a child's full name beside their photo, and a
caption must not name a child the photo masks or who may not appear on the channel at all: the
text would identify them even when their face is hidden. So a caption is screened against the
register before it is cleared or queued; findings are refused unless SLT (or an admin) confirm
(`allow_names`), and the confirmation is audited with the kinds and MIS ids found (no names:
audit entries can never be erased).

Names match whole words, ignoring case and accents ("zoe" finds Zoë). A surname alone, a full
name, or a MIS id is always a finding. A first (or preferred) name alone is one when the child
it names is masked in the photo, or may not be shown on the channel; children shown in the photo
are who a first name most likely means, so their names pass. For a first name, the children
considered are those in the photo and those on roll in the account's year groups.

Lengths are counted by twitter-text (the official conformance suite's Python port): a URL
counts 23, an emoji or a CJK character 2, as the platform counts them.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, QueueItem
from ijs_vetting.domain import InvalidInput, Role
from ijs_vetting.json_report import JsonFields
from ijs_vetting.names import fold
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.intake.deciding import standings
from ijs_vetting.services.posting.accounts import year_groups_served

OVERRIDE_ROLES = (Role.SLT, Role.ADMIN)
OVERRIDE_ACTION = "caption.allow_names"


class Finding(enum.StrEnum):
    FULL_NAME = "full_name"
    SURNAME = "surname"
    MASKED_CHILD = "masked_child"  # a first name of a child masked in this photo
    NO_CONSENT = "no_consent"  # a first name of a child who may not be shown on the channel
    MIS_ID = "mis_id"


_WHY = {
    Finding.FULL_NAME: "full name",
    Finding.SURNAME: "surname",
    Finding.MASKED_CHILD: "masked in the photo",
    Finding.NO_CONSENT: "no consent for the channel",
    Finding.MIS_ID: "MIS id",
}


@dataclass(frozen=True)
class NameFound(JsonFields):
    json_names: ClassVar[Mapping[str, str]] = {"mis_id": "id"}

    kind: Finding
    mis_id: str
    words: str  # the words of the caption that matched, as typed


@dataclass(frozen=True)
class CaptionReport:
    text: str
    length: int  # as the platform counts it
    limit: int
    found: tuple[NameFound, ...] = field(default=())

    @property
    def too_long(self) -> bool:
        return self.length > self.limit

    def warning(self) -> str:
        """One line for people: what was found, or '' when the caption is fine."""
        parts = []
        if self.too_long:
            parts.append(f"{self.length} characters; the limit is {self.limit}")
        if self.found:
            names = ", ".join(f"'{f.words}' ({_WHY[f.kind]})" for f in dict.fromkeys(self.found))
            parts.append(f"the caption names children: {names}")
        return "; ".join(parts)

    def audit_details(self) -> dict[str, Any]:
        """What the audit keeps of an override (nothing without one): kinds and MIS ids, never
        the words."""
        if not self.found:
            return {}
        return {
            "caption_names_allowed": [{"kind": f.kind.value, "id": f.mis_id} for f in self.found]
        }


class CaptionNamesChildren(InvalidInput):
    """The caption names children; nothing was done. `report` says which."""

    def __init__(self, report: CaptionReport) -> None:
        self.report = report
        super().__init__(
            f"{report.warning()}. Change the caption, or an SLT member confirms (--allow-names)."
        )


@cache
def _parse_tweet() -> Callable[[str], Any]:
    """twitter-text, imported on first use (it takes 0.7 s: its emoji table loads through
    pkg_resources, which warns that it is deprecated; the warning is theirs, not ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        from twitter_text import parse_tweet
    parse: Callable[[str], Any] = parse_tweet
    return parse


def caption_length(text: str) -> int:
    """The caption's length as the platform counts it (weighted: CJK and emoji 2, URLs 23)."""
    return int(_parse_tweet()(text).weightedLength) if text else 0


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[tuple[str, int, int]]:
    """Folded words with their span in `text` (folding keeps letters one to one after NFC)."""
    source = unicodedata.normalize("NFC", text)
    return [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(source)]


def _find(words: list[tuple[str, int, int]], source: str, name: str) -> Iterable[tuple[int, str]]:
    """Each place (word index) where the name's words appear together as whole words."""
    wanted = [fold(w) for w in _WORD.findall(name)]
    if not wanted:
        return
    n = len(wanted)
    for i in range(len(words) - n + 1):
        if [w for w, _, _ in words[i : i + n]] == wanted:
            yield i, source[words[i][1] : words[i + n - 1][2]]


def mentions(text: str, names: Iterable[str]) -> bool:
    """Whether `text` names any of `names` (each one or more words), as whole words, case and
    accents ignored: as screening finds them."""
    source = unicodedata.normalize("NFC", text)
    words = _words(text)
    return any(next(iter(_find(words, source, name)), None) is not None for name in names)


def screen_caption(
    session: Session,
    text: str,
    *,
    limit: int,
    account_id: int | None,
    present: Collection[int] = (),
    shown: Collection[int] = (),
) -> CaptionReport:
    """Check `text` against the register (inside the caller's session).

    `present` are the children identified in the photo (shown or masked), `shown` those shown
    unmasked; a text-only post has neither.
    """
    text = text.strip()
    source = unicodedata.normalize("NFC", text)
    words = _words(text)
    report_len = caption_length(text)
    if not words:
        return CaptionReport(text, report_len, limit)
    children = list(session.scalars(select(Child)))
    years: set[int] = set()
    if account_id is not None:
        years = year_groups_served(session, account_id)
    nearby = [c for c in children if c.id in present or (c.on_roll and c.year_group in years)]
    standing = standings(session, [c.id for c in nearby])
    found: list[NameFound] = []
    claimed: set[int] = set()  # word positions already explained by a longer finding

    def add(kind: Finding, child: Child, at: int, matched: str, size: int) -> None:
        found.append(NameFound(kind, child.mis_id, matched))
        claimed.update(range(at, at + size))

    for child in children:
        for first in {child.first_name, child.preferred_name or child.first_name}:
            full = f"{first} {child.last_name}"
            for at, matched in _find(words, source, full):
                add(Finding.FULL_NAME, child, at, matched, len(_WORD.findall(full)))
    for child in children:
        for at, matched in _find(words, source, child.mis_id):
            add(Finding.MIS_ID, child, at, matched, 1)
        for at, matched in _find(words, source, child.last_name):
            if at not in claimed:
                found.append(NameFound(Finding.SURNAME, child.mis_id, matched))
    for child in nearby:
        if child.id in shown:
            continue
        here = standing.get(child.id)
        if child.id in present:
            kind = Finding.MASKED_CHILD
        elif here is None or here.never_publish or not (here.on_roll and here.consent):
            kind = Finding.NO_CONSENT
        else:
            continue
        for first in {child.first_name, child.preferred_name or child.first_name}:
            for at, matched in _find(words, source, first):
                if at not in claimed:
                    found.append(NameFound(kind, child.mis_id, matched))
    return CaptionReport(text, report_len, limit, tuple(dict.fromkeys(found)))


def screen_item(session: Session, text: str, item: QueueItem) -> CaptionReport:
    """`text` as the caption of a queue item: its children shown, and those it masks."""
    return screen_caption(
        session,
        text,
        limit=settings_of(session).caption_limit,
        account_id=item.account_id,
        present={link.child_id for link in item.children},
        shown={link.child_id for link in item.children if link.shown},
    )


def enforce(station: Station, actor: Actor, report: CaptionReport, allow_names: bool) -> None:
    """Refuse a caption that names children unless SLT or an admin confirm. Call outside any
    open session: a confirmation by anyone else is refused and audited (`Station.require`)."""
    if allow_names:
        allow(station, actor)
    elif report.found:
        raise CaptionNamesChildren(report)


def allow(station: Station, actor: Actor) -> None:
    """Only SLT and admins may confirm a caption that names children."""
    station.require(actor, OVERRIDE_ACTION, *OVERRIDE_ROLES)
