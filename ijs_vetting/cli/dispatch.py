"""One road for every command: the login, `--json`, refusals and the exit code, handled once.

A handler does its work through the services and returns an `Outcome`: the JSON scripts read
(a stable contract) and how to say the same to a person. It never checks `--json`, never prints
a refusal and never logs in by itself, so every command logs in the same way (before the
handler runs, unless it is registered as one that needs nobody, like `init`), speaks JSON the
same way, and fails the same way (one line on stderr per refusal, exit 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ijs_vetting.cli import session
from ijs_vetting.cli.output import emit_json, fail
from ijs_vetting.json_report import JsonReport
from ijs_vetting.services.core.station import Actor, Station


def _silent() -> None:
    return None


@dataclass(frozen=True)
class Outcome:
    """What a command did. `refused` lines go to stderr after the report (a batch in which
    some photos were refused still reports the others); `failed` makes the exit code 1 without
    a refusal line (e.g. `audit verify` on a broken chain: the report says why)."""

    payload: JsonReport | Mapping[str, Any] | Iterator[JsonReport]  # printed by `--json`
    show: Callable[[], None] = _silent
    refused: Sequence[str] = field(default_factory=tuple)
    failed: bool = False

    @property
    def code(self) -> int:
        return 1 if self.refused or self.failed else 0


@dataclass(frozen=True)
class Context:
    """What a handler gets: the open station, its arguments and the logged-in user."""

    station: Station
    args: argparse.Namespace
    actor: Actor


@dataclass(frozen=True)
class Anonymous:
    """What a handler that needs nobody logged in gets (`init`, which may make the first admin)."""

    station: Station
    args: argparse.Namespace


Handler = Callable[[Context], Outcome]
AnonymousHandler = Callable[[Anonymous], Outcome]
OfflineHandler = Callable[[argparse.Namespace], Outcome]


def handles(parser: argparse.ArgumentParser, handler: Handler) -> None:
    """`parser`'s command runs `handler` after logging the user in."""
    parser.set_defaults(handler=handler, anonymous=None, offline=None)


def handles_anonymously(parser: argparse.ArgumentParser, handler: AnonymousHandler) -> None:
    parser.set_defaults(handler=None, anonymous=handler, offline=None)


def handles_offline(parser: argparse.ArgumentParser, handler: OfflineHandler) -> None:
    """A command that must not open the station (`restore`: opening an empty station would
    make it a key and an id of its own)."""
    parser.set_defaults(handler=None, anonymous=None, offline=handler)


def run_offline(args: argparse.Namespace) -> int:
    return _emit(args, args.offline(args))


def run(station: Station, args: argparse.Namespace) -> int:
    """Run the command `args` names and print its outcome; `ServiceError`s propagate to `main`,
    which prints them as the one line of a refused command."""
    if args.anonymous is not None:
        outcome: Outcome = args.anonymous(Anonymous(station, args))
    else:
        outcome = args.handler(Context(station, args, session.actor(station)))
    return _emit(args, outcome)


def _emit(args: argparse.Namespace, outcome: Outcome) -> int:
    if args.json:
        emit_json(outcome.payload)
    else:
        outcome.show()
    for line in outcome.refused:
        fail(line)
    return outcome.code
