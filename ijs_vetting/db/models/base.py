"""The declarative base every model of the register shares: its naming convention (so
Alembic batch mode can alter SQLite tables) and how types are stored."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase

from ijs_vetting.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so Alembic batch mode can alter SQLite tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        str: String(200),
        dict[str, Any]: JSON(),
    }


def str_enum(kind: type[enum.StrEnum], length: int) -> Enum:
    """A Python enum stored as its string values (no native DB enum: simple to migrate)."""
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )
