"""What a roster import did, or would do (a dry run shows it before anything is written): the
consent changes first, as the admin reads them, then the children added, updated, back on roll
and left, in the shapes the GUI's preview, the CLI and its JSON show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ijs_vetting.services.posting.reroute import Rerouted


@dataclass(frozen=True)
class ConsentDiff:
    mis_id: str
    name: str
    channel: str  # a channel code, or "biometric"
    before: bool | None
    after: bool
    given_on: date | None = None  # for a renewal: the date of the fresh consent


@dataclass(frozen=True)
class ChildDiff:
    mis_id: str
    name: str
    changes: dict[str, tuple[Any, Any]]  # field -> (before, after)


@dataclass
class RosterReport:
    """What an import did, or would do (dry run): consent changes first, as the admin reads them."""

    dry_run: bool
    file: str
    encoding: str
    consent_changes: list[ConsentDiff] = field(default_factory=list)
    added: list[ChildDiff] = field(default_factory=list)
    updated: list[ChildDiff] = field(default_factory=list)
    returned: list[ChildDiff] = field(default_factory=list)
    left: list[ChildDiff] = field(default_factory=list)
    unchanged: int = 0
    kept_withdrawals: list[ConsentDiff] = field(default_factory=list)  # roster said yes: kept no
    renewed: list[ConsentDiff] = field(default_factory=list)  # yes again, dated after the last
    rerouted: list[Rerouted] = field(default_factory=list)
    channel_columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.consent_changes or self.added or self.updated or self.returned or self.left
        )

    def as_json(self) -> dict[str, Any]:
        def child(diff: ChildDiff) -> dict[str, Any]:
            return {
                "id": diff.mis_id,
                "name": diff.name,
                "changes": {k: [_plain(a), _plain(b)] for k, (a, b) in diff.changes.items()},
            }

        return {
            "dry_run": self.dry_run,
            "file": self.file,
            "encoding": self.encoding,
            "consent_changes": [
                {
                    "id": c.mis_id,
                    "name": c.name,
                    "channel": c.channel,
                    "before": c.before,
                    "after": c.after,
                }
                for c in self.consent_changes
            ],
            "added": [child(d) for d in self.added],
            "updated": [child(d) for d in self.updated],
            "returned": [child(d) for d in self.returned],
            "left": [child(d) for d in self.left],
            "unchanged": self.unchanged,
            "kept_withdrawals": [
                {"id": c.mis_id, "name": c.name, "channel": c.channel}
                for c in self.kept_withdrawals
            ],
            "channel_columns": self.channel_columns,
            "ignored_columns": self.ignored_columns,
            "renewed": [
                {
                    "id": c.mis_id,
                    "name": c.name,
                    "channel": c.channel,
                    "given_on": _plain(c.given_on),
                }
                for c in self.renewed
            ],
            "rerouted": [
                {"item_id": r.item_id, "from": r.before, "to": r.to} for r in self.rerouted
            ],
        }

    def audit_details(self) -> dict[str, Any]:
        """What the audit log keeps: ids, channels and counts, no names or name changes.

        Audit entries cannot be edited (the hash chain), so they must hold nothing that an
        erasure request would need to remove: a MIS id alone no longer identifies an erased child.
        """
        return {
            "file": Path(self.file).name,
            "consent_changes": [
                {"id": c.mis_id, "channel": c.channel, "before": c.before, "after": c.after}
                for c in self.consent_changes
            ],
            "added": [d.mis_id for d in self.added],
            "updated": {d.mis_id: sorted(d.changes) for d in self.updated},
            "returned": [d.mis_id for d in self.returned],
            "left": [d.mis_id for d in self.left],
            "unchanged": self.unchanged,
            "renewed": [{"id": c.mis_id, "channel": c.channel} for c in self.renewed],
            "rerouted": [
                {"item_id": r.item_id, "from": r.before, "to": r.to} for r in self.rerouted
            ],
        }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
