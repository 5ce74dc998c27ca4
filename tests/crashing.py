"""Kill -9 a station in the middle of its work, at a chosen step, for the crash tests.

`run_killed` forks the test process (already importing everything: a fork starts in a tenth of
a second, a new interpreter in about five), opens the station afresh in the child (its own
engine, its own connections) and runs the work there with one fault armed:

    commit:N:before|after   SIGKILL itself just before / after the N-th database commit
    replace:N:before|after  ... the N-th `os.replace` (a vault file, a posting-folder file or
                            the audit anchor put in place)
    mkstemp:N:before        ... the N-th temporary file about to be made
    after:MODULE:NAME       ... once MODULE.NAME returns (a step with no write, e.g. the
                            renderings checked in memory)
    count                   no kill: the child reports how many commits and replaces it made

The child's face workers are spawned processes of its own; they exit by themselves once it is
killed (the parent-death check), as they would on an office PC.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ijs_vetting.services.core.station import Station, open_station


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(fault: str, counts: dict[str, int]) -> None:
    kind, _, rest = fault.partition(":")
    if kind == "after":
        module_name, _, name = rest.partition(":")
        module = importlib.import_module(module_name)
        real = getattr(module, name)

        def killing(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            _die()

        setattr(module, name, killing)
        return
    target, when = (int(rest.split(":")[0]), rest.split(":")[1]) if rest else (0, "")

    def before_commit(_session: Session) -> None:
        counts["commits"] += 1
        if kind == "commit" and counts["commits"] == target and when == "before":
            _die()

    def after_commit(_session: Session) -> None:
        if kind == "commit" and counts["commits"] == target and when == "after":
            _die()

    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_commit", after_commit)
    real_replace = os.replace

    def replace(*args: Any, **kwargs: Any) -> None:
        counts["replaces"] += 1
        hit = kind == "replace" and counts["replaces"] == target
        if hit and when == "before":
            _die()
        real_replace(*args, **kwargs)
        if hit and when == "after":
            _die()

    os.replace = replace
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        counts["mkstemps"] += 1
        if kind == "mkstemp" and counts["mkstemps"] == target:
            _die()
        return real_mkstemp(*args, **kwargs)

    tempfile.mkstemp = mkstemp  # type: ignore[assignment]


def run_killed(
    station: Station, fault: str, work: Callable[[Station], object], report: Path
) -> dict[str, int] | None:
    """Run `work` on a fresh opening of `station` in a forked child with `fault` armed.
    Returns the counts for `count`; else asserts the child was killed by SIGKILL."""
    home = str(station.paths.home)
    url = station.engine.url.render_as_string(hide_password=False)
    vault = str(station.paths.vault_override) if station.paths.vault_override else None
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        code = 0
        try:
            opened = open_station(home, url=url, vault=vault)
            counts = {"commits": 0, "replaces": 0, "mkstemps": 0}
            _arm(fault, counts)
            work(opened)
            report.write_text(json.dumps(counts), encoding="utf-8")
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if fault == "count":
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the counting run failed"
        counts: dict[str, int] = json.loads(report.read_text(encoding="utf-8"))
        return counts
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
        f"{fault}: the station was not killed there (status {status})"
    )
    return None
