"""Who may do what, in the office's words.

A refusal reads "Only SLT or an admin can clear photos", never the internal action name; the
GUI uses the same sentence as the tooltip of a button the user's role cannot use, so what a
person is told before trying and after trying is the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from ijs_vetting.domain import Role

# What each audited action does, as the end of "Only ... can ___".
DOING = {
    "audit.anchor_remade": "make the audit anchor again",
    "audit.export": "export the audit log",
    "backup.create": "back the station up",
    "backup.restore": "restore a backup",
    "audit.verify": "check the audit log",
    "biometric.set": "record biometric consent",
    "caption.allow_names": "confirm a caption that names children",
    "child.erase": "erase a child's record",
    "child.export": "export a child's data",
    "consent.lapse": "apply consent reviews",
    "consent.letters": "save the consent letters list",
    "consent.set": "record consent",
    "device.add": "register devices",
    "device.rename": "rename devices",
    "device.retire": "retire devices",
    "faces.enrol": "add reference photos",
    "faces.read": "see reference photos",
    "faces.remove": "remove reference photos",
    "forms.read": "see scanned forms",
    "key.export": "export the station key",
    "photos.import": "import photos",
    "photos.reject": "reject photos",
    "photos.retry": "retry failed photos",
    "photos.vet": "vet photos",
    "queue.add_text": "add text posts",
    "queue.caption": "change captions",
    "queue.clear": "clear photos",
    "queue.export": "export the queue",
    "queue.posted": "mark posts as posted",
    "queue.taken_down": "confirm takedowns",
    "queue.withdraw": "withdraw queued posts",
    "retention.run": "apply the retention periods",
    "review.accept": "accept photos held in review",
    "review.assign": "name faces",
    "review.assign_many": "name faces",
    "review.draw": "draw faces",
    "review.head_count": "record head counts",
    "review.override": "change face decisions",
    "review.reset": "undo a face's review",
    "review.show": "show faces",
    "review.undraw": "remove drawn faces",
    "roster.import": "import a roster",
    "safeguarding.read": "see why a child is never published",
    "safeguarding.set": "change the never-publish flag",
    "settings.set": "change settings",
    "sheet.print": "print do-not-photograph sheets",
    "station.join": "join a station to the register",
    "user.add": "add users",
    "user.password": "set other users' passwords",
    "users.list": "manage users",
}

_WHO = {Role.SLT: "SLT", Role.ADMIN: "an admin", Role.STAFF: "staff"}
_ORDER = (Role.SLT, Role.ADMIN, Role.STAFF)


def who(roles: Iterable[Role]) -> str:
    """'SLT or an admin', 'an admin', ... for the roles given."""
    given = set(roles)
    names = [_WHO[r] for r in _ORDER if r in given]
    if len(names) <= 1:
        return names[0] if names else "nobody"
    return ", ".join(names[:-1]) + " or " + names[-1]


def refusal(action: str, roles: Iterable[Role]) -> str:
    """The one sentence shown when a role may not do `action`."""
    return f"Only {who(roles)} can {DOING.get(action, 'do this')}."


def allows(role: Role, roles: Iterable[Role]) -> bool:
    return role in set(roles)
