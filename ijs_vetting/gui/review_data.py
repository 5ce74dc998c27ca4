"""What the Review page shows, read in one go off the GUI thread (`jobs.LatestRead`).

Split from `review_page` so the read is plain service calls with no widget in reach: it runs on
a worker thread, and only its result crosses back to the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from ijs_vetting.services.core.station import Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.intake.photos import PhotoInfo
from ijs_vetting.services.posting import accounts
from ijs_vetting.services.register import children
from ijs_vetting.services.register.children import ChildSummary


@dataclass(frozen=True)
class ReviewData:
    accounts: list[str]  # active posting accounts' handles
    photos: list[PhotoInfo]
    children: list[ChildSummary]  # the whole register, leavers included (their faces keep names)


def read_review_data(station: Station) -> ReviewData:
    return ReviewData(
        accounts.account_handles(station),
        photos.list_photos(station),
        children.list_children(station),
    )
