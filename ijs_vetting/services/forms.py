"""Scanned permission forms: checked, stored once in the vault, linked to what they evidence."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Child, Form
from ijs_vetting.domain import InvalidInput
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
