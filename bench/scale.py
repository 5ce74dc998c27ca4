"""Every screen and command at school scale (issue 15): four years of data, two sizes, timed.

`.venv/bin/python -m bench.scale` (or `make bench-scale`) builds a station of 2,000 photos and
one of 20,000 (see `bench.scale_build`; cached), then for each size times, as the median of
`--repeat` runs on a fresh copy of the cached station: the real command line in a subprocess
(start-up included, like a script would see it) and the GUI in an offscreen subprocess
(`bench.scale_gui`). It prints one table with both sizes and the growth factor, and `--json
FILE` writes the same figures. `--postgres URL` (default `$IJS_TEST_POSTGRES_URL`, which
`scripts/with-postgres.sh` sets) runs everything on PostgreSQL instead of SQLite.

Every operation has a cap (`--cap`, 600 s); one that takes longer is killed and reported as
'>cap', so a regression never hangs the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scale_build import (
    ADMIN,
    SIZES,
    SLT,
    Built,
    ensure_built,
    pg_copy,
    pg_drop,
    station_env,
)
from ijs_vetting.settings import defaults

ROOT = Path(__file__).resolve().parent.parent
Result = float | None  # seconds, None = over the cap
GUI_START = ("GUI start to login window", "GUI start to main window")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown (no lscpu)"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _high_water_mb(pid: int) -> float | None:
    """A process's peak resident memory so far (VmHWM: reset by exec, unlike ru_maxrss, which a
    child inherits from the forked parent)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def run_capped(argv: Sequence[str], env: dict[str, str], cap: float, out: Path) -> Run:
    """Run a process to completion, or kill its group at `cap` seconds."""
    with out.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        killed, finished = threading.Event(), threading.Event()
        peak = [0.0]

        def watch() -> None:
            while not finished.wait(0.05):
                if time.perf_counter() - started > cap:
                    killed.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    return
                peak[0] = max(peak[0], _high_water_mb(proc.pid) or 0.0)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        finished.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        None if killed.is_set() else seconds,
        usage.ru_utime + usage.ru_stime,
        peak[0],
        proc.returncode,
    )


@dataclass(frozen=True)
class Run:
    seconds: Result  # wall clock; None when cut off at the cap
    cpu_seconds: float  # user + system of the process itself (steady on a busy machine)
    peak_rss_mb: float
    code: int


class WorkCopy:
    """A fresh copy of a built station: the database and key folder copied, the read-only vault
    hard-linked (new files the run writes go beside the links and never touch the cache)."""

    def __init__(self, built: Built, postgres: str | None) -> None:
        self.built, self.postgres = built, postgres
        self.dir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        home = self.dir / "home"
        source = Path(built.home)
        shutil.copytree(source, home, ignore=shutil.ignore_patterns("vault", "logs"))
        subprocess.run(["cp", "-al", str(source / "vault"), str(home / "vault")], check=True)
        self.db_name = f"bench_work_{os.getpid()}"
        url = pg_copy(postgres, built.db_url or "", self.db_name) if postgres else None
        self.env = station_env(built, str(home))
        # the key folder too: the audit anchor beside the key moves with every audited change,
        # and a run must not move the cached station's anchor past its database
        keys = self.dir / "keys"
        shutil.copytree(built.key_dir, keys)
        self.env["IJS_VETTING_KEY_DIR"] = str(keys)
        if url:
            self.env["IJS_VETTING_DB"] = url

    def close(self) -> None:
        if self.postgres:
            pg_drop(self.postgres, self.db_name)
        for root, dirs, files in os.walk(self.dir):
            for name in dirs + files:
                os.chmod(Path(root) / name, 0o755, follow_symlinks=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def cli_operations(built: Built) -> list[tuple[str, list[str]]]:
    default = str(defaults()["faces.match_threshold"])
    child = built.popular_child
    return [
        ("command start (settings list)", ["settings", "list"]),
        (
            "settings set faces.match_threshold 0.44",
            ["settings", "set", "faces.match_threshold", "0.44"],
        ),
        (
            "settings set faces.match_threshold back",
            ["settings", "set", "faces.match_threshold", default],
        ),
        ("photos list --json", ["photos", "list", "--json"]),
        ("audit verify", ["audit", "verify"]),
        (
            f"consent set CHILD twitter no ({built.popular_child_photos} photos)",
            ["consent", "set", child, "twitter", "no"],
        ),
        ("consent set CHILD twitter yes (back)", ["consent", "set", child, "twitter", "yes"]),
        ("queue list --json", ["queue", "list", "--json"]),
    ]


def one_run(built: Built, postgres: str | None, cap: float, log: Any) -> dict[str, dict[str, Any]]:
    """Every operation once, on a fresh copy: {op: {"seconds", "rss_mb"/"block_ms"}}.

    The threshold changes run last: by design they withdraw every waiting queue item (verified
    under the old threshold), which would leave the GUI's export almost nothing to write."""
    copy = WorkCopy(built, postgres)
    results: dict[str, dict[str, Any]] = {}
    operations = cli_operations(built)
    later = [op for op in operations if op[1][:2] == ["settings", "set"]]
    try:
        results.update(cli_run([op for op in operations if op not in later], copy, cap, log))
        results.update(gui_run(built, copy, cap, log))
        results.update(cli_run(later, copy, cap, log))
    finally:
        copy.close()
    return results


def cli_run(
    operations: list[tuple[str, list[str]]], copy: WorkCopy, cap: float, log: Any
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, args in operations:
        run = run_capped(
            [sys.executable, "-m", "ijs_vetting", *args], copy.env, cap, copy.dir / "out.txt"
        )
        if run.seconds is not None and run.code != 0:
            tail = (copy.dir / "out.txt").read_text(errors="replace")[-500:]
            raise RuntimeError(f"{name} failed (exit {run.code}): {tail}")
        results[_stable(name)] = {
            "label": name,
            "seconds": run.seconds,
            "cpu_seconds": run.cpu_seconds,
            "rss_mb": run.peak_rss_mb,
        }
        log(
            f"    {name}: {_fmt(run.seconds, cap)} s, CPU {run.cpu_seconds:.2f} s, "
            f"{run.peak_rss_mb:.0f} MB"
        )
    return results


def _stable(name: str) -> str:
    """The op's key in the JSON (the popular child's photo count varies with the build)."""
    return name.split(" (")[0] if name.startswith("consent set CHILD twitter no") else name


def gui_run(built: Built, copy: WorkCopy, cap: float, log: Any) -> dict[str, dict[str, Any]]:
    results_file = copy.dir / "gui.jsonl"
    env = dict(copy.env)
    env.update(
        BENCH_T0=repr(time.time()),
        BENCH_CAP=str(cap),
        BENCH_REAL_IDS=json.dumps(built.real_photo_ids),
        BENCH_GUI_USER=SLT,
    )
    total_cap = cap * 4
    run = run_capped(
        [sys.executable, "-m", "bench.scale_gui", str(results_file)],
        env,
        total_cap,
        copy.dir / "gui.txt",
    )
    seconds, code = run.seconds, run.code
    out: dict[str, dict[str, Any]] = {"_gui": {}}
    lines = results_file.read_text().splitlines() if results_file.exists() else []
    for line in lines:
        row = json.loads(line)
        if row["op"] == "error":
            raise RuntimeError("the GUI run failed:\n" + row["error"])
        if row["op"] == "done":
            out["_gui"].update(
                peak_rss_mb=row["peak_rss_mb"], exported_images=row["exported_images"]
            )
            continue
        out[row["op"]] = {
            "label": row["op"],
            "seconds": row["seconds"],
            "cpu_seconds": row["cpu_seconds"],
            "block_ms": row["block_ms"],
        }
        out["_gui"].setdefault("waiting_after", {})[row["op"]] = row.get("waiting_items")
        log(
            f"    {row['op']}: {_fmt(row['seconds'], cap)} (longest block {row['block_ms']:.0f} ms)"
        )
        for ms, where in row.get("stalls", []):
            log(f"        blocked {ms} ms in {where}")
    if seconds is None or code != 0:
        tail = (copy.dir / "gui.txt").read_text(errors="replace")[-800:]
        log(f"    the GUI run {'timed out' if seconds is None else f'exited {code}'}: {tail}")
    return out


def _fmt(value: Result, cap: float) -> str:
    return f">{cap:.0f}" if value is None else f"{value:.2f}"


def median(values: list[Result]) -> Result:
    """Median with over-the-cap runs counted as the largest."""
    if not values or sum(v is None for v in values) * 2 > len(values):
        return None
    known = sorted(v if v is not None else float("inf") for v in values)
    middle = statistics.median(known)
    return None if middle == float("inf") else middle


def measure(size: str, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    built = ensure_built(SIZES[size], args.postgres, log)
    log(
        f"  {size}: {built.counts}; popular child {built.popular_child} "
        f"in {built.popular_child_photos} photos"
    )
    runs = []
    for n in range(args.repeat):
        log(f"  {size}: run {n + 1}/{args.repeat}")
        runs.append(one_run(built, args.postgres, args.cap, log))
    ops = [k for k in runs[0] if k != "_gui"]
    figures: dict[str, Any] = {"counts": built.counts, "operations": {}, "labels": {}}
    for op in ops:
        rows = [r.get(op, {"seconds": None}) for r in runs]
        figures["operations"][op] = median([r["seconds"] for r in rows])
        figures["labels"][op] = rows[0].get("label", op)
        cpu = [r["cpu_seconds"] for r in rows if r.get("cpu_seconds") is not None]
        figures.setdefault("cpu_seconds", {})[op] = statistics.median(cpu) if cpu else None
        if "rss_mb" in rows[0]:
            figures.setdefault("cli_peak_rss_mb", {})[op] = max(r.get("rss_mb", 0) for r in rows)
        if "block_ms" in rows[0]:
            figures.setdefault("gui_block_ms", {})[op] = statistics.median(
                r.get("block_ms", 0) for r in rows
            )
    actions = {k: v for k, v in figures.get("gui_block_ms", {}).items() if k not in GUI_START}
    figures["gui_max_block_ms"] = max(actions.values(), default=0.0)
    gui = [r.get("_gui", {}) for r in runs]
    figures["gui_peak_rss_mb"] = max((g.get("peak_rss_mb", 0) for g in gui), default=0)
    figures["exported_images"] = [g.get("exported_images") for g in gui]
    for g in gui:  # the commands before the GUI may have withdrawn some waiting items
        after = g.get("waiting_after", {})
        before, cleared = after.get("GUI open a photo"), after.get("GUI clear 20 photos")
        if before is None or cleared != before + 20 or g.get("exported_images") != cleared:
            log(
                f"  WARNING: waiting items {before} -> {cleared} after clearing 20, "
                f"{g.get('exported_images')} images exported: not all was cleared or exported"
            )
    return figures


def _cell(seconds: Result, cpu: float | None, block: float | None, cap: float) -> str:
    text = _fmt(seconds, cap) + " s"
    if cpu is not None:
        text += f" (CPU {cpu:.2f})"
    if block is not None:
        text += f", block {block:.0f} ms"
    return text


def _growth(small: float | None, large: float | None) -> str:
    return f"{large / small:.1f}x" if small and large else "-"


def print_table(by_size: dict[str, dict[str, Any]], cap: float) -> None:
    """Wall seconds (CPU seconds of the process in brackets; the longest GUI-thread block)."""
    sizes = list(by_size)
    ops: list[str] = []
    for figures in by_size.values():
        ops += [op for op in figures["operations"] if op not in ops]
    label = {op: f["labels"].get(op, op) for f in by_size.values() for op in f["operations"]}
    headers = ["operation", *(f"{s} ({SIZES[s].photos:,} photos)" for s in sizes)]
    if len(sizes) == 2:
        headers.append("growth wall / CPU")
    rows = []
    for op in ops:
        wall = [by_size[s]["operations"].get(op) for s in sizes]
        cpu = [by_size[s]["cpu_seconds"].get(op) for s in sizes]
        block = [by_size[s].get("gui_block_ms", {}).get(op) for s in sizes]
        cells = [_cell(*values, cap) for values in zip(wall, cpu, block, strict=True)]
        if len(sizes) == 2:
            cells.append(f"{_growth(*wall)} / {_growth(*cpu)}")
        rows.append([label[op], *cells])
    for name, key, unit in (
        ("GUI longest block (any action)", "gui_max_block_ms", "ms"),
        ("GUI peak RSS", "gui_peak_rss_mb", "MB"),
    ):
        cells = [f"{by_size[s][key]:.0f} {unit}" for s in sizes]
        if len(sizes) == 2:
            cells.append(_growth(*(by_size[s][key] for s in sizes)))
        rows.append([name, *cells])
    for s in sizes:
        peaks = by_size[s].get("cli_peak_rss_mb", {})
        if peaks:
            worst = max(peaks, key=peaks.get)
            print(f"{s}: largest command peak RSS {peaks[worst]:.0f} MB ({label[worst]})")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per operation (median)")
    parser.add_argument(
        "--sizes",
        default="small,large",
        help="comma-separated: small, large (tiny: a quick check that it runs)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("IJS_TEST_POSTGRES_URL"),
        help="a PostgreSQL server URL (default $IJS_TEST_POSTGRES_URL); else SQLite",
    )
    parser.add_argument(
        "--cap", type=float, default=600.0, help="seconds before an operation is cut off"
    )
    parser.add_argument(
        "--stalls",
        action="store_true",
        help="also print where the GUI thread was while it was blocked (sampled)",
    )
    args = parser.parse_args(argv)
    if args.stalls:
        os.environ["BENCH_STALLS"] = "1"
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {sorted(SIZES)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    cpu = cpu_model()
    print(f"CPU: {cpu}; {os.cpu_count()} logical cores; {backend}; median of {args.repeat}")
    by_size = {size: measure(size, args, log) for size in sizes}
    print_table(by_size, args.cap)
    if args.json:
        ops = {op for f in by_size.values() for op in f["operations"]}
        last = by_size[sizes[-1]]
        payload = {
            "operations": {
                op: {s: by_size[s]["operations"].get(op) for s in sizes} for op in sorted(ops)
            },
            "gui_max_block_ms": last["gui_max_block_ms"],
            "gui_peak_rss_mb": last["gui_peak_rss_mb"],
            "gui_block_ms": {s: by_size[s].get("gui_block_ms", {}) for s in sizes},
            "cpu_seconds": {s: by_size[s]["cpu_seconds"] for s in sizes},
            "cli_peak_rss_mb": {s: by_size[s].get("cli_peak_rss_mb", {}) for s in sizes},
            "exported_images": {s: by_size[s]["exported_images"] for s in sizes},
            "counts": {s: by_size[s]["counts"] for s in sizes},
            "cpu": cpu,
            "backend": backend,
            "repeat": args.repeat,
            "cap_seconds": args.cap,
            "users": {"cli": ADMIN, "gui": SLT},
        }
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
