"""Finding records by the names people type: MIS ids, channel names, device names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.config_seals import checked_config
from ijs_vetting.db.models import Channel, Child
from ijs_vetting.domain import NotFound, channel_key


def channel_names(channel: Channel) -> set[str]:
    names = {channel_key(channel.code), channel_key(channel.name)}
    names.update(channel_key(alias) for alias in channel.csv_aliases.split(",") if alias.strip())
    names.discard("")
    return names


def checked_channels(session: Session) -> list[Channel]:
    """Every channel, in the school's order, after checking their seals: a channel's code and
    the MIS column names it answers to decide what a consent (or a roster column) is for."""
    return list(
        checked_config(session, list(session.scalars(select(Channel).order_by(Channel.sort_order))))
    )


def find_channel(session: Session, name: str) -> Channel:
    key = channel_key(name)
    channels = checked_channels(session)
    for channel in channels:
        if key in channel_names(channel):
            return channel
    known = ", ".join(c.code for c in channels)
    raise NotFound(f"There is no channel called '{name}'. Channels: {known}.")


def find_child(session: Session, mis_id: str) -> Child:
    child = session.scalar(select(Child).where(Child.mis_id == mis_id.strip()))
    if child is None:
        raise NotFound(f"There is no child with the id '{mis_id}'.")
    return child
