"""Another station as a real process, for the two-station race tests (run with `python -m`).

    python -m tests.station_child HOME URL VAULT GO ACTION ARG...

opens the station (its own home, the shared database and vault), writes HOME/opened, waits for
the file GO (so two processes act together), does ACTION and prints one JSON line: what the
service returned, or {"refused": message} when it refused.

    import FOLDER                 import a folder as staff (one worker)
    clear PHOTO_ID ACCOUNT        clear a photo as SLT (one worker)
    export OUTDIR                 export the queue as SLT
    consent CHILD CHANNEL yes|no  record a parent's answer as admin
    override FACE_ID blur|none    a reviewer's mask on a face (or back to the policy)
    setting KEY VALUE             change a setting as admin
    setting-after FILE KEY VALUE  the same, once the photo FILE has been vetted (mid-run)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ijs_vetting.db.models import Photo
from ijs_vetting.domain import FaceOverride, PhotoStatus, Role, ServiceError
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing, review
from ijs_vetting.services.posting import clearing, queue_export
from ijs_vetting.services.register import configure, consent

ADMIN = Actor("office-admin", Role.ADMIN)
SLT = Actor("head-teacher", Role.SLT)
STAFF = Actor("teacher", Role.STAFF)


def wait_for(path: Path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.01)


def _wait_until_vetted(station: Station, filename: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with station.read() as session:
            status = session.scalar(select(Photo.status).where(Photo.filename == filename))
        if status is not None and status is not PhotoStatus.PENDING:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {filename} to be vetted")
        time.sleep(0.01)


def act(station: Station, action: str, args: list[str]) -> dict[str, Any]:
    if action == "import":
        return importing.import_folder(station, STAFF, Path(args[0]), workers=1).as_json()
    if action == "clear":
        return clearing.clear_photos(
            station, SLT, [int(args[0])], account=args[1], workers=1
        ).as_json()
    if action == "export":
        return queue_export.export_queue(station, SLT, Path(args[0])).as_json()
    if action == "consent":
        change = consent.set_consent(station, ADMIN, args[0], args[1], args[2] == "yes")
        return {"withdrawn": list(change.withdrawn), "record_id": change.record_id}
    if action == "override":
        override = FaceOverride(args[1]) if args[1] != "none" else None
        return {"status": review.set_override(station, STAFF, int(args[0]), override).value}
    if action == "setting":
        return {"value": configure.set_setting(station, ADMIN, args[0], args[1])}
    if action == "setting-after":
        _wait_until_vetted(station, args[0])
        return {"value": configure.set_setting(station, ADMIN, args[1], args[2])}
    raise SystemExit(f"unknown action {action}")


def main(argv: list[str]) -> None:
    home, url, vault, go, action = argv[:5]
    station = open_station(home, url=url, vault=vault)
    try:
        (Path(home) / "opened").touch()
        wait_for(Path(go))
        try:
            result = act(station, action, argv[5:])
        except ServiceError as exc:
            result = {"refused": str(exc)}
        print(json.dumps(result, default=str), flush=True)
    finally:
        station.close()


if __name__ == "__main__":
    main(sys.argv[1:])
