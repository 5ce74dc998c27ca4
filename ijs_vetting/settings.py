"""Typed access to the station's settings (today: the shipped defaults in resources/)."""

from __future__ import annotations

from dataclasses import dataclass

from ijs_vetting.assets import default_settings
from ijs_vetting.policy import Thresholds


def match_thresholds() -> Thresholds:
    faces = default_settings()["faces"]
    return Thresholds(match=float(faces["match_threshold"]), margin=float(faces["match_margin"]))


def min_identify_width() -> float:
    return float(default_settings()["faces"]["min_identify_width"])


def caption_limit() -> int:
    return int(default_settings()["posting"]["caption_limit"])


def vetting_channel() -> str:
    """The consent channel photos are vetted against (the posting accounts' channel)."""
    return str(default_settings()["posting"]["channel"])


def security() -> dict[str, int]:
    """Lockout and password rules (resources/defaults.toml, [security])."""
    return {k: int(v) for k, v in default_settings()["security"].items()}


def idle_lock_minutes() -> int:
    return int(default_settings()["gui"]["idle_lock_minutes"])


@dataclass(frozen=True)
class Retention:
    """How long the station keeps what it no longer needs (resources/defaults.toml, [retention]).

    The audit trail has no period on purpose: it is the evidence of every decision, it holds
    only MIS ids (no names), and deleting a row would break its hash chain.
    """

    rejected_originals_days: int  # a rejected photo (original, record, faces) after its rejection
    posted_originals_days: int  # a posted photo's original (the posted rendering stays)
    leaver_records_years: int  # a leaver's whole record, forms included, after `date_left`


def retention() -> Retention:
    values = default_settings()["retention"]
    periods = Retention(
        rejected_originals_days=int(values["rejected_originals_days"]),
        posted_originals_days=int(values["posted_originals_days"]),
        leaver_records_years=int(values["leaver_records_years"]),
    )
    if min(vars(periods).values()) < 0:
        raise ValueError(f"retention periods cannot be negative: {periods}")
    return periods
