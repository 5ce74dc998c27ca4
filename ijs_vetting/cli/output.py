"""Printing results: JSON for scripts (a stable contract), aligned text for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ijs_vetting.json_report import json_value
from ijs_vetting.progress import Progress


def emit_json(payload: Any) -> None:
    """Compact JSON (the same fields as ever): a report by its `as_json()`
    (`ijs_vetting.json_report`), or plain values. A list, or an iterator a service streams,
    goes out one element per line as it is encoded, so 20,000 photos stream instead of being
    built and indented in one pass (23 s, measured)."""
    if not isinstance(payload, list | Iterator):
        sys.stdout.write(_compact(json_value(payload)) + "\n")
        return
    sys.stdout.write("[")
    for n, item in enumerate(payload):
        sys.stdout.write(("," if n else "") + "\n" + _compact(json_value(item)))
    sys.stdout.write("\n]\n")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table; empty tables say so instead of printing a bare header."""
    if not rows:
        print("(none)")
        return
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return one_line(str(value))


def one_line(text: str) -> str:
    """`text` with control characters shown as escapes: a file named with a newline (possible on
    every disk but Windows') must not break a table or a line of the report."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail(message: str) -> None:
    print(f"ijs-vetting: {message}", file=sys.stderr)


def terminal_progress(enabled: bool) -> Progress:
    """A progress line on stderr when a person is watching; silent for scripts and pipes."""
    if not enabled or not sys.stderr.isatty():
        return Progress()

    def show(done: int, total: int, message: str) -> None:
        sys.stderr.write(f"\r{message[:50]:<50} {done}/{total}")
        sys.stderr.flush()

    return Progress(show)
