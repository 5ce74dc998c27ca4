"""When photo consent must be re-confirmed, and what consent past its review date counts as.

Consent is "collected on starting school" and can be years old; a school may ask parents to
re-confirm every September, or after some years. A granted record's review date is its own
(`ConsentRecord.review_on`, set when recorded) or else follows the school's rule from the date
the consent was given. Until the review date it is consent; after it, for the grace period, it
still counts (the letter home takes time) but is listed as overdue; after the grace period it
counts as no consent, as a withdrawal would. Pure functions of dates: the same answer for the
decision, the queue, the children page and the sheets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta


class ReviewRule(enum.StrEnum):
    NEVER = "never"
    SEPTEMBER = "september"  # re-confirm every September: due on the 1 September after giving it
    YEARS = "years"  # re-confirm `years` after it was given


class ReviewState(enum.StrEnum):
    CURRENT = "current"  # no review due within the notice period
    DUE = "due"  # review date within the notice period: time to send the letter
    OVERDUE = "overdue"  # past the review date, within the grace period: still counts
    LAPSED = "lapsed"  # past the grace period: counts as no consent until renewed


@dataclass(frozen=True)
class ReviewPolicy:
    rule: ReviewRule = ReviewRule.NEVER
    years: int = 3
    grace_days: int = 30
    notice_days: int = 30  # how far ahead a coming review is listed for letters

    def review_date(self, given: date, own: date | None = None) -> date | None:
        """When consent given on `given` must be re-confirmed (`own`: the record's own date)."""
        if own is not None:
            return own
        match self.rule:
            case ReviewRule.SEPTEMBER:
                return date(given.year + (given >= date(given.year, 9, 1)), 9, 1)
            case ReviewRule.YEARS:
                try:
                    return given.replace(year=given.year + self.years)
                except ValueError:  # 29 February
                    return date(given.year + self.years, 3, 1)
        return None

    def state(self, review_on: date | None, today: date) -> ReviewState:
        if review_on is None or today < review_on - timedelta(days=self.notice_days):
            return ReviewState.CURRENT
        if today < review_on:
            return ReviewState.DUE
        if today <= self.grace_ends(review_on):
            return ReviewState.OVERDUE
        return ReviewState.LAPSED

    def grace_ends(self, review_on: date) -> date:
        """The last day consent past `review_on` still counts."""
        return review_on + timedelta(days=self.grace_days)

    def counts(self, granted: bool, review_on: date | None, today: date) -> bool:
        """Whether a record counts as consent today."""
        return granted and self.state(review_on, today) is not ReviewState.LAPSED
