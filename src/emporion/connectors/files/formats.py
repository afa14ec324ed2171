"""Rows out of CSV, XLSX and XML files, with each row's place in its file and the rows that were refused.

Each row is a dict of column -> value with `"_where"`: `file <name> row <n>` (the row as a person
counts it: the header is row 1) or, for XML, `file <name> record <n> line <l>`. A value that cannot
be read (a byte the file's encoding does not have, a row with too few or too many cells) makes its
row a `Reject` naming the row and the column; a file that cannot be read at all (a header that does
not decode, malformed or truncated XML, a workbook that is no workbook) raises `UnreadableFile`
naming the line or the part. Values stay as the file gives them: text from CSV and XML, typed cells
from XLSX; `rows.values` types them later.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from lxml import etree

from emporion.connectors.files.settings import CsvOptions, FileFormat, FileSource, XmlOptions

WHERE = "_where"


@dataclass(frozen=True)
class Reject:
    """A row that could not be read: where it is, the column at fault, why; its key when it has one."""

    row: int
    column: str
    reason: str
    key: str | None = None


class UnreadableFile(Exception):
    """A whole file cannot be read; `where` is its line, column or part when known."""

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(f"{reason} ({where})" if where else reason)
        self.reason = reason
        self.where = where


@dataclass
class ParsedFile:
    """The rows of one file and the rows it refused."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class Rows(Protocol):
    """A file's rows to go through once (a ParsedFile's list, or a RowStream) and the rows it refused."""

    @property
    def name(self) -> str: ...

    @property
    def rows(self) -> Iterable[dict[str, Any]]: ...

    @property
    def rejects(self) -> list[Reject]: ...


@dataclass
class RowStream:
    """A file's rows read one at a time; `rejects` fills as they are read (complete once they are)."""

    name: str
    rows: Iterator[dict[str, Any]]
    rejects: list[Reject] = field(default_factory=list)


def stream_file(name: str, data: bytes, source: FileSource, key_column: str | None = None) -> RowStream:
    """The rows of file `name` to read once: CSV one row at a time, so that a large export is hashed
    or mapped as it is read and never held as rows; XLSX and XML are parsed whole first (UnreadableFile
    then comes from here, and for CSV while iterating)."""
    if source.format is FileFormat.CSV:
        stream = RowStream(name, iter(()))
        stream.rows = stream_csv(name, data, source.csv, stream.rejects, key_column)
        return stream
    parsed = parse_file(name, data, source, key_column)
    return RowStream(name, iter(parsed.rows), parsed.rejects)


def parse_file(name: str, data: bytes, source: FileSource, key_column: str | None = None) -> ParsedFile:
    """The rows of file `name` in `source`'s format; `key_column` lets rejects carry their row's key."""
    if source.format is FileFormat.CSV:
        return parse_csv(name, data, source.csv, key_column)
    if source.format is FileFormat.XLSX:
        return parse_xlsx(name, data, source.sheet)
    assert source.xml is not None
    return parse_xml(name, data, source.xml)


def _undecodable(text: str) -> bool:
    """Whether text decoded with surrogateescape holds a byte the encoding did not have."""
    return any("\udc80" <= char <= "\udcff" for char in text)


def _decoder_name(encoding: str) -> str:
    """The codec to read with: a UTF-8 file may start with a byte-order mark."""
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        raise UnreadableFile(f"unknown encoding {encoding}") from None
    return "utf-8-sig" if canonical == "utf-8" else canonical


def parse_csv(name: str, data: bytes, options: CsvOptions, key_column: str | None = None) -> ParsedFile:
    """CSV rows under the header row's column names; undecodable cells and ragged rows are rejects."""
    parsed = ParsedFile(name)
    parsed.rows.extend(stream_csv(name, data, options, parsed.rejects, key_column))
    return parsed


def stream_csv(
    name: str, data: bytes, options: CsvOptions, rejects: list[Reject], key_column: str | None = None
) -> Iterator[dict[str, Any]]:
    """CSV rows one at a time (decoded as read, never the whole text at once); refused rows are
    appended to `rejects` as the reading passes them. Raises UnreadableFile while iterating."""
    decoder = _decoder_name(options.encoding)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=decoder, errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=options.delimiter, quotechar=options.quotechar)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UnreadableFile(f"the header row is not CSV: {error}", "row 1") from None
    if header is None:
        return
    if any(_undecodable(cell) for cell in header):
        raise UnreadableFile(f"the header row does not decode as {options.encoding}", "row 1")
    columns = [cell.strip() for cell in header]
    number = 1
    try:
        for cells in reader:
            number += 1
            if not cells or all(not cell.strip() for cell in cells):
                continue
            reject = _csv_reject(cells, columns, number, options.encoding)
            if reject is not None:
                key = _key_of(cells, columns, key_column)
                rejects.append(Reject(reject.row, reject.column, reject.reason, key))
                continue
            row: dict[str, Any] = dict(zip(columns, cells, strict=True))
            row[WHERE] = f"file {name} row {number}"
            yield row
    except csv.Error as error:
        raise UnreadableFile(f"not CSV: {error}", f"row {number + 1}") from None


def _csv_reject(cells: list[str], columns: list[str], number: int, encoding: str) -> Reject | None:
    """Why a CSV row cannot be taken (a cell that does not decode, the wrong number of cells), or None."""
    for column, cell in zip(columns, cells, strict=False):
        if _undecodable(cell):
            return Reject(number, column, f"a byte that is not {encoding}")
    if len(cells) < len(columns):
        return Reject(number, columns[len(cells)], f"{len(cells)} cells where the header has {len(columns)}")
    if len(cells) > len(columns):
        return Reject(
            number, f"cell {len(columns) + 1}", f"{len(cells)} cells, the header has {len(columns)}"
        )
    return None


def _key_of(cells: list[str], columns: list[str], key_column: str | None) -> str | None:
    """The key cell of a rejected row, when it is there and decodes."""
    if key_column is None or key_column not in columns:
        return None
    index = columns.index(key_column)
    if index >= len(cells) or _undecodable(cells[index]) or not cells[index].strip():
        return None
    return cells[index].strip()


def parse_xlsx(name: str, data: bytes, sheet: str | None) -> ParsedFile:
    """The rows of a worksheet (by name, or the first) under its first row's headers; cells stay typed."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(f"not an XLSX workbook ({type(error).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise UnreadableFile(f"the workbook has no sheet {sheet}", f"sheet {sheet}")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        parsed = ParsedFile(name)
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return parsed
        columns = [str(cell).strip() if cell is not None else "" for cell in header]
        for number, cells in enumerate(rows, start=2):
            if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
                continue
            row: dict[str, Any] = {
                column: cell for column, cell in zip(columns, cells, strict=False) if column
            }
            row[WHERE] = f"file {name} row {number}"
            parsed.rows.append(row)
        return parsed
    finally:
        book.close()


def hardened_parser() -> etree.XMLParser:
    """An XML parser that expands no entities, loads no DTD and never reaches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )


def parse_xml(name: str, data: bytes, options: XmlOptions) -> ParsedFile:
    """Records by the `record` XPath, each column by its XPath relative to the record."""
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position if error.position else (error.lineno, 0)
        raise UnreadableFile("malformed or truncated XML", f"line {line} column {column}") from None
    document = root.getroottree()
    if document.docinfo.doctype:
        raise UnreadableFile("a DOCTYPE is not accepted (entities are never expanded)", "line 1")
    try:
        records = document.xpath(options.record, namespaces=options.namespaces)
    except etree.XPathError as error:
        raise UnreadableFile(f"the record XPath fails: {error}", "xml.record") from None
    if not isinstance(records, list):
        raise UnreadableFile("the record XPath does not select elements", "xml.record")
    parsed = ParsedFile(name)
    for number, record in enumerate(records, start=1):
        if not isinstance(record, etree._Element):
            raise UnreadableFile("the record XPath does not select elements", "xml.record")
        row: dict[str, Any] = {}
        for column, path in options.fields.items():
            try:
                value = record.xpath(path, namespaces=options.namespaces)
            except etree.XPathError as error:
                raise UnreadableFile(
                    f"the XPath of column {column} fails: {error}", f"xml.fields.{column}"
                ) from None
            row[column] = _xml_value(value)  # a path that finds nothing: the column is empty
        row[WHERE] = f"file {name} record {number} line {record.sourceline}"
        parsed.rows.append(row)
    return parsed


def _xml_value(value: Any) -> str | None:
    """The text an XPath result stands for: the first node's text, a string, a number; None for nothing."""
    if isinstance(value, list):
        if not value:
            return None
        value = value[0]
    if isinstance(value, etree._Element):
        return "".join(value.itertext()).strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return None if value != value else format(value, "f").rstrip("0").rstrip(".")
    return str(value).strip()


def iter_columns(parsed: ParsedFile) -> Iterator[str]:
    """The columns the rows of a file carry (for `check`)."""
    seen: set[str] = set()
    for row in parsed.rows:
        for column in row:
            if column != WHERE and column not in seen:
                seen.add(column)
                yield column
