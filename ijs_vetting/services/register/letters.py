"""The office's list of consent to re-confirm: a CSV for the mail merge and a PDF to print.

Written by an admin (the office sends the letters), audited with the children listed, as every
print of names from the register is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ijs_vetting.domain import Role
from ijs_vetting.services.core.posting_folder import write_atomically
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register.consent_review import DueRow, due_csv, due_pdf, due_rows


def write_letters(
    station: Station,
    actor: Actor,
    *,
    csv_path: Path | None = None,
    pdf_path: Path | None = None,
    today: date | None = None,
) -> list[DueRow]:
    """Write the letters list (CSV for a mail merge, PDF to print) for the office (admins);
    audited with the children listed, as any print of names from the register is."""
    day = today or date.today()
    with station.write(actor, "consent.letters", Role.ADMIN) as w:
        rows = due_rows(w.session, day)
        if csv_path is not None:
            write_atomically(csv_path, due_csv(rows).encode("utf-8"))
        if pdf_path is not None:
            write_atomically(pdf_path, due_pdf(rows, actor.username, day))
        w.audit(
            f"consent review letters list: {len(rows)} row(s)",
            target_type="consent",
            details={
                "today": day.isoformat(),
                "children": sorted({r.mis_id for r in rows}),
                "csv": csv_path.name if csv_path else None,
                "pdf": pdf_path.name if pdf_path else None,
            },
        )
        return rows
