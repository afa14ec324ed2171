"""A canonical Order as an openTRANS 2.1 ORDER document (the order format German ERPs import).

ORDER_HEADER/ORDER_INFO carries ORDER_ID (the shop order reference), ORDER_DATE, the PARTIES
(buyer, supplier, delivery and invoice addresses) and the CURRENCY; ORDER_ITEM_LIST one ORDER_ITEM
per line (LINE_ITEM_ID, PRODUCT_ID/SUPPLIER_PID = the SKU, QUANTITY, ORDER_UNIT, PRODUCT_PRICE_FIX
with PRICE_AMOUNT and TAX_DETAILS_FIX, PRICE_LINE_AMOUNT); ORDER_SUMMARY TOTAL_ITEM_NUM and
TOTAL_AMOUNT, the sum of the line amounts as the standard defines it. Amounts are net (canonical
orders exclude tax) and written as the Decimal's text, never through a float. Shipping and the
order's grand total go into REMARKS (`shipping`, `grand_total`), as the header carries no price of
its own without allowances. The carrier (each shipping line's method, in the ERP's name once the
flow's sale options are applied) is a TRANSPORT_REMARK under TRANSPORT; each payment method a
REMARKS of type `payment_method`, the flow's warehouse a REMARKS of type `warehouse`.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from emporion.connectors.rows.options import WAREHOUSE_KEY
from emporion.model import Address, Order

OPENTRANS = "http://www.opentrans.org/XMLSchema/2.1"
BMECAT = "http://www.bmecat.org/bmecat/2005"
NAMESPACES = {None: OPENTRANS, "bmecat": BMECAT}
ORDER_UNIT = "C62"  # UN/ECE "one": a piece


def _ot(name: str) -> str:
    return f"{{{OPENTRANS}}}{name}"


def _bm(name: str) -> str:
    return f"{{{BMECAT}}}{name}"


def money(amount: Decimal) -> str:
    """An amount as text with at least two decimals, exactly as the Decimal holds it."""
    exponent = amount.as_tuple().exponent
    precise = isinstance(exponent, int) and exponent <= -2
    return format(amount if precise else amount.quantize(Decimal("0.01")), "f")


def quantity(amount: Decimal) -> str:
    """A quantity as plain text (2, 0.5)."""
    return format(amount.normalize(), "f")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _party(parent: etree._Element, party_id: str, role: str, address: Address | None, email: str) -> None:
    """One PARTY: its id, its role and (when known) its address."""
    party = _add(parent, _ot("PARTY"))
    _add(party, _bm("PARTY_ID"), party_id, type="buyer_specific")
    _add(party, _ot("PARTY_ROLE"), role)
    if address is None:
        return
    element = _add(party, _ot("ADDRESS"))
    person = " ".join(part for part in (address.first_name, address.last_name) if part)
    _add(element, _bm("NAME"), address.company or person)
    if address.company and person:
        _add(element, _bm("NAME2"), person)
    for tag, value in (
        ("STREET", address.street),
        ("ZIP", address.postcode),
        ("CITY", address.city),
        ("STATE", address.state),
        ("COUNTRY_CODED", address.country),
        ("PHONE", address.phone),
        ("EMAIL", address.email or email),
    ):
        if value:
            _add(element, _bm(tag), value)


def tax_rate(tax: Decimal, net: Decimal) -> Decimal:
    """A line's tax rate as the fraction openTRANS wants (0.19), from its tax and net amount."""
    if not net:
        return Decimal(0)
    return (tax / net).quantize(Decimal("0.0001"))


def order_document(order: Order, *, buyer_id: str, supplier_id: str, generator: str = "emporion") -> bytes:
    """The openTRANS 2.1 ORDER document of `order` (UTF-8, with an XML declaration)."""
    reference = order.reference or order.number
    root = etree.Element(_ot("ORDER"), nsmap=NAMESPACES, version="2.1", type="standard")
    header = _add(root, _ot("ORDER_HEADER"))
    control = _add(header, _ot("CONTROL_INFO"))
    _add(control, _ot("GENERATOR_INFO"), generator)
    info = _add(header, _ot("ORDER_INFO"))
    _add(info, _ot("ORDER_ID"), reference)
    if order.created_at is not None:
        _add(info, _ot("ORDER_DATE"), order.created_at.isoformat(timespec="seconds"))
    parties = _add(info, _ot("PARTIES"))
    email = order.customer.email
    customer_id = order.customer.key or email.lower()
    _party(parties, buyer_id or customer_id, "buyer", order.billing, email)
    _party(parties, supplier_id or "supplier", "supplier", None, "")
    _party(parties, f"{reference}-delivery", "delivery", order.shipping, email)
    _party(parties, f"{reference}-invoice", "invoice_recipient", order.billing, email)
    refs = _add(info, _ot("ORDER_PARTIES_REFERENCE"))
    _add(refs, _bm("BUYER_IDREF"), buyer_id or customer_id, type="buyer_specific")
    _add(refs, _bm("SUPPLIER_IDREF"), supplier_id or "supplier", type="buyer_specific")
    _add(refs, _ot("INVOICE_RECIPIENT_IDREF"), f"{reference}-invoice", type="buyer_specific")
    shipment = _add(refs, _ot("SHIPMENT_PARTIES_REFERENCE"))
    _add(shipment, _ot("DELIVERY_IDREF"), f"{reference}-delivery", type="buyer_specific")
    _add(info, _bm("CURRENCY"), order.currency)
    carriers = list(dict.fromkeys(line.method for line in order.shipping_lines if line.method))
    if carriers:
        transport = _add(info, _ot("TRANSPORT"))
        for carrier in carriers:
            _add(transport, _ot("TRANSPORT_REMARK"), carrier)
    for method in dict.fromkeys(payment.method for payment in order.payments if payment.method):
        _add(info, _ot("REMARKS"), method, type="payment_method")
    warehouse = order.custom.get(WAREHOUSE_KEY)
    if isinstance(warehouse, str) and warehouse:
        _add(info, _ot("REMARKS"), warehouse, type="warehouse")
    if order.customer_note:
        _add(info, _ot("REMARKS"), order.customer_note, type="customer")
    if order.shipping_total:
        _add(info, _ot("REMARKS"), money(order.shipping_total), type="shipping")
    _add(info, _ot("REMARKS"), money(order.total), type="grand_total")
    items = _add(root, _ot("ORDER_ITEM_LIST"))
    total = Decimal(0)
    for position, line in enumerate(order.lines, start=1):
        item = _add(items, _ot("ORDER_ITEM"))
        _add(item, _ot("LINE_ITEM_ID"), str(position))
        product = _add(item, _ot("PRODUCT_ID"))
        _add(product, _bm("SUPPLIER_PID"), line.sku, type="supplier_specific")
        if line.name:
            _add(product, _bm("DESCRIPTION_SHORT"), line.name[:150])
        _add(item, _ot("QUANTITY"), quantity(line.quantity))
        _add(item, _bm("ORDER_UNIT"), ORDER_UNIT)
        price = _add(item, _ot("PRODUCT_PRICE_FIX"))
        _add(price, _bm("PRICE_AMOUNT"), money(line.unit_price))
        tax = _add(price, _ot("TAX_DETAILS_FIX"))
        _add(tax, _bm("TAX_TYPE"), "vat")
        _add(tax, _bm("TAX"), format(tax_rate(line.tax, line.total), "f"))
        _add(tax, _ot("TAX_AMOUNT"), money(line.tax))
        _add(item, _ot("PRICE_LINE_AMOUNT"), money(line.total))
        total += line.total
    summary = _add(root, _ot("ORDER_SUMMARY"))
    _add(summary, _ot("TOTAL_ITEM_NUM"), str(len(order.lines)))
    _add(summary, _ot("TOTAL_AMOUNT"), money(total))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
