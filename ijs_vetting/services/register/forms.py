"""Scanned permission forms: checked, stored once in the vault, linked to what they evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, Form
from ijs_vetting.domain import InvalidInput, NotFound, Role
from ijs_vetting.imaging.decode import ImageDecodeError
from ijs_vetting.imaging.documents import render_document
from ijs_vetting.services.core.lookup import find_child
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.vault import Vault

# Scanned forms arrive as photos of paper or as scanner PDFs; anything else is refused early so
# a mistaken file (a Word document, a shortcut) never becomes "evidence".
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
MAX_FORM_BYTES = 50 * 1024 * 1024
FORM = b"form"  # what a sealed blob in the vault is, bound into its encryption


def form_media_type(head: bytes) -> str | None:
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None


def store_form(session: Session, vault: Vault, path: Path, child: Child, username: str) -> Form:
    """Put a scanned form in the vault (once per content) and return its record."""
    if not path.is_file():
        raise InvalidInput(f"The form file '{path}' does not exist.")
    data = path.read_bytes()
    if len(data) > MAX_FORM_BYTES:
        raise InvalidInput(f"The form file '{path.name}' is larger than 50 MB.")
    media_type = form_media_type(data[:8])
    if media_type is None:
        raise InvalidInput(f"The form file '{path.name}' is not a JPEG, PNG or PDF scan.")
    sha = vault.put_sealed(data, FORM)
    form = session.scalar(select(Form).where(Form.sha256 == sha))
    if form is None:
        form = Form(
            sha256=sha,
            filename=path.name,
            media_type=media_type,
            size_bytes=len(data),
            child_id=child.id,
            uploaded_by=username,
        )
        session.add(form)
        session.flush()
    return form


@dataclass(frozen=True)
class FormInfo:
    id: int
    filename: str
    media_type: str
    uploaded_at: datetime
    uploaded_by: str


FORM_READERS = (Role.ADMIN, Role.SLT)  # staff do not see consent forms


def child_forms(station: Station, actor: Actor, mis_id: str) -> list[FormInfo]:
    """The scanned forms on file for a child (admins and SLT)."""
    station.require(actor, "forms.read", *FORM_READERS)
    with station.read() as session:
        child = find_child(session, mis_id)
        return [
            FormInfo(f.id, f.filename, f.media_type, f.uploaded_at, f.uploaded_by)
            for f in session.scalars(
                select(Form).where(Form.child_id == child.id).order_by(Form.id)
            )
        ]


def form_pages(
    station: Station, actor: Actor, form_id: int, max_side: int = 1400
) -> list[NDArray[np.uint8]]:
    """A form's pages as pictures, decrypted from the vault (admins and SLT)."""
    station.require(actor, "forms.read", *FORM_READERS)
    with station.read() as session:
        form = session.get(Form, form_id)
        if form is None:
            raise NotFound(f"There is no form {form_id}.")
        media_type, sha = form.media_type, form.sha256
    try:
        return render_document(station.vault.read_sealed(sha, FORM), media_type, max_side)
    except (ImageDecodeError, pdfium.PdfiumError) as exc:
        raise InvalidInput(f"The scanned form cannot be shown: {exc}") from exc
