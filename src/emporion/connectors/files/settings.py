"""The settings of a file drop (`type: files`): a local folder or SFTP, with a format per file kind."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from emporion.connectors.rows.settings import CatalogueRows, ProgressStatuses, RowSource, RowTarget, Strict
from emporion.connectors.settings import ConnectionSettings, Secret


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    XML = "xml"


class CsvOptions(Strict):
    """How a CSV file is written: German and Italian exports use `;`, cp1252 and a decimal comma."""

    delimiter: str = Field(";", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    encoding: str = Field("utf-8", description="utf-8, cp1252, iso-8859-15, ...")
    decimal_comma: bool = Field(False, description="numbers as 1.234,56")
    date_format: str = Field("%Y-%m-%d", description="strptime format of dates, e.g. %d.%m.%Y")
    datetime_format: str = Field("%Y-%m-%d %H:%M:%S", description="strptime format of date-times")


class XmlOptions(Strict):
    """Records of an XML file by XPath: `record` selects each record; columns are XPaths relative to it."""

    record: str = Field(description="XPath of the records, e.g. //ARTICLE")
    fields: dict[str, str] = Field(description="column -> XPath relative to the record (SUPPLIER_PID)")
    namespaces: dict[str, str] = Field(default_factory=dict, description="prefix -> namespace URI")


class FileSource(RowSource):
    """One entity's files: which names, which format, full exports or deltas."""

    pattern: str = Field(description="file names in the incoming folder, e.g. artikel_*.csv")
    format: FileFormat = FileFormat.CSV
    csv: CsvOptions = Field(default_factory=CsvOptions)
    sheet: str | None = Field(None, description="xlsx: the sheet (default: the first)")
    xml: XmlOptions | None = None
    full: bool = Field(
        True, description="each file is a full export (rows missing from it are deleted); false: deltas"
    )

    @model_validator(mode="after")
    def _xml_needs_paths(self) -> FileSource:
        if self.format is FileFormat.XML and self.xml is None:
            raise ValueError("format xml needs `xml` (record and fields XPaths)")
        return self


class OrderFileFormat(StrEnum):
    CSV = "csv"  # one row per order line, columns mapped as configured
    OPENTRANS = "opentrans"  # openTRANS 2.1 ORDER documents


class OrderFiles(Strict):
    """Orders written for the ERP to import: one file per order, written under a temporary name first."""

    folder: str = Field("orders", description="folder (under the root) the ERP reads orders from")
    format: OrderFileFormat = OrderFileFormat.OPENTRANS
    name: str = Field("order-{reference}", description="file name without extension; {reference}, {number}")
    csv: CsvOptions = Field(default_factory=CsvOptions)
    lines: RowTarget | None = Field(None, description="csv: one row per line (paths: line.*, order.*)")
    buyer_id: str = Field("", description="openTRANS BUYER_PARTY id (the shop as the ERP knows it)")
    supplier_id: str = Field("", description="openTRANS SUPPLIER_PARTY id (the merchant)")
    reserve_warehouses: list[str] | None = Field(
        None,
        description="warehouses the ERP ships orders from, in order: order files not taken yet are held "
        "back from their stock first, then from the others in name order",
    )


class ProgressFiles(ProgressStatuses):
    """The ERP's progress on orders, in files it writes (keyed by the shop order reference)."""

    orders: FileSource | None = Field(None, description="reference, status, number")
    shipments: FileSource | None = Field(None, description="reference, carrier, tracking, shipped_at")
    invoices: FileSource | None = Field(None, description="reference, number, total, credit_note")


class FilesConnection(ConnectionSettings):
    """A folder the ERP exports to and imports from: local, or on an SFTP server (host key checked)."""

    type: Literal["files"]
    location: str = Field(description="a local folder, or sftp://user@host:port/path")
    password: Secret | None = Field(None, description="SFTP password (a key is better)")
    private_key: Secret | None = Field(None, description="SFTP private key (OpenSSH format)")
    known_hosts: str | None = Field(
        None, description="known_hosts file with the server's host key (default ~/.ssh/known_hosts)"
    )
    incoming: str = Field("export", description="folder the ERP writes its exports to")
    processed: str = Field("processed", description="where handled files are moved (exactly once)")
    rejects: str = Field("rejects", description="where rejected rows and files are reported")
    poll_files: int = Field(20, ge=1, le=1000, description="files taken per poll at most")
    page_size: int = Field(100, ge=1, le=1000, description="records per page of a scan")
    settle_seconds: float = Field(
        10.0,
        ge=0,
        description="an export younger than this is left for a later poll (an ERP writing in place)",
    )
    timeout: float = Field(30.0, gt=0)
    currency: str | None = None
    catalogue: CatalogueRows[FileSource] = Field(default_factory=CatalogueRows[FileSource])
    orders: OrderFiles | None = None
    progress: ProgressFiles | None = None
