"""Helpers for the two-way tests: the four flows, merchant edits on both sides, and the journal's writes.

The configuration is the one the configuration guide's worked example shows ("Directions and field
ownership"): Tryton owns prices and stock, the shop owns descriptions and images, either may rename; the
shop's accounts become parties, the ERP's B2B parties become accounts with their group and price list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from emporion.config import Settings, load_settings
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine
from emporion.state import JournalEntry
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import file_connections

ACCOUNTING_CATEGORY = "Goods"  # the provisioned database's accounting category
UNIT = "u"  # Tryton's unit symbol for pieces
CATALOGUE, CATALOGUE_BACK = "catalogue", "catalogue-back"
CUSTOMERS, CUSTOMERS_BACK = "customers", "customers-back"
ORDERS = "orders"
WHOLESALE = "Wholesale"  # a party category (the customer group) and a sale price list of the same name
# what the journal calls a write to a system (a link left unchanged writes nothing)
WRITES = frozenset({"created", "updated", "matched", "unpublished", "deleted", "reverted"})

CATALOGUE_FLOWS = f"""
  - name: {CATALOGUE}
    source: erp
    target: shop
    warehouses: [WH]
    poll_interval: 0.5
    ownership:
      default: erp
      fields: {{description: shop, short_description: shop, images: shop, name: either}}
      conflicts: revert
      conflict_fields: {{description: report}}
  - name: {CATALOGUE_BACK}
    source: shop
    target: erp
    poll_interval: 0.5
    create_defaults: {{unit: {UNIT}, account_category: {ACCOUNTING_CATEGORY}}}
"""

CUSTOMER_FLOWS = f"""
  - name: {CUSTOMERS}
    source: shop
    target: erp
    entities: [customer]
    poll_interval: 0.5
    ownership: {{default: shop, fields: {{group: erp, price_list: erp, number: erp}}}}
  - name: {CUSTOMERS_BACK}
    source: erp
    target: shop
    entities: [customer]
    poll_interval: 0.5
"""

ORDER_FLOW = f"""
  - name: {ORDERS}
    source: shop
    target: erp
    entities: [order]
    orders:
      reference_prefix: "WEB-"
      shortage: accept
      carriers: {{"*": DHL}}
      payment_methods: {{stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}}
"""


def two_way_config(
    directory: Path, tryton: RunningTryton, shop: SandboxShop, state_url: str, flows: str, erp: str = ""
) -> Path:
    """A configuration file: Tryton as `erp` (`erp`: more of its settings, YAML lines), the sandbox as
    `shop` (secrets in files), and `flows`."""
    config = directory / "emporion.yaml"
    connections = file_connections(directory, tryton, shop)
    if erp:
        marker = f"    password: file:{directory / 'secrets'}/erp\n"
        connections = connections.replace(marker, marker + erp, 1)
    config.write_text(f"state: {{url: {state_url!r}}}\n{connections}flows:\n{flows}", encoding="utf-8")
    return config


def two_way_settings(config: Path) -> Settings:
    """The settings of a configuration file written by `two_way_config`."""
    return load_settings(config)


# -- the engine ---------------------------------------------------------------------------------------


async def initial_syncs(engine: Engine, names: Iterable[str]) -> None:
    """The full sync of each flow in turn (as `emporion sync` runs them), each leaving its feed cursor."""
    for name in names:
        await sync_flow(engine.runners[name])


async def settle(engine: Engine, names: Iterable[str], rounds: int = 12) -> list[JournalEntry]:
    """Poll and work the flows round after round until two rounds on end write nothing; their writes.

    Two quiet rounds, because an engine's own write comes back through the other flow's feed one
    round later (as an echo that must be found unchanged).
    """
    flows = [engine.flows[name].flow for name in names]
    start = await engine.store.last_journal_id()
    quiet = 0
    for _ in range(rounds):
        before = await engine.store.last_journal_id()
        for flow in flows:
            await engine.drain(flow)
        quiet = quiet + 1 if not await writes_since(engine, before) else 0
        if quiet == 2:
            return await writes_since(engine, start)
    lines = await writes_since(engine, start)
    raise AssertionError(f"still writing after {rounds} rounds: {[describe(e) for e in lines[-10:]]}")


async def writes_since(engine: Engine, after_id: int) -> list[JournalEntry]:
    """Journal lines newer than `after_id` that wrote to a system, oldest first."""
    lines: list[JournalEntry] = []
    while True:
        page = await engine.store.journal_after(after_id, limit=500)
        lines += [entry for _, entry in page if entry.action in WRITES]
        if len(page) < 500:
            return lines
        after_id = page[-1][0]


def label(entry: JournalEntry) -> str:
    """The record's natural key (SKU, category name, e-mail) as the journal line names it."""
    return str((entry.detail or {}).get("label") or entry.key)


def describe(entry: JournalEntry) -> str:
    """A journal line in a few words, for failure messages (labels of products only: no personal data)."""
    name = entry.key if entry.entity == "customer" else label(entry)
    return f"{entry.flow}/{entry.entity} {name}: {entry.action}"


def writes_per_record(lines: Iterable[JournalEntry], entity: str) -> Counter[str]:
    """How many writes each record (by natural key) had, both flows together."""
    return Counter(label(entry) for entry in lines if entry.entity == entity)


# -- the shop, as a merchant uses its REST API ----------------------------------------------------------


def ok(response: httpx.Response) -> Any:
    """The JSON of a successful answer (the answer's text in the failure otherwise)."""
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def shop_category(api: httpx.Client, name: str, parent: int = 0) -> dict[str, Any]:
    """A product category created in the shop."""
    return ok(api.post("/products/categories", json={"name": name, "parent": parent}))


def shop_simple(
    api: httpx.Client, sku: str, name: str, price: str, category: int | None, description: str = ""
) -> dict[str, Any]:
    """A published simple product created in the shop (in a category, or in none)."""
    body = {
        "name": name,
        "sku": sku,
        "type": "simple",
        "status": "publish",
        "regular_price": price,
        "description": description,
        "categories": [{"id": category}] if category else [],
    }
    return ok(api.post("/products", json=body))


def shop_variable(
    api: httpx.Client, sku: str, name: str, category: int, sizes: dict[str, str], description: str = ""
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A published variable product with one variation per size (SKU `<sku>-<size>`, its price)."""
    body = {
        "name": name,
        "sku": sku,
        "type": "variable",
        "status": "publish",
        "description": description,
        "categories": [{"id": category}],
        "attributes": [{"name": "Size", "options": list(sizes), "variation": True, "visible": True}],
    }
    product = ok(api.post("/products", json=body))
    variations = [
        ok(
            api.post(
                f"/products/{product['id']}/variations",
                json={
                    "sku": f"{sku}-{size}",
                    "regular_price": price,
                    "attributes": [{"name": "Size", "option": size}],
                },
            )
        )
        for size, price in sizes.items()
    ]
    return product, variations


def shop_product(api: httpx.Client, sku: str) -> dict[str, Any]:
    """The one shop product with this SKU (any status), its texts as stored (`context=edit`: no
    paragraphs added as WordPress does for display)."""
    found = ok(api.get("/products", params={"sku": sku, "status": "any", "context": "edit"}))
    assert len(found) == 1, f"{len(found)} shop products with SKU {sku}"
    return found[0]


def shop_products_with_sku(api: httpx.Client, sku: str) -> int:
    """How many shop products carry this SKU."""
    return len(ok(api.get("/products", params={"sku": sku, "status": "any"})))


def shop_customers(api: httpx.Client, email: str) -> list[dict[str, Any]]:
    """The shop accounts with this e-mail (the shop compares it without case)."""
    return ok(api.get("/customers", params={"email": email, "role": "all"}))


def shop_meta(record: dict[str, Any]) -> dict[str, Any]:
    """A shop record's meta data as a mapping."""
    return {meta["key"]: meta["value"] for meta in record.get("meta_data", [])}


# -- Tryton, as a merchant uses it ----------------------------------------------------------------------


def nested(row: dict[str, Any], field: str, name: str) -> Any:
    """A related record's field read with a dotted name (`default_uom.symbol` comes as `default_uom.`)."""
    return (row.get(f"{field}.") or {}).get(name)


async def templates(tryton: RunningTryton, code: str) -> list[dict[str, Any]]:
    """Product templates with this code, with what the tests compare."""
    fields = [
        "name",
        "code",
        "list_price",
        "products",
        "categories",
        "default_uom.symbol",
        "account_category.name",
        "salable",
        "type",
    ]
    return await tryton.rpc("product.template", "search_read", [("code", "=", code)], 0, None, None, fields)


async def variants(tryton: RunningTryton, template: int) -> list[dict[str, Any]]:
    """The variants (product.product) of a template."""
    return await tryton.rpc(
        "product.product",
        "search_read",
        [("template", "=", template)],
        0,
        None,
        None,
        ["code", "description", "list_price"],
    )


async def category_names(tryton: RunningTryton, ids: list[int]) -> list[str]:
    """The names of product categories."""
    rows = await tryton.rpc("product.category", "read", ids, ["name"])
    return sorted(row["name"] for row in rows)


async def categories_named(tryton: RunningTryton, name: str) -> int:
    """How many catalogue categories carry this name."""
    found = await tryton.rpc(
        "product.category", "search", [("name", "=", name), ("accounting", "=", False)], 0, None, None
    )
    return len(found)


async def product_row(tryton: RunningTryton, sku: str) -> dict[str, Any]:
    """The one variant with this code, with its description and its template's list price."""
    rows = await tryton.rpc(
        "product.product",
        "search_read",
        [("code", "=", sku)],
        0,
        None,
        None,
        ["code", "description", "template", "template.list_price", "template.name"],
    )
    assert len(rows) == 1, f"{len(rows)} Tryton products with SKU {sku}"
    return rows[0]


async def set_description(tryton: RunningTryton, sku: str, text: str) -> None:
    """Write a variant's description in Tryton (the canonical description of a simple product)."""
    row = await product_row(tryton, sku)
    await tryton.rpc("product.product", "write", [row["id"]], {"description": text})


async def parties_with_email(tryton: RunningTryton, email: str) -> set[int]:
    """The parties that have this e-mail (compared without case)."""
    rows = await tryton.rpc(
        "party.contact_mechanism",
        "search_read",
        [("type", "=", "email")],
        0,
        None,
        None,
        ["value", "party"],
    )
    return {row["party"] for row in rows if row["value"].strip().lower() == email.lower()}


async def party(tryton: RunningTryton, party_id: int) -> dict[str, Any]:
    """A party with its name, code, categories, sale price list and addresses."""
    (row,) = await tryton.rpc(
        "party.party",
        "read",
        [party_id],
        ["name", "code", "categories", "sale_price_list.name", "addresses"],
    )
    row["category_names"] = await party_category_names(tryton, row["categories"])
    row["address_rows"] = await tryton.rpc(
        "party.address", "read", row["addresses"], ["street_unstructured", "city", "postal_code"]
    )
    return row


async def party_category_names(tryton: RunningTryton, ids: list[int]) -> list[str]:
    """The names of party categories."""
    if not ids:
        return []
    return sorted(row["name"] for row in await tryton.rpc("party.category", "read", ids, ["name"]))


async def party_category(tryton: RunningTryton, name: str) -> int:
    """The party category with this name, created when missing."""
    found = await tryton.rpc("party.category", "search", [("name", "=", name)], 0, 1, None)
    if found:
        return int(found[0])
    (created,) = await tryton.rpc("party.category", "create", [{"name": name}])
    return int(created)


async def price_list(tryton: RunningTryton, name: str) -> int:
    """The sale price list with this name."""
    (found,) = await tryton.rpc("product.price_list", "search", [("name", "=", name)], 0, 1, None)
    return int(found)


async def b2b_party(
    tryton: RunningTryton, name: str, email: str, street: str, city: str, postal_code: str, code: str
) -> int:
    """A business customer as a merchant enters it: its customer number (the party's code, typed in
    rather than drawn from Tryton's sequence), e-mail, address, group (category) and price list."""
    (created,) = await tryton.rpc(
        "party.party",
        "create",
        [
            {
                "name": name,
                "code": code,
                "contact_mechanisms": [("create", [{"type": "email", "value": email}])],
                "addresses": [
                    (
                        "create",
                        [
                            {
                                "street_unstructured": street,
                                "city": city,
                                "postal_code": postal_code,
                            }
                        ],
                    )
                ],
                "categories": [("add", [await party_category(tryton, WHOLESALE)])],
                "sale_price_list": await price_list(tryton, WHOLESALE),
            }
        ],
    )
    return int(created)


async def move_party(tryton: RunningTryton, party_id: int, street: str, city: str) -> None:
    """The party's (first) address changed in Tryton."""
    (row,) = await tryton.rpc("party.party", "read", [party_id], ["addresses"])
    values = {"street_unstructured": street, "city": city}
    await tryton.rpc("party.address", "write", row["addresses"][:1], values)
