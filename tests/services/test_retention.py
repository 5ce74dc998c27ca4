"""Retention with a frozen clock: rejected photos, posted originals, templates of children off
roll, old leavers, unreferenced vault files; dry runs; the audit trail stays."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import AuditEntry, Child, FaceTemplate, Photo, PhotoFace, QueueItem
from ijs_vetting.domain import InvalidInput, PhotoStatus, QueueStatus
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos, review
from ijs_vetting.services.posting import clearing, queue
from ijs_vetting.services.privacy import audit, retention
from ijs_vetting.services.register import consent
from ijs_vetting.settings import DEFAULTS, Retention
from tests.privacy_world import Face, add_item, add_photo, add_template, mark_left, school

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def world(station: Station, admin: Actor, tmp_path: Path) -> Station:
    return school(station, admin, tmp_path)


def _sha(station: Station, photo_id: int) -> str:
    with station.read() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        return photo.sha256


def _audit_count(station: Station) -> int:
    with station.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _vault_files(station: Station) -> set[str]:
    return {str(p.relative_to(station.vault.root)) for p in station.vault.root.rglob("*")}


def test_the_periods_come_from_the_settings() -> None:
    assert DEFAULTS.retention == Retention(
        rejected_originals_days=30, posted_originals_days=365, leaver_records_years=1
    )
    assert retention.years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)


def test_rejected_photos_are_purged_after_their_period(world: Station, admin: Actor) -> None:
    by_slt = add_photo(
        world, [Face("A123")], status=PhotoStatus.REJECTED, rejected_by="head", rejected_at=T0
    )
    by_policy = add_photo(world, [Face("C789")], status=PhotoStatus.REJECTED, vetted_at=T0)
    recent = add_photo(
        world,
        [Face("B456")],
        status=PhotoStatus.REJECTED,
        rejected_by="head",
        rejected_at=T0 + 20 * DAY,
    )
    ready = add_photo(world, [Face("A123")], vetted_at=T0)
    shas = {pid: _sha(world, pid) for pid in (by_slt, by_policy, recent, ready)}

    early = retention.run_retention(world, admin, now=T0 + 29 * DAY)
    assert early.rejected_photos == []
    report = retention.run_retention(world, admin, now=T0 + 30 * DAY)

    assert report.rejected_photos == [by_slt, by_policy]
    assert report.files_deleted == 2
    with world.read() as s:
        assert {p.id for p in s.scalars(select(Photo))} == {recent, ready}
        assert not s.scalar(
            select(func.count(PhotoFace.id)).where(PhotoFace.photo_id.in_([by_slt, by_policy]))
        )
    assert not world.vault.contains(shas[by_slt]) and not world.vault.contains(shas[by_policy])
    assert world.vault.contains(shas[recent]) and world.vault.contains(shas[ready])
    entry = audit.list_audit(world, action="retention.run", limit=1)[0]
    assert entry.details["rejected_photos"] == [by_slt, by_policy]
    assert entry.details["photo_face_encodings"] == 0
    assert audit.verify_chain(world, admin).ok


def test_a_rejected_photo_once_queued_keeps_a_bare_record(world: Station, admin: Actor) -> None:
    photo = add_photo(world, [Face("A123")])
    item = add_item(world, photo, status=QueueStatus.WITHDRAWN)
    with world.sessions.begin() as s:
        found = s.get(Photo, photo)
        assert found is not None
        found.status, found.rejected_by, found.rejected_at = PhotoStatus.REJECTED, "head", T0
    sha = _sha(world, photo)

    report = retention.run_retention(world, admin, now=T0 + 31 * DAY)

    assert report.rejected_photos == [photo]
    with world.read() as s:
        found = s.get(Photo, photo)
        assert found is not None and found.faces == []
        kept = s.get(QueueItem, item)
        assert kept is not None and kept.photo_id == photo and kept.image_sha256
    assert not world.vault.contains(sha) and world.vault.contains(kept.image_sha256)
    assert retention.run_retention(world, admin, now=T0 + 40 * DAY).rejected_photos == []


def test_posted_originals_go_after_their_period_and_the_post_stays(
    world: Station, admin: Actor, slt: Actor
) -> None:
    photo = add_photo(world, [Face("A123")])
    item = add_item(world, photo, status=QueueStatus.POSTED, posted_at=T0)
    sha = _sha(world, photo)

    assert retention.run_retention(world, admin, now=T0 + 364 * DAY).posted_originals == []
    report = retention.run_retention(world, admin, now=T0 + 365 * DAY)

    assert report.posted_originals == [photo]
    assert not world.vault.contains(sha)
    posted = queue.get_item(world, item)
    assert posted.status is QueueStatus.POSTED and posted.image_sha256 is not None
    assert world.vault.contains(posted.image_sha256)
    info = photos.get_photo(world, photo)
    assert info.original_stored is False and info.as_json()["original_stored"] is False
    assert len(info.faces) == 1
    assert retention.run_retention(world, admin, now=T0 + 400 * DAY).posted_originals == []
    # taken down, back in review and accepted: clearing says why it cannot go out again
    queue.mark_taken_down(world, slt, item)
    review.accept_photo(world, slt, photo)
    result = clearing.clear_photos(world, slt, [photo], account="@Year5IJS")
    assert result.cleared == []
    assert "deleted under the retention policy" in result.refused[0].reason


def test_templates_of_children_off_roll_go(world: Station, admin: Actor) -> None:
    kept_ref = add_template(world, "A123")
    gone_ref = add_template(world, "B456")
    mark_left(world, "B456", (T0 - 10 * DAY).date())

    report = retention.run_retention(world, admin, now=T0)

    assert (report.template_children, report.templates_deleted) == (["B456"], 1)
    assert report.leavers_erased == []
    with world.read() as s:
        owners = set(
            s.scalars(select(Child.mis_id).join(FaceTemplate, FaceTemplate.child_id == Child.id))
        )
        assert owners == {"A123"}
        assert s.scalar(select(Child).where(Child.mis_id == "B456")) is not None
    assert world.vault.contains(kept_ref) and not world.vault.contains(gone_ref)


def test_leavers_are_erased_after_the_leaver_period(world: Station, admin: Actor) -> None:
    consent.set_consent(world, admin, "B456", "website", True)
    photo = add_photo(world, [Face("B456"), Face("A123")])
    item = add_item(world, photo, status=QueueStatus.POSTED, posted_at=T0 - 30 * DAY)
    mark_left(world, "B456", date(2025, 1, 9))  # a year and a day before T0
    mark_left(world, "C789", date(2025, 1, 10))  # exactly a year: not yet
    before = len(audit.list_audit(world, target_id="B456"))

    report = retention.run_retention(world, admin, now=T0)

    assert report.leavers_erased == ["B456"] and report.takedowns == [item]
    assert [t.id for t in queue.list_takedowns(world)] == [item]
    with world.read() as s:
        left = set(s.scalars(select(Child.mis_id)))
    assert left == {"A123", "C789"}
    assert len(audit.list_audit(world, target_id="B456")) == before  # never deleted
    assert audit.verify_chain(world, admin).ok
    assert queue.get_item(world, item).shown == ("A123",)


def test_a_dry_run_reports_the_same_and_changes_nothing(world: Station, admin: Actor) -> None:
    rejected = add_photo(
        world, [Face("A123")], status=PhotoStatus.REJECTED, rejected_by="head", rejected_at=T0
    )
    posted = add_photo(world, [Face("A123")])
    add_item(world, posted, status=QueueStatus.POSTED, posted_at=T0 - 400 * DAY)
    add_template(world, "B456")
    add_template(world, "C789")
    mark_left(world, "B456", date(2024, 9, 1))
    mark_left(world, "C789", date(2025, 12, 1))
    audits, files = _audit_count(world), _vault_files(world)
    now = T0 + 60 * DAY

    dry = retention.run_retention(world, admin, dry_run=True, now=now)

    assert (_audit_count(world), _vault_files(world)) == (audits, files)
    assert dry.dry_run and dry.files_deleted == 0
    assert dry.rejected_photos == [rejected] and dry.posted_originals == [posted]
    assert dry.leavers_erased == ["B456"] and dry.template_children == ["C789"]
    real = retention.run_retention(world, admin, now=now)
    assert {k: v for k, v in real.as_json().items() if k not in ("dry_run", "files_deleted")} == {
        k: v for k, v in dry.as_json().items() if k not in ("dry_run", "files_deleted")
    }
    assert _audit_count(world) == audits + 1
    assert real.files_deleted == 4  # rejected and posted originals, two reference photos


def test_unreferenced_vault_files_are_swept_once_a_day_old(world: Station, admin: Actor) -> None:
    photo = add_photo(world, [Face("A123")])
    old = time.time() - 2 * 86400
    orphan = world.vault.put_bytes(b"a rendering that failed its check")
    fresh = world.vault.put_bytes(b"an import in progress")
    leftover = world.vault.path_for(orphan).parent / ".incoming-crash"
    leftover.write_bytes(b"half a file")
    for path in (world.vault.path_for(orphan), leftover, world.vault.path_for(_sha(world, photo))):
        os.utime(path, (old, old))

    assert retention.run_retention(world, admin, dry_run=True).unreferenced_files == 2
    report = retention.run_retention(world, admin)

    assert (report.unreferenced_files, report.files_deleted, report.file_errors) == (2, 2, [])
    assert not world.vault.contains(orphan) and not leftover.exists()
    assert world.vault.contains(fresh) and world.vault.contains(_sha(world, photo))


def test_the_clock_must_be_aware(world: Station, admin: Actor) -> None:
    with pytest.raises(InvalidInput, match="UTC"):
        retention.run_retention(world, admin, now=datetime(2026, 1, 1))


def test_old_database_backups_go_too(station: Station, admin: Actor) -> None:
    import os
    from datetime import UTC, datetime, timedelta

    old = station.paths.backups / "station-0004-20250101T000000.db"
    new = station.paths.backups / "station-0005-20261101T000000.db"
    for path in (old, new):
        path.write_bytes(b"SQLite format 3\0 copy")
    long_ago = (datetime.now(UTC) - timedelta(days=60)).timestamp()
    os.utime(old, (long_ago, long_ago))
    preview = retention.run_retention(station, admin, dry_run=True)
    assert preview.backups_deleted == 1 and old.exists()
    report = retention.run_retention(station, admin)
    assert report.backups_deleted == 1
    assert not old.exists() and new.exists()
