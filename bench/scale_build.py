"""Building a school's four years of data for `bench.scale`, once per size, cached on disk.

The register, users, devices, references and 24 real photos go through the real services (so
what the bench clears and exports was truly vetted); the bulk — thousands of photos, their faces,
the posting queue's history and the audit log — is written with Core `executemany` inserts,
because the ORM at one row a time would take longer than the benchmark itself. The bulk still
uses the project's own rules: each photo's faces are decided by `policy.decide_photo` with the
standings `services.intake.deciding.standings` computes, and every audit entry is chained with
`audit_chain.entry_hash`. Photo-face encodings are never stored (none are needed: decisions are
made from the stored match results, as re-deciding does).

A build is cached under `.cache/bench-scale/` keyed by `BUILD_VERSION` and the Alembic head, so
changing this file's data (bump the version) or the schema rebuilds it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from ijs_vetting.audit_chain import GENESIS, entry_hash
from ijs_vetting.db.engine import head_revision
from ijs_vetting.db.models import (
    Account,
    AccountYearGroup,
    AuditEntry,
    Child,
    ConsentRecord,
    FaceTemplate,
    ImportBatch,
    Photo,
    PhotoFace,
    QueueItem,
    QueueItemChild,
)
from ijs_vetting.db.state import current_consents
from ijs_vetting.domain import FaceOrigin, PhotoStatus, QueueStatus, Role
from ijs_vetting.policy import FaceEvidence, decide_photo
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.core.station_settings import settings_of
from ijs_vetting.services.intake import devices, importing
from ijs_vetting.services.intake.deciding import standings
from ijs_vetting.services.intake.vetting import seal_encoding
from ijs_vetting.services.register import consent, roster, templates
from tests import scenes

BUILD_VERSION = "4"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "bench-scale"
PASSWORD = "bench scale password"
ADMIN = "bench-admin"
SLT = "bench-slt"
DEVICE = ("Year 5 iPad", "Apple", "iPad (9th generation)")
REAL_PHOTOS = 24  # at least 20 are clearable (Grace shown, the astronaut blurred)


@dataclass(frozen=True)
class Size:
    name: str
    photos: int
    children: int
    queue_items: int
    audit_entries: int
    faces_per_photo: int = 5


SIZES = {
    "tiny": Size("tiny", 200, 600, 50, 2_000),  # a quick check that the bench runs, not a figure
    "small": Size("small", 2_000, 600, 500, 20_000),
    "large": Size("large", 20_000, 600, 5_000, 200_000),
}


@dataclass(frozen=True)
class Built:
    """Where a built station lives and the facts the timings need."""

    home: str
    key_dir: str
    db_url: str | None  # None: the SQLite file in `home`
    real_photo_ids: list[int]  # vetted through the real import; the clearable ones first
    popular_child: str  # MIS id of a child with consent in the most photos
    popular_child_photos: int
    counts: dict[str, int]


def cache_key(size: Size, backend: str) -> str:
    return f"{backend}-{size.name}-v{BUILD_VERSION}-{head_revision()}"


def station_env(built: Built, home: str | None = None) -> dict[str, str]:
    """The environment a CLI or GUI process needs to open (a copy of) this station."""
    env = dict(os.environ)
    env.update(
        IJS_VETTING_HOME=home or built.home,
        IJS_VETTING_KEY_DIR=built.key_dir,
        IJS_VETTING_USER=ADMIN,
        IJS_VETTING_PASSWORD=PASSWORD,
        QT_QPA_PLATFORM="offscreen",
    )
    env.pop("IJS_VETTING_DB", None)
    if built.db_url:
        env["IJS_VETTING_DB"] = built.db_url
    return env


def ensure_built(size: Size, postgres: str | None, log: Any = print) -> Built:
    """The cached station of `size` (on SQLite, or a database on the `postgres` server)."""
    backend = "postgres" if postgres else "sqlite"
    folder = CACHE / cache_key(size, backend)
    meta = folder / "built.json"
    db_url = _pg_url(postgres, folder.name) if postgres else None
    if meta.exists() and (db_url is None or _pg_exists(postgres, folder.name)):
        return Built(**json.loads(meta.read_text()))
    if folder.exists():
        _make_writable(folder)
        shutil.rmtree(folder)
    if postgres:
        _pg_create(postgres, folder.name)
    log(f"building the {size.name} station ({backend}) in {folder} ...")
    built = _build(size, folder, db_url, log)
    meta.write_text(json.dumps(asdict(built), indent=1))
    return built


def _pg_url(server: str | None, name: str) -> str:
    assert server is not None
    return make_url(server).set(database=_pg_name(name)).render_as_string(hide_password=False)


def _pg_name(name: str) -> str:
    return "bench_" + name.replace("-", "_").lower()


def _pg_exists(server: str | None, name: str) -> bool:
    engine = create_engine(server or "", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": _pg_name(name)}
            ).first()
        return found is not None
    finally:
        engine.dispose()


def _pg_create(server: str, name: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_pg_name(name)}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{_pg_name(name)}"'))
    finally:
        engine.dispose()


def pg_copy(server: str, source_url: str, name: str) -> str:
    """A fresh copy of a built PostgreSQL database (CREATE DATABASE ... TEMPLATE); its URL."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    source = make_url(source_url).database
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def pg_drop(server: str, name: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _make_writable(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chmod(Path(root) / name, 0o755)


# building ---------------------------------------------------------------------------------------
def _build(size: Size, folder: Path, db_url: str | None, log: Any) -> Built:
    home, keys = folder / "home", folder / "keys"
    keys.mkdir(parents=True)
    os.environ["IJS_VETTING_KEY_DIR"] = str(keys)
    rng = random.Random(20_26)
    station = open_station(str(home), url=db_url)
    try:
        service_entries = 60  # about what the real services below write; the rest is bulk
        _bulk_audit(station, size.audit_entries - service_entries, rng)
        admin = users.login(station, ADMIN, PASSWORD)
        users.add_user(station, admin, SLT, Role.SLT, PASSWORD)
        mis = _register(station, admin, size, folder, rng)
        devices.add_device(station, admin, *DEVICE)
        _enrol(station, admin, folder)
        _fake_templates(station, rng)
        log(f"  register done; writing {size.photos} photos ...")
        popular = _bulk_photos(station, size, rng)
        _bulk_queue(station, size, rng)
        log("  importing the real photos through the face engine ...")
        real = _import_real(station, admin, folder)
        counts = _counts(station)
        popular_mis, popular_n = mis[popular[0]], popular[1]
    finally:
        station.close()
    log(f"  built: {counts}")
    return Built(
        home=str(home),
        key_dir=str(keys),
        db_url=db_url,
        real_photo_ids=real,
        popular_child=popular_mis,
        popular_child_photos=popular_n,
        counts=counts,
    )


def _start(years_back: float = 4.0) -> datetime:
    return datetime.now(UTC) - timedelta(days=365 * years_back)


def _bulk_audit(station: Station, n: int, rng: random.Random) -> None:
    """Four years of audit entries, chained on from the log's tip (opening a new station already
    wrote its anchor entry) exactly like the real log."""
    actions = [
        ("photos.import", "import", "import from DCIM finished: 42 new, 0 already imported"),
        ("review.assign", "face", "face identified by a reviewer"),
        ("queue.clear", "photo", "photo cleared to @Year4IJS"),
        ("queue.posted", "queue_item", "marked posted"),
        ("consent.set", "child", "twitter consent recorded: yes"),
        ("login", "user", "bench-slt logged in"),
    ]
    start, step = _start(), timedelta(days=365 * 4) / max(n, 1)
    batch: list[dict[str, Any]] = []
    with station.transaction() as session:
        tip = select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
        previous = session.scalar(tip) or GENESIS
        for i in range(n):
            action, target_type, summary = actions[rng.randrange(len(actions))]
            fields: dict[str, Any] = {
                "at": start + step * i,
                "actor": SLT if i % 3 else ADMIN,
                "action": action,
                "target_type": target_type,
                "target_id": str(rng.randrange(1, 20_000)),
                "summary": summary,
                "details": {"n": i, "note": "bench"},
            }
            digest = entry_hash(previous, **fields)
            batch.append({**fields, "prev_hash": previous, "entry_hash": digest})
            previous = digest
            if len(batch) == 10_000:
                session.execute(insert(AuditEntry), batch)
                batch = []
        if batch:
            session.execute(insert(AuditEntry), batch)


def _register(
    station: Station, admin: Actor, size: Size, folder: Path, rng: random.Random
) -> dict[int, str]:
    """600 children by two real roster imports (the second withdraws and grants some
    consents), hand-recorded withdrawals and a few safeguarding flags; returns id -> MIS id."""
    header = (
        "UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Twitter,Website,Biometric"
    )
    rows = [
        ("B000001", "Grace", "Hopper", 5, "Y", "Y", "Y"),
        ("B000002", "Eileen", "Collins", 6, "N", "Y", "Y"),
    ]
    for n in range(3, size.children + 1):
        year = n % 7
        rows.append(
            (
                f"B{n:06d}",
                f"Child{n}",
                f"Family{n % 97}",
                year,
                "Y" if rng.random() < 0.8 else "N",
                "Y" if rng.random() < 0.85 else "N",
                "Y" if rng.random() < 0.7 else "N",
            )
        )

    def write(name: str, table: list[tuple[str, str, str, int, str, str, str]]) -> Path:
        path = folder / name
        lines = [header] + [
            f"{u},{f},,{s},{'R' if y == 0 else y},{y}{s[0]},{t},{w},{b}"
            for u, f, s, y, t, w, b in table
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    roster.import_roster(station, admin, write("roster-2022.csv", rows))
    changed = [
        (u, f, s, y, ("N" if t == "Y" else "Y") if i > 2 and rng.random() < 0.12 else t, w, b)
        for i, (u, f, s, y, t, w, b) in enumerate(rows)
    ]
    roster.import_roster(station, admin, write("roster-2024.csv", changed))
    for n in (11, 23, 37, 41, 59):  # parents' letters
        consent.set_consent(station, admin, f"B{n:06d}", "website", False)
    for n in (17, 29, 31):
        consent.set_safeguarding(station, admin, f"B{n:06d}", True, "court order (bench)")
    with station.read() as session:
        return dict(session.execute(select(Child.id, Child.mis_id)).tuples().all())


def _enrol(station: Station, admin: Actor, folder: Path) -> None:
    refs = folder / "references"
    refs.mkdir()
    for mis_id, person in (("B000001", scenes.GRACE), ("B000002", scenes.ASTRONAUT)):
        Image.fromarray(scenes.portrait(person, 240).pixels).save(refs / f"{mis_id}.jpg")
    templates.enrol_references(station, admin, refs)


def _fake_templates(station: Station, rng: random.Random) -> None:
    """Templates for the other children with biometric consent: random unit vectors (far from
    any real face), sealed like real ones, so loading and matching cost what a school's would."""
    with station.transaction() as session:
        reference = session.scalar(select(FaceTemplate.reference_sha256).limit(1)) or "0" * 64
        allowed = [
            cid
            for cid, st in standings(session, _child_ids(session)).items()
            if st.templates_allowed
        ]
        have = set(session.scalars(select(FaceTemplate.child_id)))
        gen = np.random.default_rng(rng.randrange(1 << 30))
        rows = []
        for child_id in allowed:
            if child_id in have:
                continue
            vector = gen.normal(size=128)
            vector = (vector / np.linalg.norm(vector)).astype(np.float64)
            rows.append(
                {
                    "child_id": child_id,
                    "encoding": seal_encoding(station, vector),
                    "reference_sha256": reference,
                    "reference_name": "reference.jpg",
                    "face_width": 240.0,
                    "sharpness": 100.0,
                    "created_at": _start(3.5),
                    "created_by": ADMIN,
                }
            )
        if rows:
            session.execute(insert(FaceTemplate), rows)


def _child_ids(session: Any) -> list[int]:
    return list(session.scalars(select(Child.id)))


def _tiny_jpeg(seed: int) -> bytes:
    """A distinct 160x120 picture: cheap to make, to store and to thumbnail."""
    gen = np.random.default_rng(seed)
    pixels = np.repeat(np.repeat(gen.integers(0, 255, (12, 16, 3), dtype=np.uint8), 10, 0), 10, 1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def _store(station: Station, data: bytes) -> str:
    """Put a file in the vault the way `Vault` lays it out, without its per-file fsync (20,000
    fsyncs would dominate the build and measure nothing the bench is about)."""
    sha = hashlib.sha256(data).hexdigest()
    target = station.vault.path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
        target.chmod(0o444)
    return sha


def _bulk_photos(station: Station, size: Size, rng: random.Random) -> tuple[int, int]:
    """Photos with ~5 faces each, decided by the policy; returns the child with consent shown in
    the most photos and how many."""
    with station.transaction() as session:
        config = settings_of(session)
        children = _child_ids(session)
        standing = standings(session, children)
        device_id = session.scalar(text("SELECT id FROM devices LIMIT 1"))
        start, span = _start(), timedelta(days=365 * 4)
        # A few children are in far more photos than most (the school council, the choir).
        weights = [12.0 if i < 8 else 1.0 for i in range(len(children))]
        batch_rows = [
            {
                "folder": f"/media/ipad/DCIM/{100 + b}APPLE",
                "device_id": device_id,
                "started_by": SLT,
                "started_at": start + span * b / (size.photos // 100),
                "finished_at": start + span * b / (size.photos // 100),
                "counts": {"imported": 100},
            }
            for b in range(size.photos // 100)
        ]
        session.execute(insert(ImportBatch), batch_rows)
        first_batch = int(session.scalar(select(func.min(ImportBatch.id))) or 0)
        first_photo = (session.scalar(select(func.max(Photo.id))) or 0) + 1
        photo_rows, face_rows = [], []
        in_photos: dict[int, int] = {}
        for n in range(size.photos):
            photo_id = first_photo + n
            at = start + span * n / size.photos
            faces = []
            for k in range(max(1, size.faces_per_photo + rng.randint(-2, 2))):
                small = rng.random() < 0.2
                matched = not small and rng.random() < 0.85
                candidate = rng.choices(children, weights)[0] if matched else None
                distance = (
                    rng.uniform(0.25, 0.43)
                    if matched and rng.random() < 0.9
                    else rng.uniform(0.46, 0.7)
                )
                runner_up = distance + rng.uniform(0.08, 0.4) if matched else None
                faces.append(
                    (
                        k,
                        FaceEvidence(
                            too_small=small,
                            candidate=candidate,
                            distance=distance if matched else None,
                            runner_up=runner_up,
                        ),
                    )
                )
            verdict = decide_photo([f for _, f in faces], standing, config.thresholds)
            for (k, evidence), fv in zip(faces, verdict.faces, strict=True):
                left, top = 8 + 28 * k % 120, 10 + (k // 4) * 50
                face_rows.append(
                    {
                        "photo_id": photo_id,
                        "left": left,
                        "top": top,
                        "right": left + (12 if evidence.too_small else 26),
                        "bottom": top + (14 if evidence.too_small else 30),
                        "score": 0.9,
                        "too_small": evidence.too_small,
                        "candidate_child_id": evidence.candidate,
                        "distance": evidence.distance,
                        "runner_up_distance": evidence.runner_up,
                        "child_id": fv.child,
                        "decision": fv.decision,
                        "reason": fv.reason,
                        "origin": FaceOrigin.DETECTED,
                    }
                )
                if fv.child is not None and fv.decision.value == "show":
                    in_photos[fv.child] = in_photos.get(fv.child, 0) + 1
            photo_rows.append(
                {
                    "id": photo_id,
                    "sha256": _store(station, _tiny_jpeg(photo_id)),
                    "filename": f"IMG_{n:05d}.JPG",
                    "source_path": f"/media/ipad/DCIM/IMG_{n:05d}.JPG",
                    "media_type": "image/jpeg",
                    "width": 160,
                    "height": 120,
                    "taken_at": at,
                    "camera_make": DEVICE[1],
                    "camera_model": DEVICE[2],
                    "device_id": device_id,
                    "batch_id": first_batch + min(n // 100, len(batch_rows) - 1),
                    "imported_at": at + timedelta(hours=3),
                    "imported_by": SLT,
                    "status": verdict.status,
                    "status_note": "; ".join(verdict.notes) or None,
                    "vetted_at": at + timedelta(hours=3),
                }
            )
        for chunk in range(0, len(photo_rows), 5_000):
            session.execute(insert(Photo), photo_rows[chunk : chunk + 5_000])
        for chunk in range(0, len(face_rows), 20_000):
            session.execute(insert(PhotoFace), face_rows[chunk : chunk + 20_000])
        _advance_sequence(session, "photos")
    return max(in_photos.items(), key=lambda kv: kv[1])


def _bulk_queue(station: Station, size: Size, rng: random.Random) -> None:
    """Queue items for clear photos: most posted over the years, a few hundred waiting or
    exported, some withdrawn or taken down; each photo's status follows its item."""
    with station.transaction() as session:
        accounts = {
            year: account_id
            for account_id, year in session.execute(
                select(Account.id, AccountYearGroup.year_group).join(AccountYearGroup)
            )
        }
        default_account = next(iter(accounts.values()))
        clear = list(
            session.execute(
                select(Photo.id, Photo.imported_at)
                .where(Photo.status.in_([PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR]))
                .order_by(Photo.id)
            )
        )
        chosen = clear[: size.queue_items]
        ids = [pid for pid, _ in chosen]
        shown: dict[int, list[tuple[int, bool]]] = {}  # photo -> (identified child, shown)
        year_of = dict(session.execute(select(Child.id, Child.year_group)).tuples().all())
        for photo_id, child_id, decision in session.execute(
            select(PhotoFace.photo_id, PhotoFace.child_id, PhotoFace.decision).where(
                PhotoFace.photo_id.in_(ids), PhotoFace.child_id.is_not(None)
            )
        ):
            assert child_id is not None
            shown.setdefault(photo_id, []).append((child_id, decision.value == "show"))
        consents = current_consents(session)
        channel = settings_of(session).vetting_channel
        images = [_store(station, _tiny_jpeg(10_000_000 + i)) for i in range(50)]
        first_item = (session.scalar(select(func.max(QueueItem.id))) or 0) + 1
        item_rows, link_rows, status_of = [], [], {}
        waiting = max(20, size.queue_items // 15)
        for n, (photo_id, at) in enumerate(chosen):
            item_id = first_item + n
            left = len(chosen) - n
            status = (
                QueueStatus.QUEUED
                if left <= waiting // 2
                else QueueStatus.EXPORTED
                if left <= waiting
                else QueueStatus.WITHDRAWN
                if n % 25 == 0
                else QueueStatus.TAKEN_DOWN
                if n % 97 == 0
                else QueueStatus.POSTED
            )
            kids = dict.fromkeys(c for c, _ in shown.get(photo_id, []))
            years = {year_of[c] for c, show in shown.get(photo_id, []) if show}
            account = next((accounts[y] for y in sorted(years) if y in accounts), default_account)
            posted = status in (QueueStatus.POSTED, QueueStatus.TAKEN_DOWN)
            item_rows.append(
                {
                    "id": item_id,
                    "account_id": account,
                    "photo_id": photo_id,
                    "image_sha256": images[n % len(images)],
                    "caption": f"Our learning this week ({n})",
                    "blurred_faces": rng.randint(0, 3),
                    "status": status,
                    "cleared_by": SLT,
                    "cleared_at": at + timedelta(days=1),
                    "exported_at": at + timedelta(days=2)
                    if status is not QueueStatus.QUEUED
                    else None,
                    "exported_by": SLT if status is not QueueStatus.QUEUED else None,
                    "posted_at": at + timedelta(days=3) if posted else None,
                    "posted_by": SLT if posted else None,
                    "withdrawn_at": at + timedelta(days=2)
                    if status is QueueStatus.WITHDRAWN
                    else None,
                    "withdrawn_reason": "consent withdrawn"
                    if status is QueueStatus.WITHDRAWN
                    else None,
                    "taken_down_at": at + timedelta(days=9)
                    if status is QueueStatus.TAKEN_DOWN
                    else None,
                    "taken_down_by": SLT if status is QueueStatus.TAKEN_DOWN else None,
                }
            )
            for child_id in kids:
                show = any(c == child_id and s for c, s in shown[photo_id])
                record = consents.get((child_id, channel))
                link_rows.append(
                    {
                        "item_id": item_id,
                        "child_id": child_id,
                        "shown": show,
                        "by_reviewer": False,
                        "consent_record_id": record.id if show and record else None,
                    }
                )
            status_of[photo_id] = (
                PhotoStatus.POSTED
                if posted
                else PhotoStatus.QUEUED
                if status in (QueueStatus.QUEUED, QueueStatus.EXPORTED)
                else None
            )
        if item_rows:
            session.execute(insert(QueueItem), item_rows)
        if link_rows:
            session.execute(insert(QueueItemChild), link_rows)
        _advance_sequence(session, "queue_items")
        for photo_status in (PhotoStatus.POSTED, PhotoStatus.QUEUED):
            chosen_ids = [p for p, s in status_of.items() if s is photo_status]
            for chunk in range(0, len(chosen_ids), 900):
                session.execute(
                    update(Photo)
                    .where(Photo.id.in_(chosen_ids[chunk : chunk + 900]))
                    .values(status=photo_status)
                )
        # Some photos an SLT rejected outright.
        session.execute(
            update(Photo)
            .where(Photo.status == PhotoStatus.REVIEW, Photo.id % 7 == 0)
            .values(
                status=PhotoStatus.REJECTED,
                rejected_by=SLT,
                rejected_at=_start(1),
                rejected_reason="not suitable",
                status_note="not suitable",
            )
        )


def _advance_sequence(session: Any, table: str) -> None:
    """PostgreSQL's id sequence does not see explicit ids: move it past them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


def _import_real(station: Station, admin: Actor, folder: Path) -> list[int]:
    """24 generated iPad photos of the two real sample faces, imported and vetted for real."""
    dcim = folder / "DCIM"
    dcim.mkdir()
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = DEVICE[1], DEVICE[2]
    for n in range(REAL_PHOTOS):
        canvas = scenes.background(2400, 1800, seed=100 + n)
        scenes.paste(canvas, scenes.portrait(scenes.GRACE, 200 + 5 * n), 300 + 17 * n, 420)
        if n % 2:
            scenes.paste(canvas, scenes.portrait(scenes.ASTRONAUT, 190 + 3 * n), 1400, 500 + 9 * n)
        scenes.write_jpeg(dcim / f"IMG_{9000 + n}.JPG", canvas, exif=exif.tobytes())
    report = importing.import_folder(station, admin, dcim, device=DEVICE[0])
    with station.read() as session:
        rows = session.execute(
            select(Photo.id, Photo.status)
            .where(Photo.batch_id == report.batch_id)
            .order_by(Photo.id)
        ).all()
    clear = (PhotoStatus.READY, PhotoStatus.READY_WITH_BLUR)
    return [pid for pid, st in rows if st in clear] + [pid for pid, st in rows if st not in clear]


def _counts(station: Station) -> dict[str, int]:
    tables = {
        "children": Child,
        "photos": Photo,
        "faces": PhotoFace,
        "queue_items": QueueItem,
        "audit_entries": AuditEntry,
        "templates": FaceTemplate,
        "consent_records": ConsentRecord,
    }
    waiting = select(func.count(QueueItem.id)).where(
        QueueItem.status.in_([QueueStatus.QUEUED, QueueStatus.EXPORTED])
    )
    with station.read() as session:
        counts = {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }
        counts["waiting_items"] = int(session.scalar(waiting) or 0)
        return counts
