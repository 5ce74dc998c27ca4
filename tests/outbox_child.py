"""A second station process for the posting-folder fault tests (run with `python -m`).

    export HOME URL OUTDIR KILL   export as SLT; KILL is `<mkstemp|replace>:<n>:<before|after>`
                                  (kill -9 itself around the n-th call) or `pause:<folder>`
                                  (after the first file is renamed: write folder/ready, wait
                                  for folder/go, give the other process a second, go on)
    withdraw HOME URL ITEM FOLDER open the station, write folder/opened, wait for folder/ready,
                                  write folder/go and withdraw the item

The faults are injected by wrapping `tempfile.mkstemp` and `os.replace`, the two calls every
file written into a posting folder goes through, after the station is open.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ijs_vetting.domain import Role
from ijs_vetting.services.core.station import Actor, open_station
from ijs_vetting.services.posting.queue import withdraw_item
from ijs_vetting.services.posting.queue_export import export_queue

SLT = Actor("head-teacher", Role.SLT)


def wait_for(path: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.02)


def _wrap(name: str, real: Callable[..., Any], fault: str) -> Callable[..., Any]:
    calls = 0
    kind, _, rest = fault.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if kind == "pause":
            result = real(*args, **kwargs)
            if name == "replace" and calls == 1:
                folder = Path(rest)
                (folder / "ready").touch()
                wait_for(folder / "go")
                time.sleep(1.0)
            return result
        n, when = rest.split(":")
        hit = kind == name and calls == int(n)
        if hit and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if hit and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return call


def main(argv: list[str]) -> None:
    mode, home, url = argv[:3]
    station = open_station(home, url=url)
    if mode == "export":
        outdir, fault = Path(argv[3]), argv[4]
        tempfile.mkstemp = _wrap("mkstemp", tempfile.mkstemp, fault)
        os.replace = _wrap("replace", os.replace, fault)
        export_queue(station, SLT, outdir)
    else:
        item, folder = int(argv[3]), Path(argv[4])
        (folder / "opened").touch()
        wait_for(folder / "ready")
        (folder / "go").touch()
        withdraw_item(station, SLT, item, "a parent phoned")
    station.close()


if __name__ == "__main__":
    main(sys.argv[1:])
