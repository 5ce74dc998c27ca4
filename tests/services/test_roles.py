"""Every mutating service refuses the roles that may not call it, audits the refusal and changes
nothing; the roles that may call it get past the check. One table drives it all.

The arguments are the cheapest that reach the role check: the check comes before any engine
work, so no face is analysed here. For roles that are allowed, the call may still fail for
another reason (an id that does not exist): the point is only that it is not a `PermissionDenied`.
A last test reads the services' source for every action written under, so a new mutating
service cannot be left out of the table.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry, Base, RegisterChanges
from ijs_vetting.domain import BiometricEvent, PermissionDenied, Role, ServiceError
from ijs_vetting.services.core import anchoring, joining, users
from ijs_vetting.services.core.permissions import refusal
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, importing, review, vetting
from ijs_vetting.services.posting import clearing, queue, queue_export, rejecting
from ijs_vetting.services.privacy import audit, backup, retention, subject_access, subject_rights
from ijs_vetting.services.register import (
    configure,
    consent,
    consent_lapse,
    letters,
    roster,
    sheets,
    templates,
)
from tests.privacy_world import Face, add_item, add_photo, school

ADMIN, SLT, STAFF = Role.ADMIN, Role.SLT, Role.STAFF
PASSPHRASE = "a passphrase long enough"
EVERYONE = frozenset(Role)
MISSING = 99_999  # an id that does not exist: allowed roles stop at NotFound, cheaply


@dataclass(frozen=True)
class World:
    """The small school every case runs against."""

    station: Station
    folder: Path
    photo_item: int  # a queued photo's item
    text_item: int


Call = Callable[[World, Actor], Any]


@dataclass(frozen=True)
class Case:
    action: str
    allowed: frozenset[Role]
    call: Call

    def __str__(self) -> str:
        return self.action


def _case(action: str, allowed: set[Role] | frozenset[Role], call: Call) -> Any:
    return pytest.param(Case(action, frozenset(allowed), call), id=f"{action}-{call.__name__}")


def consent_set(w: World, a: Actor) -> Any:
    return consent.set_consent(w.station, a, "A123", "twitter", False)


def biometric_set(w: World, a: Actor) -> Any:
    return consent.set_biometric(w.station, a, "A123", BiometricEvent.PARENT_WITHDRAWAL)


def safeguarding_set(w: World, a: Actor) -> Any:
    return consent.set_safeguarding(w.station, a, "A123", True, "court order")


def roster_import(w: World, a: Actor) -> Any:
    return roster.import_roster(w.station, a, w.folder / "roster.csv", mark_leavers=True)


def roster_preview(w: World, a: Actor) -> Any:
    return roster.import_roster(w.station, a, w.folder / "roster.csv", dry_run=True)


def device_add(w: World, a: Actor) -> Any:
    return devices.add_device(w.station, a, "iPad 7", "Apple", "iPad (9th generation)")


def device_rename(w: World, a: Actor) -> Any:
    return devices.rename_device(w.station, a, "iPad 7", "Year 5 iPad")


def device_retire(w: World, a: Actor) -> Any:
    return devices.retire_device(w.station, a, "iPad 7")


def faces_remove(w: World, a: Actor) -> Any:
    return templates.remove_template(w.station, a, 999_999)


def audit_export(w: World, a: Actor) -> Any:
    return audit.export_audit_csv(
        w.station, a, w.folder / "audit.csv", [], audit.AuditNames({}, {})
    )


def user_add(w: World, a: Actor) -> Any:
    return users.add_user(w.station, a, "supply-teacher", Role.ADMIN, "long enough password")


def user_password_of_another(w: World, a: Actor) -> Any:
    return users.set_password(w.station, a, "someone-else", "long enough password")


def faces_enrol(w: World, a: Actor) -> Any:
    return templates.enrol_references(w.station, a, w.folder / "no-references")


def photos_import(w: World, a: Actor) -> Any:
    return importing.import_folder(w.station, a, w.folder / "no-dcim")


def photos_vet(w: World, a: Actor) -> Any:
    return vetting.revet_pending(w.station, a, workers=1)


def photos_retry(w: World, a: Actor) -> Any:
    return vetting.retry_failed(w.station, a, workers=1)


def review_assign(w: World, a: Actor) -> Any:
    return review.assign_child(w.station, a, MISSING, "A123")


def review_assign_many(w: World, a: Actor) -> Any:
    return review.assign_faces(w.station, a, [MISSING], "A123")


def review_override(w: World, a: Actor) -> Any:
    return review.set_override(w.station, a, MISSING, None)


def review_show(w: World, a: Actor) -> Any:
    return review.mark_show(w.station, a, MISSING)


def review_reset(w: World, a: Actor) -> Any:
    return review.reset_face(w.station, a, MISSING)


def review_draw(w: World, a: Actor) -> Any:
    return review.draw_face(w.station, a, MISSING, (10, 10, 90, 90))


def review_undraw(w: World, a: Actor) -> Any:
    return review.delete_drawn_face(w.station, a, MISSING)


def review_head_count(w: World, a: Actor) -> Any:
    return review.set_head_count(w.station, a, MISSING, 3)


def review_accept(w: World, a: Actor) -> Any:
    return review.accept_photo(w.station, a, MISSING)


def photos_clear(w: World, a: Actor) -> Any:
    return clearing.clear_photos(w.station, a, [MISSING])


def photos_reject(w: World, a: Actor) -> Any:
    return rejecting.reject_photos(w.station, a, [MISSING], "out of focus")


def queue_add_text(w: World, a: Actor) -> Any:
    return queue.add_text(w.station, a, "@year3ijs", "Well done!")


def caption_of_a_photo(w: World, a: Actor) -> Any:
    return queue.edit_caption(w.station, a, w.photo_item, "A new caption")


def caption_of_a_text_post(w: World, a: Actor) -> Any:
    return queue.edit_caption(w.station, a, w.text_item, "A new caption")


def queue_posted(w: World, a: Actor) -> Any:
    return queue.mark_posted(w.station, a, w.photo_item, "https://x.com/Year5IJS/1")


def queue_withdraw(w: World, a: Actor) -> Any:
    return queue.withdraw_item(w.station, a, w.photo_item, "wrong account")


def queue_taken_down(w: World, a: Actor) -> Any:
    return queue.mark_taken_down(w.station, a, MISSING)


def queue_export_(w: World, a: Actor) -> Any:
    return queue_export.export_queue(w.station, a, w.folder / "outbox")


def audit_verify(w: World, a: Actor) -> Any:
    return audit.verify_chain(w.station, a)


def audit_anchor_remade(w: World, a: Actor) -> Any:
    return anchoring.remake_anchor(w.station, a)  # the anchor is there: refused past the role


def retention_run(w: World, a: Actor) -> Any:
    return retention.run_retention(w.station, a)


def retention_dry_run(w: World, a: Actor) -> Any:
    return retention.run_retention(w.station, a, dry_run=True)


def station_join(w: World, a: Actor) -> Any:
    return joining.record_join(w.station, a, joining.station_report(w.station))


def backup_create(w: World, a: Actor) -> Any:
    return backup.make_backup(w.station, a, w.folder / f"{a.username}.ijsbackup", PASSPHRASE)


def key_export(w: World, a: Actor) -> Any:
    return backup.export_key(w.station, a, w.folder / f"{a.username}.key", PASSPHRASE)


def settings_set(w: World, a: Actor) -> Any:
    return configure.set_setting(w.station, a, "posting.caption_limit", "100")


def child_export(w: World, a: Actor) -> Any:
    return subject_access.export_child(w.station, a, "A123", w.folder / "A123.zip")


def child_erase(w: World, a: Actor) -> Any:
    return subject_rights.erase_child(w.station, a, "A123")


def consent_lapse_run(w: World, a: Actor) -> Any:
    return consent_lapse.apply_lapses(w.station, a)


def consent_letters(w: World, a: Actor) -> Any:
    return letters.write_letters(w.station, a, csv_path=w.folder / "letters.csv")


def sheet_print(w: World, a: Actor) -> Any:
    return sheets.make_sheet(w.station, a, w.folder / "sheet.pdf", year=5)


def caption_naming_a_child(w: World, a: Actor) -> Any:
    return queue.add_text(w.station, a, "@Year5IJS", "Well done Amelia Smith", allow_names=True)


CASES = [
    _case("consent.set", {ADMIN}, consent_set),
    _case("biometric.set", {ADMIN}, biometric_set),
    _case("safeguarding.set", {ADMIN}, safeguarding_set),
    _case("roster.import", {ADMIN}, roster_import),
    _case("roster.import", {ADMIN}, roster_preview),
    _case("device.add", {ADMIN}, device_add),
    _case("device.rename", {ADMIN}, device_rename),
    _case("device.retire", {ADMIN}, device_retire),
    _case("faces.remove", {ADMIN}, faces_remove),
    _case("audit.export", {ADMIN, SLT}, audit_export),
    _case("user.add", {ADMIN}, user_add),
    _case("user.password", {ADMIN}, user_password_of_another),
    _case("faces.enrol", {ADMIN}, faces_enrol),
    _case("photos.import", EVERYONE, photos_import),
    _case("photos.vet", EVERYONE, photos_vet),
    _case("photos.retry", EVERYONE, photos_retry),
    _case("review.assign", EVERYONE, review_assign),
    _case("review.assign_many", EVERYONE, review_assign_many),
    _case("review.override", EVERYONE, review_override),
    _case("review.show", EVERYONE, review_show),
    _case("review.reset", EVERYONE, review_reset),
    _case("review.draw", EVERYONE, review_draw),
    _case("review.undraw", EVERYONE, review_undraw),
    _case("review.head_count", EVERYONE, review_head_count),
    _case("review.accept", {ADMIN, SLT}, review_accept),
    _case("queue.clear", {ADMIN, SLT}, photos_clear),
    _case("photos.reject", {ADMIN, SLT}, photos_reject),
    _case("queue.add_text", EVERYONE, queue_add_text),
    _case("queue.caption", {ADMIN, SLT}, caption_of_a_photo),
    _case("queue.caption", EVERYONE, caption_of_a_text_post),
    _case("queue.posted", {ADMIN, SLT}, queue_posted),
    _case("queue.withdraw", {ADMIN, SLT}, queue_withdraw),
    _case("queue.taken_down", {ADMIN, SLT}, queue_taken_down),
    _case("queue.export", {ADMIN, SLT}, queue_export_),
    _case("audit.verify", {ADMIN, SLT}, audit_verify),
    _case("audit.anchor_remade", {ADMIN}, audit_anchor_remade),
    _case("settings.set", {ADMIN}, settings_set),
    _case("station.join", {ADMIN}, station_join),
    _case("backup.create", {ADMIN}, backup_create),
    _case("key.export", {ADMIN}, key_export),
    _case("retention.run", {ADMIN}, retention_run),
    _case("retention.run", {ADMIN}, retention_dry_run),
    _case("child.export", {ADMIN}, child_export),
    _case("child.erase", {ADMIN}, child_erase),
    _case("consent.lapse", EVERYONE, consent_lapse_run),
    _case("consent.letters", {ADMIN}, consent_letters),
    _case("sheet.print", EVERYONE, sheet_print),
    _case("caption.allow_names", {ADMIN, SLT}, caption_naming_a_child),
]
ACTORS = {role: Actor(f"someone-{role.value}", role) for role in Role}


@pytest.fixture
def world(station: Station, admin: Actor, tmp_path: Path) -> World:
    school(station, admin, tmp_path)
    item = add_item(station, add_photo(station, [Face("A123"), Face("B456")]))
    text = queue.add_text(station, admin, "@Year5IJS", "Sports day tomorrow").id
    return World(station, tmp_path, item, text)


def _snapshot(world: World) -> dict[str, Any]:
    """Every row of every table but the audit log (and the change counter, which counts the
    refusal's audit write too), every vault file and every file written."""
    state: dict[str, Any] = {}
    with world.station.read() as s:
        for table in Base.metadata.sorted_tables:
            if table.name not in (AuditEntry.__tablename__, RegisterChanges.__tablename__):
                state[table.name] = sorted(map(repr, s.execute(select(table)).all()))
    root = world.station.paths.home
    state["files"] = sorted(str(p) for p in (*root.rglob("*"), *world.folder.rglob("*")))
    return state


def _audit_ids(station: Station) -> list[int]:
    with station.read() as s:
        return list(s.scalars(select(AuditEntry.id)))


@pytest.mark.parametrize("case", CASES)
def test_each_service_refuses_the_roles_it_does_not_allow(world: World, case: Case) -> None:
    for role in sorted(set(Role) - case.allowed):
        actor = ACTORS[role]
        before, seen = _snapshot(world), set(_audit_ids(world.station))
        # the plain sentence, the same the GUI's tooltips show (never the action's name)
        with pytest.raises(PermissionDenied, match=re.escape(refusal(case.action, case.allowed))):
            case.call(world, actor)
        assert _snapshot(world) == before, f"{role.value} changed something"
        new = [i for i in _audit_ids(world.station) if i not in seen]
        assert len(new) == 1, f"{role.value}: {len(new)} audit entries for one refusal"
        with world.station.read() as s:
            entry = s.get(AuditEntry, new[0])
        assert entry is not None
        assert (entry.actor, entry.action, entry.details["refused"]) == (
            actor.username,
            case.action,
            True,
        )
        assert set(entry.details["needs"]) == {r.value for r in case.allowed}
    for role in sorted(case.allowed):
        try:
            case.call(world, ACTORS[role])
        except PermissionDenied as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{role.value} may {case.action} but was refused: {exc}")
        except ServiceError:
            pass  # refused for another reason (a missing id): past the role check


_WRITE = re.compile(r"station\.write\(\s*actor,\s*(\"[^\"]+\"|[A-Z_]+)")


def test_the_table_covers_every_audited_action() -> None:
    """Every action a service writes under (read from the services' source) is in the table.

    Reads gated by role (`station.require` alone, e.g. viewing forms) change nothing, so only
    `audit.verify`, which the issue names, is in the table among them.
    """
    services = Path(importlib.import_module("ijs_vetting.services").__path__[0])
    written: set[str] = set()
    for source in services.glob("*/*.py"):
        dotted = ".".join(source.relative_to(services).with_suffix("").parts)
        module = importlib.import_module(f"ijs_vetting.services.{dotted}")
        for name in _WRITE.findall(source.read_text(encoding="utf-8")):
            written.add(name.strip('"') if name.startswith('"') else getattr(module, name))
    assert len(written) > 20
    assert written <= {param.values[0].action for param in CASES}
