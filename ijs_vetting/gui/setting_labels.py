"""The settings in the office's words: the Settings dialog shows these, with the key (what
`ijs-vetting settings set` takes) in each row's tooltip."""

from __future__ import annotations

from typing import Any

LABELS = {
    "backup.folder": "Backup folder (empty: ask each time)",
    "backup.keep": "Backups kept in the backup folder",
    "backup.remind_days": "Remind to back up after (days)",
    "consent.grace_days": "Days an overdue consent review still counts",
    "consent.notice_days": "Days ahead a coming consent review is listed",
    "consent.review_rule": "When parents re-confirm consent (never, september, years)",
    "consent.review_years": "Re-confirm consent every (years)",
    "faces.match_margin": "Face matching: how much nearer the best child must be",
    "faces.match_threshold": "Face matching: largest distance that counts (lower is stricter)",
    "faces.min_identify_width": "Smallest face that is identified (pixels wide)",
    "faces.order_unknown_by_likeness": "Order unknown faces by likeness (biometric: ask the DPO)",
    "gui.idle_lock_minutes": "Lock the station after (idle minutes)",
    "posting.caption_limit": "Caption length limit (characters)",
    "posting.channel": "Channel photos are vetted for",
    "retention.backup_days": "Keep the copies made before upgrades for (days)",
    "retention.leaver_records_years": "Keep a leaver's consent records for (years)",
    "retention.posted_originals_days": "Keep originals of posted photos for (days)",
    "retention.rejected_originals_days": "Keep originals of rejected photos for (days)",
    "security.lockout_minutes": "Lock a login out for (minutes)",
    "security.max_failed_logins": "Failed logins in a row before the lockout",
    "security.min_password_length": "Shortest password (characters)",
    "sheets.reference_photos": "Reference photos on do-not-photograph sheets",
}


def label(key: str) -> str:
    """A setting's name for people (its key when a newer setting has no words yet)."""
    return LABELS.get(key, key)


def shown(value: Any) -> str:
    """A value as people write it: yes/no, not True/False (the service reads both)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
