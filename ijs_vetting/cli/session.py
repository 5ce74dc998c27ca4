"""Who is running a command: `IJS_VETTING_USER` (or the OS login) with `IJS_VETTING_PASSWORD`,
or a password prompt when a person is at a terminal."""

from __future__ import annotations

import getpass
import os
import sys

from ijs_vetting.domain import ServiceError
from ijs_vetting.services.core import users
from ijs_vetting.services.core.station import Actor, Station

PASSWORD_ENV = "IJS_VETTING_PASSWORD"
NEW_PASSWORD_ENV = "IJS_VETTING_NEW_PASSWORD"


def secret(prompt: str, env: str, what: str = "password") -> str:
    """A password or passphrase from `env`, else typed at a terminal (never echoed); scripts
    without a terminal are told which variable to set."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise ServiceError(f"No {what}: set {env} or run the command in a terminal.")
    return getpass.getpass(prompt)


def actor(station: Station) -> Actor:
    """Log the command's user in (creating the first admin on an empty station)."""
    new = users.station_is_new(station)
    prompt = "Choose the first admin's password: " if new else "Password: "
    return users.login(station, None, secret(prompt, PASSWORD_ENV), record=False)


def password() -> str:
    """The command's user's password, for a command that logs in by itself (`station join`,
    before the PC is a station)."""
    return secret("Password: ", PASSWORD_ENV)


def new_password(prompt: str, env: str = NEW_PASSWORD_ENV) -> str:
    """A new password from `env`, or typed twice at a terminal."""
    if os.environ.get(env) is not None:
        return os.environ[env]
    first = secret(prompt, env)
    if getpass.getpass("Again: ") != first:
        raise ServiceError("The two passwords differ; nothing was changed.")
    return first
