"""Typed settings: the shipped defaults (resources/defaults.toml) with the station's own values.

A school changes a setting with `ijs-vetting settings set KEY VALUE` (admins, audited); the value
is kept in the database, so every station sharing it agrees. Keys are "section.name" as in the
defaults file, and a value must have the default's type (a threshold stays a number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ijs_vetting.assets import default_settings
from ijs_vetting.policy import Thresholds
from ijs_vetting.renewal import ReviewPolicy, ReviewRule

# What a value may be, beyond its type: settings that would switch a safety off are refused.
_LIMITS: dict[str, tuple[float, float]] = {
    "faces.match_threshold": (0.2, 0.6),  # above 0.6 face_recognition itself calls it a guess
    "faces.match_margin": (0.0, 0.5),
    "faces.min_identify_width": (40, 400),
    "posting.caption_limit": (1, 5000),
    "gui.idle_lock_minutes": (1, 240),
    "security.max_failed_logins": (1, 20),
    "security.lockout_minutes": (1, 1440),
    "security.min_password_length": (8, 128),
    "retention.rejected_originals_days": (0, 3650),
    "retention.posted_originals_days": (0, 3650),
    "retention.leaver_records_years": (0, 50),
    "retention.backup_days": (1, 3650),
    "consent.review_years": (1, 20),
    "consent.grace_days": (0, 365),
    "consent.notice_days": (0, 365),
    "backup.remind_days": (1, 365),
    "backup.keep": (1, 1000),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "consent.review_rule": tuple(rule.value for rule in ReviewRule),
}


def defaults() -> dict[str, Any]:
    """Every setting and its shipped value, as flat "section.name" keys."""
    return {
        f"{section}.{name}": value
        for section, values in default_settings().items()
        for name, value in values.items()
    }


def coerce(key: str, raw: Any) -> Any:
    """`raw` as the setting's type, within its limits; ValueError says why not."""
    known = defaults()
    if key not in known:
        raise ValueError(f"there is no setting '{key}'; settings: {', '.join(sorted(known))}")
    kind = type(known[key])
    if kind is bool:
        words = {"true": True, "yes": True, "on": True, "1": True}
        words |= {"false": False, "no": False, "off": False, "0": False}
        if isinstance(raw, bool) or str(raw).strip().lower() in words:
            return raw if isinstance(raw, bool) else words[str(raw).strip().lower()]
        raise ValueError(f"{key} must be true or false, not '{raw}'")
    try:
        value = kind(raw) if kind is not int else int(str(raw))
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a {kind.__name__}, not '{raw}'") from None
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])}, not '{raw}'")
    low, high = _LIMITS.get(key, (float("-inf"), float("inf")))
    if isinstance(value, int | float) and not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}")
    return value


@dataclass(frozen=True)
class Retention:
    """How long the station keeps what it no longer needs ([retention]).

    The audit trail has no period on purpose: it is the evidence of every decision, it holds
    only MIS ids (no names), and deleting a row would break its hash chain.
    """

    rejected_originals_days: int  # a rejected photo (original, record, faces) after its rejection
    posted_originals_days: int  # a posted photo's original (the posted rendering stays)
    leaver_records_years: int  # a leaver's whole record, forms included, after `date_left`


class Settings:
    """The values in force: defaults overridden by the station's own."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self.values = defaults() | {k: coerce(k, v) for k, v in (overrides or {}).items()}

    def _get(self, key: str) -> Any:
        return self.values[key]

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            match=float(self._get("faces.match_threshold")),
            margin=float(self._get("faces.match_margin")),
        )

    @property
    def min_identify_width(self) -> float:
        return float(self._get("faces.min_identify_width"))

    @property
    def order_unknown_by_likeness(self) -> bool:
        return bool(self._get("faces.order_unknown_by_likeness"))

    @property
    def caption_limit(self) -> int:
        return int(self._get("posting.caption_limit"))

    @property
    def vetting_channel(self) -> str:
        """The consent channel photos are vetted against (the posting accounts' channel)."""
        return str(self._get("posting.channel"))

    @property
    def security(self) -> dict[str, int]:
        """Lockout and password rules."""
        return {
            k.split(".", 1)[1]: int(v) for k, v in self.values.items() if k.startswith("security.")
        }

    @property
    def idle_lock_minutes(self) -> int:
        return int(self._get("gui.idle_lock_minutes"))

    @property
    def consent_review(self) -> ReviewPolicy:
        """When consent must be re-confirmed ([consent])."""
        return ReviewPolicy(
            rule=ReviewRule(self._get("consent.review_rule")),
            years=int(self._get("consent.review_years")),
            grace_days=int(self._get("consent.grace_days")),
            notice_days=int(self._get("consent.notice_days")),
        )

    @property
    def reference_photos_on_sheets(self) -> bool:
        return bool(self._get("sheets.reference_photos"))

    @property
    def retention(self) -> Retention:
        return Retention(
            rejected_originals_days=int(self._get("retention.rejected_originals_days")),
            posted_originals_days=int(self._get("retention.posted_originals_days")),
            leaver_records_years=int(self._get("retention.leaver_records_years")),
        )


DEFAULTS = Settings()
