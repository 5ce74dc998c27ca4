"""Plain types shared by every layer: roles, year groups, biometric events, errors.

Nothing here touches the database, the disk or Qt, so the policy and the services can be tested
against these types alone.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.StrEnum):
    """What a user may do. Checked in the services, so every front obeys the same rules."""

    ADMIN = "admin"
    SLT = "slt"
    STAFF = "staff"

    @property
    def label(self) -> str:
        """The role as the school says it (the value is what scripts and the CLI use)."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Admin",
    Role.SLT: "SLT",
    Role.STAFF: "Staff",
}


class BiometricEvent(enum.StrEnum):
    """One entry in a child's biometric ledger (Protection of Freedoms Act 2012 ss.26-28).

    The ledger is append-only; the current state is read from the latest parent event and the
    latest child event, so a withdrawal or an objection never erases what came before it.
    """

    PARENT_CONSENT = "parent_consent"
    PARENT_WITHDRAWAL = "parent_withdrawal"
    CHILD_OBJECTION = "child_objection"
    CHILD_OBJECTION_WITHDRAWN = "child_objection_withdrawn"

    @property
    def concerns_parent(self) -> bool:
        return self in (BiometricEvent.PARENT_CONSENT, BiometricEvent.PARENT_WITHDRAWAL)


# The answers the fronts offer for a biometric event, in the words of the consent form.
BIOMETRIC_CHOICES: dict[str, BiometricEvent] = {
    "yes": BiometricEvent.PARENT_CONSENT,
    "no": BiometricEvent.PARENT_WITHDRAWAL,
    "child-objects": BiometricEvent.CHILD_OBJECTION,
    "child-no-longer-objects": BiometricEvent.CHILD_OBJECTION_WITHDRAWN,
}


@dataclass(frozen=True)
class BiometricState:
    """Whether face templates may exist for a child: a parent's consent on file, no objection.

    `parent_consent` is true only while no parent objects (see `fold_biometric_ledger`).
    """

    parent_consent: bool
    child_objects: bool

    @property
    def templates_allowed(self) -> bool:
        return self.parent_consent and not self.child_objects

    @property
    def label(self) -> str:
        if self.child_objects:
            return "child objects"
        return "yes" if self.parent_consent else "no"


NO_BIOMETRIC_CONSENT = BiometricState(parent_consent=False, child_objects=False)


def fold_biometric_ledger(events: Iterable[tuple[str | None, BiometricEvent]]) -> BiometricState:
    """The state after a child's ledger events, oldest first: (parent's name, event).

    Protection of Freedoms Act 2012 ss.26-27: templates need at least one parent's written
    consent on file and no objection from any parent or from the child. Each parent's latest word
    counts, so one parent's objection outweighs the other's consent.
    """
    parents: dict[str | None, BiometricEvent] = {}
    child_objects = False
    for parent, event in events:
        if event.concerns_parent:
            parents[(parent or "").strip().lower() or None] = event
        else:
            child_objects = event is BiometricEvent.CHILD_OBJECTION
    latest = set(parents.values())
    consent = (
        BiometricEvent.PARENT_CONSENT in latest and BiometricEvent.PARENT_WITHDRAWAL not in latest
    )
    return BiometricState(parent_consent=consent, child_objects=child_objects)


RECEPTION = 0
YEAR_GROUPS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
_YEAR_RE = re.compile(r"^(?:nc\s*)?(?:year|yr|y)?\s*(\d)$")


def year_label(year: int) -> str:
    """How the school writes a year group: 'Reception' or 'Year 3'."""
    return "Reception" if year == RECEPTION else f"Year {year}"


def parse_year_group(text: str) -> int | None:
    """Read a year group as MIS exports write it ('R', 'Reception', 'Year 3', 'Y3', 'NC Year 3').

    Returns None when the text is not a year group of a primary school (Reception to Year 6).
    """
    value = " ".join(text.strip().lower().replace("-", " ").split())
    if value in ("r", "rec", "reception", "yr r", "year r", "nc year r", "fs2", "f2"):
        return RECEPTION
    match = _YEAR_RE.match(value)
    if match is None:
        return None
    year = int(match.group(1))
    return year if year in YEAR_GROUPS else None


_NON_WORD = re.compile(r"[^a-z0-9]+")
# Words around a channel's name in MIS column headers ("Photo consent - Twitter").
_FILLER = frozenset(
    {
        "photo",
        "photos",
        "photograph",
        "photographs",
        "consent",
        "permission",
        "permissions",
        "image",
        "images",
        "use",
        "of",
        "for",
        "on",
        "in",
        "to",
        "the",
    }
)


def normalise_words(text: str) -> str:
    """Lower case, punctuation and underscores as single spaces: how headers and names compare."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def channel_key(text: str) -> str:
    """A header or typed channel name reduced to the words that name the channel."""
    return " ".join(w for w in normalise_words(text).split() if w not in _FILLER)


_TRUE = frozenset({"y", "yes", "true", "1", "t", "x"})
_FALSE = frozenset({"", "n", "no", "false", "0", "f"})


def parse_yes_no(text: str) -> bool | None:
    """Read a consent cell: Y/N/Yes/No/True/False/1/0, blank meaning no; None when unreadable."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


class ServiceError(Exception):
    """A refusal the user can act on; its message is shown as it is, in plain words."""


class PermissionDenied(ServiceError):
    """The acting user's role does not allow the operation."""


class NotFound(ServiceError):
    """A named record (child, channel, device, user) does not exist."""


class InvalidInput(ServiceError):
    """A value given by the user cannot be used."""


CHANGED_ELSEWHERE = "changed on another station, reloaded"


class ChangedElsewhere(ServiceError):
    """What the user acted on was changed meanwhile (by another station, or another window):
    nothing was done, and the front shows the record as it now is."""

    def __init__(self, what: str, now: str | None = None) -> None:
        super().__init__(
            f"{what} {CHANGED_ELSEWHERE}{f' (now {now})' if now else ''}: nothing was done."
        )


class PhotoStatus(enum.StrEnum):
    """Where a photo is on its way from an iPad to a posting queue."""

    PENDING = "pending"  # imported, waiting for (re-)vetting
    READY = "ready"  # every face may be shown
    READY_WITH_BLUR = "ready_with_blur"  # some faces will be masked
    REVIEW = "review"  # a person must look first (ambiguous face, unknown camera)
    REJECTED = "rejected"  # may never be posted (safeguarding, or rejected by SLT)
    FAILED = "failed"  # the file could not be read
    QUEUED = "queued"  # cleared by SLT: a masked, verified rendering waits in the posting queue
    POSTED = "posted"  # the rendering was posted (a consent change then asks for a takedown)


class FaceDecision(enum.StrEnum):
    SHOW = "show"
    BLUR = "blur"


class FaceReason(enum.StrEnum):
    """Why a face got its decision; shown to reviewers and in `photos list --json`."""

    CONSENT = "consent"
    NO_CONSENT = "no_consent"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    TOO_SMALL = "too_small"
    NO_BIOMETRIC_CONSENT = "no_biometric_consent"
    SAFEGUARDING = "safeguarding"
    MARKED_BLUR = "marked_blur"  # a reviewer chose to mask it
    DRAWN = "drawn"  # a face the detector missed, drawn by a reviewer: always masked
    NOT_A_FACE = "not_a_face"  # a reviewer said the detection is not a face: nothing to mask
    FOUND_AT_CHECK = "found_at_check"  # found by the check before posting: masked, to be looked at


class FaceOverride(enum.StrEnum):
    """A reviewer's decision that overrides the policy's for one face."""

    BLUR = "blur"
    NOT_A_FACE = "not_a_face"


class FaceOrigin(enum.StrEnum):
    DETECTED = "detected"  # found by vetting in the original
    DRAWN = "drawn"  # drawn by a reviewer
    VERIFICATION = "verification"  # found by the check of the rendering before posting


class QueueStatus(enum.StrEnum):
    """Where a posting-queue item is. Only `queued` and `exported` items can still be stopped
    before they are public; a `posted` one can only be taken down."""

    QUEUED = "queued"  # cleared, waiting for `queue export`
    EXPORTED = "exported"  # handed to the posting tool, not yet confirmed posted
    POSTED = "posted"
    WITHDRAWN = "withdrawn"  # stopped before posting (consent change, rejection, SLT)
    TAKEN_DOWN = "taken_down"  # posted, then removed after a consent change


# Not yet public, so still stoppable: what `queue export` hands over and a withdrawal pulls back.
QUEUE_WAITING = (QueueStatus.QUEUED, QueueStatus.EXPORTED)
