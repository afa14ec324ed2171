"""Order files carry the flow's names: the ERP's payment method, carrier and warehouse."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from lxml import etree

from emporion.connectors.base import WriteItem
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.roles import SaleOptions
from emporion.model import Order, Payment, PaymentKind, ShippingLine
from tests.connectors.files.erp import settings
from tests.connectors.files.test_orders import NS, order, stocked

OPTIONS = SaleOptions(
    warehouse="Versandlager",
    carriers={"flat_rate": "DHL Paket", "*": "Spedition"},
    payment_methods={"paypal": "PayPal (PP)", "*": "Vorkasse"},
    taxes={"reduced-rate": "ermaessigt"},
)


def paid_and_shipped(reference: str = "SHOP-1001") -> Order:
    """A shop order paid by PayPal and a gift card, shipped at a flat rate."""
    payments = [
        Payment(kind=PaymentKind.METHOD, method="paypal", amount=Decimal("7.24")),
        Payment(kind=PaymentKind.GIFT_CARD, method="gift_card", code="G-1", amount=Decimal(1)),
    ]
    shipping = [ShippingLine(key="s1", method="flat_rate", title="Flat rate", total=Decimal("4.90"))]
    return order(reference).model_copy(update={"payments": payments, "shipping_lines": shipping})


async def test_an_opentrans_order_carries_the_erps_carrier_payment_method_and_warehouse(
    tmp_path: Path,
) -> None:
    stocked(tmp_path)
    connector = FilesConnector("drop", settings(str(tmp_path)))
    (outcome,) = await connector.write_sales([WriteItem("1001", paid_and_shipped())], OPTIONS)
    assert outcome.ok
    root = etree.parse(str(tmp_path / "orders" / "order-SHOP-1001.xml")).getroot()
    info = root.find("o:ORDER_HEADER/o:ORDER_INFO", NS)
    assert info is not None
    assert [e.text for e in info.iterfind("o:TRANSPORT/o:TRANSPORT_REMARK", NS)] == ["DHL Paket"]
    remarks = {e.get("type"): e.text for e in info.iterfind("o:REMARKS", NS)}
    methods = info.iterfind("o:REMARKS[@type='payment_method']", NS)
    assert [e.text for e in methods] == [  # the gift card keeps its own name, never the "*" entry
        "PayPal (PP)",
        "gift_card",
    ]
    assert remarks["warehouse"] == "Versandlager"
    tags = [etree.QName(child).localname for child in info]
    assert tags.index("CURRENCY") < tags.index("TRANSPORT") < tags.index("REMARKS"), tags
    (sale,) = await connector.read("order", ["SHOP-1001"])
    assert isinstance(sale, Order) and sale.payments[0].method == "paypal", "read back as the shop sent it"


async def test_a_csv_order_carries_the_erps_carrier_and_payment_method(tmp_path: Path) -> None:
    stocked(tmp_path)
    orders = {"folder": "orders", "format": "csv"}  # the default columns
    connector = FilesConnector("drop", settings(str(tmp_path), orders=orders))
    unknown = paid_and_shipped().model_copy(
        update={"shipping_lines": [ShippingLine(key="s1", method="local_pickup", total=Decimal(0))]}
    )
    await connector.write_sales([WriteItem("1001", unknown)], OPTIONS)
    text = (tmp_path / "orders" / "order-SHOP-1001.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(row["sku"], row["payment_method"], row["carrier"]) for row in rows] == [
        ("4711", "PayPal (PP)", "Spedition"),
        ("4712", "PayPal (PP)", "Spedition"),
    ]


async def test_mapped_columns_name_the_warehouse_and_tax_class(tmp_path: Path) -> None:
    stocked(tmp_path)
    columns = {"Bestellung": "order.reference", "ArtNr": "line.sku", "Steuer": "line.tax_class",
               "Lager": "order.custom.warehouse", "Zahlart": "order.payments.0.method"}  # fmt: skip
    orders = {"folder": "orders", "format": "csv", "lines": {"columns": columns}}
    connector = FilesConnector("drop", settings(str(tmp_path), orders=orders))
    sale = paid_and_shipped()
    lines = [sale.lines[0].model_copy(update={"tax_class": "reduced-rate"}), sale.lines[1]]
    await connector.write_sales([WriteItem("1001", sale.model_copy(update={"lines": lines}))], OPTIONS)
    text = (tmp_path / "orders" / "order-SHOP-1001.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        "Bestellung;ArtNr;Steuer;Lager;Zahlart",
        "SHOP-1001;4711;ermaessigt;Versandlager;PayPal (PP)",
        "SHOP-1001;4712;;Versandlager;PayPal (PP)",
    ]
