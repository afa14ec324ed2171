"""Crash safety both ways: `emporion run` with the two catalogue and the two customer flows is SIGKILLed
again and again while products and customers are created and edited in the shop and in Tryton.

The real CLI runs as a subprocess against a real Tryton and the WooCommerce sandbox (polling only). It
starts, finishes its initial syncs, and is then killed at seeded random moments while a merchant
creates products in the shop, marketing rewrites shop descriptions, the ERP changes prices,
consumers register and move, and business customers are entered in Tryton. Then it runs clean until
idle, stops, and both systems are compared from outside: no template, product SKU, party e-mail or
shop account twice; every product and customer created on one side is on the other once; every owned
field equal on both sides; no record written more often than it was edited (no ping-pong); no work,
lease, dead letter or unsynced link left.

Reproduce a run with `EMPORION_CHAOS_SEED=<seed>` (the seed is printed).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from sqlalchemy import create_engine, func, select

from emporion.config import load_settings
from emporion.state import JournalEntry, StateStore, tables
from emporion_devkit.demo.erp_changes import set_list_price
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.chaos.harness import EmporionProcess, duplicates, free_port, wait_until
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.two_way_support import (
    CATALOGUE_FLOWS,
    CUSTOMER_FLOWS,
    UNIT,
    WHOLESALE,
    WRITES,
    b2b_party,
    ok,
    shop_category,
    shop_meta,
    shop_simple,
)

pytestmark = [pytest.mark.chaos, pytest.mark.tryton]

KILLS = 8
UPTIME = (0.4, 3.0)  # seconds the engine runs between a start and its kill
PAUSE = (0.05, 0.5)  # seconds between a kill and the restart
ACTION_GAP = (0.05, 0.4)  # seconds between two merchant or customer actions
FEEDS = 6  # cursors once every flow started: catalogue 2 + catalogue-back 2 + customers 1 + customers-back 1
SETTLE_SECONDS = 120.0
IDLE_HOLD_SECONDS = 6.0  # idle this long on end: several polls of every feed found nothing new
ACTIONS = ("create", "describe", "price", "register", "move", "enter")
EDITED = 6  # sample catalogue products whose description (shop) and price (Tryton) are edited


def chaos_seed() -> int:
    """The seed of this run: EMPORION_CHAOS_SEED, or a fresh one (printed either way)."""
    given = os.environ.get("EMPORION_CHAOS_SEED")
    return int(given) if given else random.SystemRandom().randrange(1_000_000)


def write_config(directory: Path, tryton: RunningTryton, shop: SandboxShop, state_url: str) -> Path:
    """`emporion run`'s configuration: the four flows of the guide's worked example, polled each second."""
    secrets = directory / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    for name, value in {
        "tryton": tryton.password,
        "key": shop.consumer_key,
        "secret": shop.consumer_secret,
    }.items():
        (secrets / name).write_text(value, encoding="utf-8")
        (secrets / name).chmod(0o600)
    flows = yaml.safe_load(CATALOGUE_FLOWS) + yaml.safe_load(CUSTOMER_FLOWS)
    for flow in flows:
        flow.update(poll_interval=1, batch_size=10)
    port = free_port()
    config = {
        "version": 1,
        "state": {"url": state_url},
        "logging": {"format": "json", "level": "info"},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "connections": {
            "erp": {
                "type": "tryton",
                "url": tryton.url,
                "database": tryton.database,
                "username": tryton.user,
                "password": f"file:{secrets / 'tryton'}",
                "customer_groups": [WHOLESALE],
            },
            "shop": {
                "type": "woocommerce",
                "url": shop.base_url,
                "consumer_key": f"file:{secrets / 'key'}",
                "consumer_secret": f"file:{secrets / 'secret'}",
            },
        },
        "flows": flows,
    }
    path = directory / "emporion.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Actors:
    """The people on both sides: what they did, and what each record must hold in the end."""

    tryton: RunningTryton
    shop: SandboxShop
    rng: random.Random
    edited: list[str]  # SKUs of the sample catalogue whose owned fields are edited
    category: int = 0  # the shop category new products go into
    done: Counter[str] = field(default_factory=Counter)
    created_skus: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)  # e-mails of shop registrations
    entered: list[str] = field(default_factory=list)  # e-mails of Tryton business customers
    descriptions: dict[str, str] = field(default_factory=dict)  # SKU -> the shop's last description
    prices: dict[str, Decimal] = field(default_factory=dict)  # SKU -> Tryton's last list price
    cities: dict[str, str] = field(default_factory=dict)  # e-mail -> the last city typed in the shop
    # SKU or e-mail -> the writes its edits allow: one per edit; a creation two (created on the other
    # side, then matched, or its number written back, by the reverse flow)
    edits: Counter[str] = field(default_factory=Counter)

    async def act(self) -> None:
        """One action: each kind once first, then chosen at random."""
        missing = [kind for kind in ACTIONS if not self.done[kind]]
        kind = missing[0] if missing else self.rng.choice([*ACTIONS, "price"])
        with shop_api(self.shop) as api:
            if kind == "create":
                sku = f"CHAOS-{len(self.created_skus) + 1:03d}"
                description = f"Made in the shop, take {self.rng.randrange(1000)}"
                price = f"{self.rng.randint(500, 9999) / 100:.2f}"
                await anyio.to_thread.run_sync(
                    lambda: shop_simple(api, sku, f"Chaos {sku}", price, self.category, description)
                )
                self.created_skus.append(sku)
                self.descriptions[sku], self.prices[sku] = description, Decimal(price)
                self.edits[sku] += 2  # created in Tryton, then matched by the first flow
            elif kind == "describe":
                sku = self.rng.choice(self.edited)
                text = f"Copy {self.rng.randrange(10**6)} for {sku}"
                product = await anyio.to_thread.run_sync(lambda: one_product(api, sku))
                await anyio.to_thread.run_sync(
                    lambda: ok(api.put(f"/products/{product['id']}", json={"description": text}))
                )
                self.descriptions[sku] = text
                self.edits[sku] += 1
            elif kind == "price":
                sku = self.rng.choice(self.edited)
                price = Decimal(self.rng.randint(500, 9999)) / 100
                admin = self.tryton.admin()
                try:
                    await set_list_price(admin, sku, price)
                finally:
                    await admin.close()
                self.prices[sku] = price
                self.edits[sku] += 1
            elif kind == "register":
                email = f"shopper{len(self.registered) + 1}@example.com"
                city = self.rng.choice(["Kassel", "Essen", "Jena", "Ulm"])
                await anyio.to_thread.run_sync(lambda: register(api, email, city))
                self.registered.append(email)
                self.cities[email] = city
                self.edits[email] += 2
            elif kind == "move" and self.registered:
                email = self.rng.choice(self.registered)
                city = self.rng.choice(["Bonn", "Trier", "Gera", "Hof"])
                await anyio.to_thread.run_sync(lambda: move(api, email, city))
                self.cities[email] = city
                self.edits[email] += 1
            elif kind == "enter":
                email = f"buyer{len(self.entered) + 1}@trade.example"
                name = f"Trade customer {len(self.entered) + 1}"
                # typed in: on SQLite (the test server's) Tryton's party sequence may hand two
                # parties created at the same moment one code
                code = f"B2B-{len(self.entered) + 1}"
                await b2b_party(self.tryton, name, email, "Am Hafen 2", "Bremen", "28217", code)
                self.entered.append(email)
                self.edits[email] += 2
            else:
                return
        self.done[kind] += 1


def one_product(api: httpx.Client, sku: str) -> dict[str, Any]:
    """The one shop product with this SKU."""
    (product,) = ok(api.get("/products", params={"sku": sku, "status": "any", "context": "edit"}))
    return product


def register(api: httpx.Client, email: str, city: str) -> None:
    """A consumer registers in the shop with a billing address."""
    billing = {"first_name": "Chaos", "last_name": "Shopper", "address_1": "Markt 1", "city": city}
    body = {"email": email, "first_name": "Chaos", "last_name": "Shopper"}
    ok(api.post("/customers", json={**body, "billing": {**billing, "email": email}}))


def move(api: httpx.Client, email: str, city: str) -> None:
    """A registered consumer changes the billing city in the shop."""
    (account,) = ok(api.get("/customers", params={"email": email, "role": "all"}))
    ok(api.put(f"/customers/{account['id']}", json={"billing": {"city": city}}))


def listing(shop: SandboxShop, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every record under an API path, all pages, with these arguments."""
    records: list[dict[str, Any]] = []
    with shop_api(shop) as api:
        page = 1
        while batch := ok(api.get(path, params={**params, "per_page": 100, "page": page})):
            records += batch
            page += 1
    return records


def database(state_url: str) -> Any:
    """A synchronous SQLAlchemy engine on the state database."""
    return create_engine(state_url.replace("postgresql://", "postgresql+psycopg://", 1))


def started_feeds(state_url: str) -> bool:
    """Every flow's feeds have a cursor: the initial syncs are done."""
    engine = database(state_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(tables.cursor)).scalar_one() >= FEEDS
    finally:
        engine.dispose()


def idle(state_url: str) -> bool:
    """No work queued or leased."""
    engine = database(state_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(tables.work)).scalar_one() == 0
    finally:
        engine.dispose()


def state_problems(state_url: str) -> list[str]:
    """Work, dead letters and links not synced left behind."""
    engine = database(state_url)
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            work = conn.execute(select(tables.work.c.flow, tables.work.c.entity, tables.work.c.key)).all()
            problems += [f"work item left: {row.flow}/{row.entity}/{row.key}" for row in work]
            dead = conn.execute(select(tables.dead.c.flow, tables.dead.c.key, tables.dead.c.reason)).all()
            problems += [f"dead letter {row.flow}/{row.key}: {row.reason}" for row in dead]
            pending = conn.execute(
                select(tables.link.c.flow, tables.link.c.entity, tables.link.c.source_key).where(
                    tables.link.c.state != "synced"
                )
            ).all()
            problems += [f"link {row.flow}/{row.entity}/{row.source_key} left unsynced" for row in pending]
    finally:
        engine.dispose()
    return problems


async def tryton_rows(tryton: RunningTryton, model: str, domain: list[Any], fields: list[str]) -> list[dict]:
    """Every row of a model matching `domain`, inactive ones included."""
    return await tryton.rpc(
        model, "search_read", domain, 0, None, None, fields, context={"active_test": False}
    )


async def findings(tryton: RunningTryton, shop: SandboxShop, actors: Actors) -> list[str]:
    """What differs or is doubled between the two systems, compared from outside."""
    problems: list[str] = []
    templates = await tryton_rows(
        tryton, "product.template", [], ["code", "list_price", "default_uom.symbol"]
    )
    products = await tryton_rows(tryton, "product.product", [], ["code", "description", "template"])
    problems += [
        f"template {c} {n} times" for c, n in duplicates([t["code"] for t in templates if t["code"]]).items()
    ]
    problems += [
        f"product {c} {n} times" for c, n in duplicates([p["code"] for p in products if p["code"]]).items()
    ]
    by_code = {t["code"]: t for t in templates if t["code"]}
    described = {p["code"]: p["description"] or "" for p in products if p["code"]}
    shop_products = await anyio.to_thread.run_sync(
        listing, shop, "/products", {"status": "any", "context": "edit"}
    )
    problems += [
        f"shop SKU {s} {n} times"
        for s, n in duplicates([p["sku"] for p in shop_products if p["sku"]]).items()
    ]
    in_shop = {p["sku"]: p for p in shop_products if p["sku"]}
    for sku in actors.created_skus:
        if sku not in by_code:
            problems.append(f"{sku}: made in the shop, not in Tryton")
            continue
        template = by_code[sku]
        if (template.get("default_uom.") or {}).get("symbol") != UNIT:
            problems.append(f"{sku}: created in Tryton without the unit {UNIT}")
    for sku in {*actors.edited, *actors.created_skus}:
        shop_product, template = in_shop.get(sku), by_code.get(sku)
        if shop_product is None or template is None:
            problems.append(
                f"{sku}: in the shop {shop_product is not None}, in Tryton {template is not None}"
            )
            continue
        if shop_product["description"] != described.get(sku, "") or (
            sku in actors.descriptions and described.get(sku) != actors.descriptions[sku]
        ):
            problems.append(
                f"{sku}: description shop {shop_product['description']!r} Tryton {described.get(sku)!r}"
            )
        price = Decimal(shop_product["regular_price"] or "0")
        if price != template["list_price"] or (sku in actors.prices and price != actors.prices[sku]):
            problems.append(f"{sku}: price shop {price} Tryton {template['list_price']}")
    mechanisms = await tryton_rows(
        tryton, "party.contact_mechanism", [("type", "=", "email")], ["value", "party"]
    )
    parties: dict[str, set[int]] = {}
    for row in mechanisms:
        parties.setdefault(row["value"].strip().lower(), set()).add(row["party"])
    accounts = await anyio.to_thread.run_sync(listing, shop, "/customers", {"role": "all"})
    emails = [a["email"].strip().lower() for a in accounts]
    problems += [f"{n} shop accounts share one e-mail" for n in duplicates(emails).values()]
    problems += [f"{len(p)} parties share one e-mail" for p in parties.values() if len(p) > 1]
    by_email = {a["email"].strip().lower(): a for a in accounts}
    for number, email in enumerate(actors.registered):
        if len(parties.get(email, set())) != 1:
            problems.append(f"registration {number}: {len(parties.get(email, set()))} parties")
        elif email in by_email and by_email[email]["billing"]["city"] != actors.cities[email]:
            problems.append(f"registration {number}: the shop's last city is not the account's")
    for number, email in enumerate(actors.entered):
        account = by_email.get(email)
        if account is None:
            problems.append(f"business customer {number}: no shop account")
        elif shop_meta(account).get("customer_group") != WHOLESALE:
            problems.append(
                f"business customer {number}: shop group {shop_meta(account).get('customer_group')!r}"
            )
    return problems


async def address_cities(tryton: RunningTryton, email: str) -> set[str]:
    """The cities of the party with this e-mail."""
    rows = await tryton_rows(
        tryton, "party.contact_mechanism", [("type", "=", "email"), ("value", "=", email)], ["party"]
    )
    if not rows:
        return set()
    addresses = await tryton_rows(tryton, "party.address", [("party", "=", rows[0]["party"])], ["city"])
    return {row["city"] for row in addresses}


def ping_pong(lines: list[JournalEntry], actors: Actors) -> list[str]:
    """Records written more often than they were edited, per SKU and per e-mail (see `Actors.edits`)."""
    problems: list[str] = []
    written: dict[tuple[str, str], list[JournalEntry]] = {}
    for entry in lines:
        written.setdefault((entry.entity, str((entry.detail or {}).get("label") or entry.key)), []).append(
            entry
        )
    people = {email: n for n, email in enumerate([*actors.registered, *actors.entered])}
    for (entity, label), writes in sorted(written.items()):
        if len(writes) > actors.edits[label]:
            how = ", ".join(f"{e.flow} {e.action} ({e.reason})" for e in writes)
            name = f"customer {people.get(label, '?')}" if entity == "customer" else f"{entity} {label}"
            problems.append(f"{name}: {len(writes)} writes for {actors.edits[label]} edits: {how}")
    return problems


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_sigkill_during_two_way_sync_loses_doubles_and_ping_pongs_nothing(
    dialect: str,
    request: pytest.FixtureRequest,
    tryton_server: RunningTryton,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    seed = chaos_seed()
    rng = random.Random(seed)
    state_url = request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "pg_url")
    await StateStore.migrate(state_url)
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0, seed=seed) as shop:
        config = write_config(tmp_path, tryton_server, shop, state_url)
        process = EmporionProcess(config, tmp_path / "emporion.log", state_url)
        rows = await tryton_rows(
            tryton_server,
            "product.template",
            [("salable", "=", True), ("type", "=", "goods")],
            ["code", "products"],
        )
        simple = sorted(row["code"] for row in rows if row["code"] and len(row["products"]) == 1)
        actors = Actors(tryton_server, shop, random.Random(rng.random()), rng.sample(simple, EDITED))
        with shop_api(shop) as api:
            actors.category = shop_category(api, "Chaos corner")["id"]
        kills = 0
        try:
            process.start()
            await process.ready()
            await wait_until(lambda: started_feeds(state_url), SETTLE_SECONDS, "initial syncs", process)
            # the reverse flows' feeds bring what the first flows wrote back as changes (matched then)
            await wait_until(
                lambda: idle(state_url),
                SETTLE_SECONDS,
                "idle after the initial syncs",
                process,
                hold=IDLE_HOLD_SECONDS,
            )
            async with running_engine(load_settings(config), worker="chaos-journal") as engine:
                first = await engine.store.last_journal_id()

            async with anyio.create_task_group() as group:
                done = anyio.Event()

                async def people() -> None:
                    while not done.is_set():
                        await actors.act()
                        await anyio.sleep(rng.uniform(*ACTION_GAP))

                group.start_soon(people)
                for _ in range(KILLS):
                    await process.ready()
                    await anyio.sleep(rng.uniform(*UPTIME))
                    process.kill()
                    kills += 1
                    await anyio.sleep(rng.uniform(*PAUSE))
                    process.start()
                done.set()

            await process.ready()
            await wait_until(lambda: idle(state_url), SETTLE_SECONDS, "idle", process, hold=IDLE_HOLD_SECONDS)
            assert process.alive(), process.tail()
            process.stop()
        finally:
            process.close()

        problems = await findings(tryton_server, shop, actors)
        for email in actors.registered:
            cities = await address_cities(tryton_server, email)
            if actors.cities[email] not in cities:
                problems.append(f"a registration's last city is not on its party ({len(cities)} addresses)")
        problems += state_problems(state_url)
        async with running_engine(load_settings(config), worker="chaos-check") as engine:
            lines: list[JournalEntry] = []
            after = first
            while page := await engine.store.journal_after(after, limit=500):
                lines += [entry for _, entry in page if entry.action in WRITES]
                after = page[-1][0]
            problems += ping_pong(lines, actors)
            leases = [lease.name for lease in await engine.store.leases()]
            problems += [f"lease {name} still held" for name in leases]
            conflicts = await engine.store.list_conflicts(state="open")
            problems += [f"open conflict {c.entity} {c.natural_key} {c.field}" for c in conflicts]

    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\ntwo-way chaos [{dialect}] seed={seed} kills={kills} starts={process.starts}"
            f" actions={dict(actors.done)} products made={len(actors.created_skus)}"
            f" journal writes={len(lines)} problems={len(problems)} time={elapsed:.0f}s"
        )
        for line in problems[:40]:
            print(f"  {line}")
    assert kills == KILLS
    assert all(actors.done[kind] for kind in ACTIONS), actors.done
    assert problems == [], f"seed {seed}"
