"""Typed access to the station's settings (today: the shipped defaults in resources/)."""

from __future__ import annotations

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
