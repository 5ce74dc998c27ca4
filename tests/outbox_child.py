"""A second station process for the posting-folder fault tests (run with `python -m`).

    export HOME URL OUTDIR PAUSE  export as SLT, pausing after the first file is renamed
                                  (PAUSE is `pause:<folder>`: write folder/ready, wait for
                                  folder/go, give the other process a second, go on)
    withdraw HOME URL ITEM FOLDER HOW
                                  open the station, write folder/opened, wait for folder/ready,
                                  write folder/go and take the item back: HOW is `item` (withdraw
                                  it), `consent:MIS_ID` (the parent says no) or `reject:PHOTO_ID`

The pause is injected by wrapping `os.replace`, which every file written into a posting folder
goes through, after the station is open. (Kill -9 at each step: tests/crashing.py.)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ijs_vetting.domain import Role
from ijs_vetting.services.core.station import Actor, open_station
from ijs_vetting.services.posting.queue import withdraw_item
from ijs_vetting.services.posting.queue_export import export_queue
from ijs_vetting.services.posting.rejecting import reject_photos
from ijs_vetting.services.register.consent import set_consent

SLT = Actor("head-teacher", Role.SLT)
ADMIN = Actor("office-admin", Role.ADMIN)


def wait_for(path: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.02)


def _pausing(real: Callable[..., Any], folder: Path) -> Callable[..., Any]:
    calls = 0

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        result = real(*args, **kwargs)
        if calls == 1:
            (folder / "ready").touch()
            wait_for(folder / "go")
            time.sleep(1.0)
        return result

    return call


def main(argv: list[str]) -> None:
    mode, home, url = argv[:3]
    station = open_station(home, url=url)
    if mode == "export":
        outdir, pause = Path(argv[3]), argv[4]
        os.replace = _pausing(os.replace, Path(pause.removeprefix("pause:")))
        export_queue(station, SLT, outdir)
    else:
        item, folder, how = int(argv[3]), Path(argv[4]), argv[5]
        (folder / "opened").touch()
        wait_for(folder / "ready")
        (folder / "go").touch()
        kind, _, what = how.partition(":")
        if kind == "consent":
            set_consent(station, ADMIN, what, "twitter", False)
        elif kind == "reject":
            reject_photos(station, SLT, [int(what)], "a parent phoned")
        else:
            withdraw_item(station, SLT, item, "a parent phoned")
    station.close()


if __name__ == "__main__":
    main(sys.argv[1:])
