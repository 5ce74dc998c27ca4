"""ORM models of the consent register.

History is never overwritten: consent, biometric and safeguarding changes are appended as new
records and the current state is the newest record (highest id) per child and channel. That keeps
the evidence an ICO inquiry or a parent's question needs — who recorded what, when, from which
form — while the queries for "current" stay one GROUP BY away (see `ijs_vetting.db.state`).

Each model lives in the module of what it records (`station`, `register`, `photos`, `posting`);
all are imported here, so the mapper knows every class and callers import from
`ijs_vetting.db.models` alone.
"""

from __future__ import annotations

from ijs_vetting.db.models.base import Base
from ijs_vetting.db.models.photos import Device, ImportBatch, Photo, PhotoFace
from ijs_vetting.db.models.posting import (
    Account,
    AccountYearGroup,
    PostingEntry,
    PostingFolder,
    QueueItem,
    QueueItemChild,
)
from ijs_vetting.db.models.register import (
    BiometricRecord,
    Channel,
    Child,
    ConsentRecord,
    FaceTemplate,
    Form,
    SafeguardingRecord,
)
from ijs_vetting.db.models.station import AuditEntry, RegisterChanges, Setting, User

__all__ = [
    "Account",
    "AccountYearGroup",
    "AuditEntry",
    "Base",
    "BiometricRecord",
    "Channel",
    "Child",
    "ConsentRecord",
    "Device",
    "FaceTemplate",
    "Form",
    "ImportBatch",
    "Photo",
    "PhotoFace",
    "PostingEntry",
    "PostingFolder",
    "QueueItem",
    "QueueItemChild",
    "RegisterChanges",
    "SafeguardingRecord",
    "Setting",
    "User",
]
