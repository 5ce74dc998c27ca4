"""Reading an MIS roster export (SIMS, Arbor, Bromcom...) as Excel saved it.

Pure parsing, no database: the file's bytes and the known channels in, rows and line-numbered
problems out. Header names vary by MIS and by whoever built the report, so columns are found by
normalised synonyms; Excel on a UK PC saves Windows-1252 unless told otherwise, and UTF-8 with a
BOM when it is — both are read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ijs_vetting.domain import channel_key, normalise_words, parse_year_group, parse_yes_no

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    # field -> normalised header names, most specific first (UPN wins over Adno when both exist)
    "mis_id": (
        "upn",
        "unique pupil number",
        "adno",
        "admission number",
        "admission no",
        "adm no",
        "mis id",
        "pupil id",
        "student id",
        "id",
    ),
    "first_name": (
        "legal forename",
        "forename",
        "first name",
        "firstname",
        "given name",
        "first names",
        "legal first name",
    ),
    "preferred_name": (
        "preferred forename",
        "preferred name",
        "preferred first name",
        "known as",
        "chosen name",
    ),
    "last_name": ("legal surname", "surname", "last name", "lastname", "family name"),
    "year_group": (
        "year group",
        "nc year",
        "year",
        "yeargroup",
        "national curriculum year",
        "curriculum year",
        "yr",
    ),
    "class_name": (
        "reg group",
        "reg",
        "registration group",
        "class",
        "class name",
        "form",
        "form group",
        "tutor group",
    ),
    "biometric": ("biometric consent", "biometric", "biometrics", "biometric permission"),
    "consent_date": ("consent date", "date of consent", "permission date", "date given"),
}
REQUIRED = ("mis_id", "first_name", "last_name", "year_group")
_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="0123" keeps leading zeros in Excel


class RosterFileError(Exception):
    """The file as a whole cannot be read (encoding, no header, missing columns)."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    mis_id: str
    first_name: str
    last_name: str
    preferred_name: str | None
    year_group: int
    class_name: str
    consents: dict[str, bool]  # channel code -> granted, only for channels with a column
    biometric: bool | None  # None when the file has no biometric column
    consent_date: date | None


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    channel_columns: dict[str, str] = field(default_factory=dict)  # header -> channel code
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def decode_roster(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            "The file is neither UTF-8 nor Windows-1252 text; save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'."
        ) from exc


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _match_columns(
    headers: list[str], channels: Mapping[str, set[str]]
) -> tuple[dict[str, int], dict[int, str], list[str]]:
    """Map fields and channel codes to column indexes; returns (fields, channel cols, ignored)."""
    normal = [normalise_words(h) for h in headers]
    fields: dict[str, int] = {}
    for name, synonyms in HEADER_SYNONYMS.items():
        for synonym in synonyms:
            if synonym in normal:
                fields[name] = normal.index(synonym)
                break
    taken = set(fields.values())
    channel_cols: dict[int, str] = {}
    for index, header in enumerate(normal):
        if index in taken or not header:
            continue
        key = channel_key(header)
        for code, names in channels.items():
            if key in names and code not in channel_cols.values():
                channel_cols[index] = code
                break
    ignored = [
        headers[i]
        for i in range(len(headers))
        if i not in taken and i not in channel_cols and headers[i].strip()
    ]
    return fields, channel_cols, ignored


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    value = row[index].strip()
    match = _EXCEL_TEXT.match(value)
    return match.group(1).strip() if match else value


def _parse_date(text: str) -> date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_roster(data: bytes, channels: Mapping[str, set[str]]) -> ParsedRoster:
    """Parse a roster file. `channels` maps channel code to the header keys that name it.

    Raises `RosterFileError` when the file cannot be a roster at all; row-level problems are
    collected with their line numbers so the admin can fix them all in one go.
    """
    text, encoding = decode_roster(data)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        headers = next(reader)
    except StopIteration:
        raise RosterFileError("The file is empty.") from None
    fields, channel_cols, ignored = _match_columns(headers, channels)
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        wanted = "; ".join(f"{m}: e.g. {' / '.join(HEADER_SYNONYMS[m][:3])}" for m in missing)
        raise RosterFileError(
            f"The file has no column for {', '.join(missing)} ({wanted}). "
            f"Its columns are: {', '.join(h for h in headers if h.strip())}."
        )
    parsed = ParsedRoster(
        channel_columns={headers[i]: code for i, code in channel_cols.items()},
        ignored_columns=ignored,
        encoding=encoding,
    )
    cols = _Columns(headers, fields, channel_cols)
    seen: dict[str, int] = {}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        problems: list[str] = []
        parsed_row = _row(row, line, cols, seen, problems)
        if problems:
            parsed.problems.extend((line, p) for p in problems)
        elif parsed_row is not None:
            parsed.rows.append(parsed_row)
    return parsed


@dataclass(frozen=True)
class _Columns:
    headers: list[str]
    fields: dict[str, int]
    channels: dict[int, str]


def _row(
    row: list[str], line: int, cols: _Columns, seen: dict[str, int], problems: list[str]
) -> RosterRow | None:
    """One line of the file as a row, or None with every problem it has added to `problems`."""
    fields = cols.fields
    mis_id = _cell(row, fields["mis_id"])
    if not mis_id:
        problems.append("missing pupil id")
    elif mis_id in seen:
        problems.append(f"pupil id {mis_id} appears again (first on line {seen[mis_id]})")
    else:
        seen[mis_id] = line
    first, last = _cell(row, fields["first_name"]), _cell(row, fields["last_name"])
    if not first or not last:
        problems.append("missing first name or surname")
    year_text = _cell(row, fields["year_group"])
    year = parse_year_group(year_text)
    if year is None:
        problems.append(f"unknown year group '{year_text}'")
    consents: dict[str, bool] = {}
    for index, code in cols.channels.items():
        value = parse_yes_no(_cell(row, index))
        if value is None:
            problems.append(
                f"unreadable {cols.headers[index]!r} value '{_cell(row, index)}' (use Y or N)"
            )
        else:
            consents[code] = value
    biometric: bool | None = None
    if "biometric" in fields:
        biometric = parse_yes_no(_cell(row, fields["biometric"]))
        if biometric is None:
            problems.append(
                f"unreadable biometric value '{_cell(row, fields['biometric'])}' (use Y or N)"
            )
    consent_date: date | None = None
    date_text = _cell(row, fields.get("consent_date"))
    if date_text:
        try:
            consent_date = _parse_date(date_text)
        except ValueError:
            problems.append(f"unreadable consent date '{date_text}' (use DD/MM/YYYY)")
    if problems or year is None:
        return None
    return RosterRow(
        line=line,
        mis_id=mis_id,
        first_name=first,
        last_name=last,
        preferred_name=_cell(row, fields.get("preferred_name")) or None,
        year_group=year,
        class_name=_cell(row, fields.get("class_name")),
        consents=consents,
        biometric=biometric,
        consent_date=consent_date,
    )
