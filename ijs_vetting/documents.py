"""Printed documents (A4 PDF) with fpdf2: pure Python, no Qt, Unicode through DejaVu Sans.

Made for a school printer: black on white (no colour carries meaning), large type, an
"internal — do not share" banner on every page and a footer naming when and from what state of
the register the page was made, so a stale sheet can be recognised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ijs_vetting.assets import resource

FONT = "DejaVu"
INTERNAL = "INTERNAL — DO NOT SHARE"


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # mm
    bold: bool = False


class Document(FPDF):
    """An A4 portrait document with the internal banner and a footer on every page."""

    def __init__(self, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer
        self.continued = ""  # a title repeated on the next page of a long table
        self.add_font(FONT, "", str(resource("fonts/DejaVuSans.ttf")))
        self.add_font(FONT, "B", str(resource("fonts/DejaVuSans-Bold.ttf")))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=20)
        self.set_creator("IJS vetting station")

    def header(self) -> None:
        self.set_font(FONT, "B", 12)
        self.set_line_width(0.6)
        self.cell(0, 9, INTERNAL, border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, "", 8)
        room = self.epw - 24  # the page number's cell, and a gap before it
        left = f"{INTERNAL} · {self.footer_text}"
        while len(left) > 1 and self.get_string_width(left) > room:
            left = left[:-2] + "…"  # a long footer is cut, never run into the page number
        self.cell(room, 5, left, align="L")
        self.cell(24, 5, f"page {self.page_no()}/{{nb}}", align="R")

    def title_block(self, title: str, lines: Sequence[str]) -> None:
        self.set_font(FONT, "B", 18)
        self.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 10)
        for line in lines:
            self.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def table_header(self, columns: Sequence[Column]) -> None:
        self.set_font(FONT, "B", 11)
        self.set_line_width(0.3)
        for col in columns:
            self.cell(col.width, 8, col.title, border="B")
        self.ln(8)

    def table_row(
        self, columns: Sequence[Column], values: Sequence[str], height: float = 9
    ) -> None:
        """One row; the page breaks before a row that would not fit (and repeats the header)."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
            if self.continued:
                self.set_font(FONT, "B", 14)
                self.cell(
                    0, 8, f"{self.continued} (continued)", new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
            self.table_header(columns)
        y = self.get_y()
        for col, value in zip(columns, values, strict=True):
            self.set_font(FONT, "B" if col.bold else "", 12 if col.bold else 11)
            self.cell(col.width, height, value, border="B")
        self.set_xy(self.l_margin, y + height)

    def pdf_bytes(self) -> bytes:
        return bytes(self.output())
