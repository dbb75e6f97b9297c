"""Opportunities as CSV (`Accept: text/csv` on the results route, and `oppscan
results --format csv`): one header row, then one row per opportunity.

Columns are the Opportunity's fields in their declared order, so a field added
to the record appears in the export without touching this module. A nested
record (the evidence) is spread over ``<field>_<name>`` columns; a list (legs,
conflicts) is one cell of compact JSON. A missing value is an empty cell. Text
that a spreadsheet would run as a formula (a leading ``=``, ``+``, ``-``,
``@``, tab or carriage return) is prefixed with a quote, as OWASP advises;
numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import msgspec.inspect as mi

from strategies.opportunity import Opportunity

MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# RFC 4180: lines end with CRLF.
LINE_END = "\r\n"
json_encoder = msgspec.json.Encoder()


def nested_struct(info: mi.Type) -> mi.StructType | None:
    """The record type a field holds (alone or as an optional), if any."""
    if isinstance(info, mi.StructType):
        return info
    if isinstance(info, mi.UnionType):
        structs = [t for t in info.types if isinstance(t, mi.StructType)]
        return structs[0] if len(structs) == 1 else None
    return None


def columns_of(record: type) -> list[tuple[str, str, str | None]]:
    """(header, field, nested field) for each column of ``record``."""
    columns: list[tuple[str, str, str | None]] = []
    info = mi.type_info(record)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        inner = nested_struct(field.type)
        if inner is None:
            columns.append((field.name, field.name, None))
        else:
            columns.extend((f"{field.name}_{f.name}", field.name, f.name) for f in inner.fields)
    return columns


COLUMNS = columns_of(Opportunity)


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json_encoder.encode(value).decode()
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def row_of(opportunity: Mapping[str, Any]) -> list[Any]:
    values = []
    for _header, name, inner in COLUMNS:
        value = opportunity.get(name)
        if inner is not None:
            value = value.get(inner) if isinstance(value, Mapping) else None
        values.append(cell(value))
    return values


def opportunities_csv(opportunities: Iterable[Opportunity | Mapping[str, Any]]) -> str:
    """The CSV text: a header row, then a row per opportunity (records or their JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=LINE_END)
    writer.writerow([header for header, _name, _inner in COLUMNS])
    for opportunity in opportunities:
        builtins = (
            msgspec.to_builtins(opportunity)
            if isinstance(opportunity, Opportunity)
            else opportunity
        )
        writer.writerow(row_of(builtins))
    return out.getvalue()


def quality(media_range: str) -> tuple[str, float]:
    """A media range of an Accept header and its q (1 when absent; 0 when malformed)."""
    media, *parameters = (part.strip() for part in media_range.split(";"))
    q = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
    return media.lower(), q


def wants_csv(accept: str | None) -> bool:
    """Whether an Accept header prefers CSV to JSON (JSON wins ties and wildcards)."""
    if not accept:
        return False
    ranked = dict(quality(part) for part in accept.split(",") if part.strip())
    csv_q = ranked.get(MEDIA_TYPE, ranked.get("text/*", 0.0))
    json_q = ranked.get(JSON_MEDIA_TYPE, ranked.get("application/*", ranked.get("*/*", 0.0)))
    return csv_q > json_q
