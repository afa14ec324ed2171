"""WooCommerce customers both ways: the connector against the sandbox shop over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, Retryable, Unmappable, WriteItem
from emporion.connectors.roles import CustomerSource, CustomerTarget, missing_roles
from emporion.connectors.woocommerce import webhooks
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.customer_bodies import difference
from emporion.connectors.woocommerce.plugin import PLUGIN
from emporion.connectors.woocommerce.settings import WooCommerceConnection
from emporion.model import Address, Customer
from emporion_devkit.sandbox.woocommerce import SandboxShop

B2B_META = {"number": "customer_number", "group": "b2bking_customergroup", "price_list": "price_list"}


@pytest.fixture
async def woo(sandbox_shop: SandboxShop) -> AsyncIterator[WooCommerceConnector]:
    """A connector for the roles customer and wholesale_customer (the shop runs a B2B plugin)."""
    resource(sandbox_shop).add_role("wholesale_customer")
    connector = WooCommerceConnector(
        "shop",
        sandbox_shop.base_url,
        sandbox_shop.consumer_key,
        sandbox_shop.consumer_secret,
        customer_roles=["customer", "wholesale_customer"],
        customer_meta=B2B_META,
    )
    yield connector
    await connector.close()


@pytest.fixture
async def api(sandbox_shop: SandboxShop) -> AsyncIterator[httpx.AsyncClient]:
    """The shop's own REST API, as the merchant and shoppers use it."""
    async with httpx.AsyncClient(
        base_url=sandbox_shop.api_url,
        auth=(sandbox_shop.consumer_key, sandbox_shop.consumer_secret),
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    ) as client:
        yield client


async def register(api: httpx.AsyncClient, email: str, **fields: Any) -> dict[str, Any]:
    """A shopper registering in the shop (an account made through the shop's own API)."""
    response = await api.post("/customers", json={"email": email, **fields})
    response.raise_for_status()
    return dict(response.json())


async def held(api: httpx.AsyncClient, ident: int) -> dict[str, Any]:
    """An account as the shop holds it."""
    response = await api.get(f"/customers/{ident}", params={"context": "edit"})
    response.raise_for_status()
    return dict(response.json())


def erp_customer(key: str, email: str, **fields: Any) -> Customer:
    billing = Address(first_name="Berta", last_name="Bauer", street="Hauptstr. 1", city="Köln", country="DE")
    values: dict[str, Any] = {"key": key, "email": email, "first_name": "Berta", "last_name": "Bauer"}
    return Customer(**{**values, "billing": billing, **fields})


def meta(account: dict[str, Any]) -> dict[str, Any]:
    return {entry["key"]: entry["value"] for entry in account["meta_data"]}


def resource(shop: SandboxShop) -> Any:
    return shop.sandbox.shop.resources["customer"]


async def test_plays_both_customer_roles(woo: WooCommerceConnector) -> None:
    assert isinstance(woo, CustomerSource) and isinstance(woo, CustomerTarget)
    assert not missing_roles(woo, PLUGIN.roles)
    assert woo.capabilities().natural_keys["customer"] == "email"
    assert "customer" in woo.capabilities().reads and "customer" in woo.capabilities().writes


async def test_settings_name_the_meta_keys_and_refuse_protected_ones() -> None:
    base = {
        "type": "woocommerce",
        "url": "https://shop.example",
        "consumer_key": "ck",
        "consumer_secret": "cs",
    }
    settings = WooCommerceConnection.model_validate(base)
    assert (settings.customer_number_meta, settings.customer_roles) == ("customer_number", ["customer"])
    with pytest.raises(ValueError, match="protected meta"):
        WooCommerceConnection.model_validate({**base, "customer_group_meta": "_b2b_group"})


async def test_read_and_scan_give_customers_of_the_configured_roles(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    ann = await register(
        api,
        "Ann.Smith@Example.com",
        first_name="Ann",
        billing={"company": "Smith &amp; Co", "phone": "+49 221 1", "city": "Köln", "country": "de"},
        meta_data=[
            {"key": "customer_number", "value": "K-100"},
            {"key": "b2bking_customergroup", "value": 7},
        ],
    )
    wholesale = await register(api, "bulk@example.com")
    resource(sandbox_shop).set_role(sandbox_shop.sandbox.shop, wholesale["id"], "wholesale_customer")
    admin = await register(api, "boss@example.com")
    resource(sandbox_shop).set_role(sandbox_shop.sandbox.shop, admin["id"], "administrator")

    (customer,) = await woo.read("customer", [str(ann["id"])])
    assert isinstance(customer, Customer)
    assert customer.email == "ann.smith@example.com"  # the natural key, lower-cased
    assert (customer.company, customer.phone, customer.number, customer.group) == (
        "Smith & Co",
        "+49 221 1",
        "K-100",
        "7",
    )
    assert customer.billing is not None and customer.billing.country == "DE"
    keys = [r.key async for page in woo.scan("customer") for r in page]
    assert sorted(keys) == sorted([str(ann["id"]), str(wholesale["id"])])  # not the administrator
    assert await woo.read("customer", [str(admin["id"]), "987654"]) == []
    assert await woo.count("customer") == 2


async def test_feed_reports_registration_address_email_and_meta_changes_once(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    before = await register(api, "old@example.com")
    start = await woo.changes("customer", None)
    assert start.keys == [] and start.cursor  # from now on
    new = await register(api, "new@example.com")  # a registration
    (await api.put(f"/customers/{before['id']}", json={"billing": {"city": "Bonn"}})).raise_for_status()
    first = await woo.changes("customer", start.cursor)
    assert first.keys == [str(before["id"]), str(new["id"])]
    assert (await woo.changes("customer", first.cursor)).keys == []  # reported once
    (await api.put(f"/customers/{new['id']}", json={"email": "renamed@example.com"})).raise_for_status()
    second = await woo.changes("customer", first.cursor)
    assert second.keys == [str(new["id"])]
    # a plugin's meta write moves no date_modified and sends no webhook: the feed still sees it
    shop = sandbox_shop.sandbox.shop
    resource(sandbox_shop).set_meta(shop, before["id"], "b2bking_customergroup", "wholesale")
    third = await woo.changes("customer", second.cursor)
    assert third.keys == [str(before["id"])]
    # a user moved out of the customer roles is reported (its read then finds nothing)
    resource(sandbox_shop).set_role(shop, new["id"], "shop_manager")
    fourth = await woo.changes("customer", third.cursor)
    assert fourth.keys == [str(new["id"])] and await woo.read("customer", fourth.keys) == []
    # the cursor holds 8 bytes of hash per account, compressed, not the accounts
    assert "renamed" not in (fourth.cursor or "") and len(fourth.cursor or "") < 200


async def test_feed_refuses_a_cursor_of_another_kind(woo: WooCommerceConnector) -> None:
    with pytest.raises(Permanent):
        await woo.changes("customer", json.dumps({"v": 1, "kind": "category", "hashes": {}}))
    with pytest.raises(Permanent, match="damaged"):
        await woo.changes("customer", json.dumps({"v": 1, "kind": "customer", "snapshot": "fd1:xx"}))


async def test_lookup_by_email_finds_any_role_and_leaves_out_unknown(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    ann = await register(api, "ann@example.com")
    boss = await register(api, "boss@example.com")
    resource(sandbox_shop).set_role(sandbox_shop.sandbox.shop, boss["id"], "administrator")
    found = await woo.lookup(
        "customer", ["ANN@example.com ", "boss@example.com", "nobody@example.com", "not-an-email"]
    )
    assert found == {"ann@example.com": {"id": ann["id"]}, "boss@example.com": {"id": boss["id"]}}


async def test_write_creates_an_account_with_meta_and_no_password(
    woo: WooCommerceConnector, api: httpx.AsyncClient
) -> None:
    record = erp_customer("P-1", "Berta.Bauer@Example.com", number="K-1", group="wholesale", price_list="B2B")
    item = WriteItem("P-1", record, defaults={"b2bking_account_approved": "yes"})
    (outcome,) = await woo.write("customer", [item], [])
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref
    account = await held(api, outcome.target_ref["id"])
    assert account["username"] == "berta.bauer" and account["role"] == "customer"
    assert account["billing"]["email"] == "Berta.Bauer@Example.com" and account["billing"]["city"] == "Köln"
    assert meta(account) == {
        "customer_number": "K-1",
        "b2bking_customergroup": "wholesale",
        "price_list": "B2B",
        "b2bking_account_approved": "yes",
    }
    (again,) = await woo.write("customer", [WriteItem("P-1", record)], [])  # the answer was lost: matched
    assert again.status is OutcomeStatus.MATCHED and again.target_ref == outcome.target_ref
    assert len((await api.get("/customers", params={"role": "all"})).json()) == 1


async def test_write_matches_a_registered_account_by_email_and_sends_only_what_differs(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    shopper = await register(
        api,
        "berta@example.com",
        first_name="Berta",
        last_name="Bauer",
        billing={"first_name": "Berta", "last_name": "Bauer", "address_1": "Hauptstr. 1", "city": "Köln"},
    )
    sent: list[dict[str, Any]] = []

    async def keep(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/customers/batch"):
            sent.append(json.loads(request.content))

    woo.client._http.event_hooks["request"].append(keep)
    record = erp_customer("P-2", "BERTA@example.com", group="retail")
    (outcome,) = await woo.write("customer", [WriteItem("P-2", record)], [])
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref == {"id": shopper["id"]}
    (update,) = sent[0]["update"]
    # the shop holds names and street already; the e-mail differs in case only
    assert update == {
        "id": shopper["id"],
        "billing": {"country": "DE", "email": "BERTA@example.com"},
        "meta_data": [{"key": "b2bking_customergroup", "value": "retail"}],
    }
    stamp = (await held(api, shopper["id"]))["date_modified_gmt"]
    (linked,) = await woo.write("customer", [WriteItem("P-2", record, outcome.target_ref)], [])
    assert linked.status is OutcomeStatus.UNCHANGED and len(sent) == 1  # nothing written: no echo
    assert (await held(api, shopper["id"]))["date_modified_gmt"] == stamp


async def test_write_honours_only_and_keep_on_update(
    woo: WooCommerceConnector, api: httpx.AsyncClient
) -> None:
    record = erp_customer("P-3", "carl@example.com", number="K-3", group="retail")
    (made,) = await woo.write("customer", [WriteItem("P-3", record)], [])
    changed = record.model_copy(update={"first_name": "Carl", "group": "wholesale", "number": "K-33"})
    item = WriteItem("P-3", changed, made.target_ref, keep_on_update=frozenset({"first_name"}))
    (kept,) = await woo.write("customer", [item], [])
    assert kept.status is OutcomeStatus.UPDATED and made.target_ref
    account = await held(api, made.target_ref["id"])
    assert account["first_name"] == "Berta" and meta(account)["b2bking_customergroup"] == "wholesale"
    only = WriteItem(
        "P-3", changed.model_copy(update={"group": "gold"}), made.target_ref, only=frozenset({"group"})
    )
    await woo.write("customer", [only], [])
    account = await held(api, made.target_ref["id"])
    assert meta(account)["b2bking_customergroup"] == "gold" and account["first_name"] == "Berta"


async def test_write_matches_by_number_when_the_email_changed_before_the_link(
    woo: WooCommerceConnector, api: httpx.AsyncClient
) -> None:
    old = await register(api, "dora@old.example", meta_data=[{"key": "customer_number", "value": "K-4"}])
    record = erp_customer("P-4", "dora@new.example", number="K-4")
    (outcome,) = await woo.write("customer", [WriteItem("P-4", record)], [])
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref == {"id": old["id"]}
    assert (await held(api, old["id"]))["email"] == "dora@new.example"


async def test_write_refuses_accounts_that_are_not_this_customers(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    boss = await register(api, "boss@example.com")
    resource(sandbox_shop).set_role(sandbox_shop.sandbox.shop, boss["id"], "administrator")
    other = await register(api, "emil@example.com", meta_data=[{"key": "customer_number", "value": "K-9"}])
    items = [
        WriteItem("P-5", erp_customer("P-5", "boss@example.com")),
        WriteItem("P-6", erp_customer("P-6", "emil@example.com", number="K-6")),
        WriteItem("P-7", erp_customer("P-7", "twin@example.com")),
        WriteItem("P-8", erp_customer("P-8", "Twin@example.com")),
    ]
    admin, numbered, first, twin = await woo.write("customer", items, [])
    assert admin.status is OutcomeStatus.FAILED and isinstance(admin.error, Permanent)
    assert admin.error.field == "email" and "administrator" in admin.error.reason
    assert numbered.status is OutcomeStatus.FAILED and numbered.error and numbered.error.field == "number"
    assert first.status is OutcomeStatus.CREATED
    assert twin.status is OutcomeStatus.FAILED and isinstance(twin.error, Permanent)
    for outcome in (admin, numbered, twin):  # personal data never in errors
        assert "@" not in str(outcome.error)
    assert (await held(api, other["id"]))["first_name"] == ""


async def test_create_refused_for_an_email_registered_meanwhile_is_matched(
    woo: WooCommerceConnector, api: httpx.AsyncClient
) -> None:
    """The shopper registers between emporion's lookup and its create: matched, never a second account."""
    record = erp_customer("P-9", "race@example.com", group="retail")
    lookup = woo.customers.by_email
    calls = 0

    async def registering_meanwhile(emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        nonlocal calls
        calls += 1
        found = await lookup(emails)
        if calls == 1:  # the shopper's registration lands right after emporion looked
            await register(api, "race@example.com")
        return found

    woo.customers.by_email = registering_meanwhile  # type: ignore[method-assign]
    (outcome,) = await woo.write("customer", [WriteItem("P-9", record)], [])
    accounts = (await api.get("/customers", params={"email": "race@example.com"})).json()
    assert calls == 2 and len(accounts) == 1
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref == {"id": accounts[0]["id"]}
    assert meta(accounts[0])["b2bking_customergroup"] == "retail"


async def test_a_stale_link_is_resolved_again_and_deletes_are_refused(
    woo: WooCommerceConnector, api: httpx.AsyncClient
) -> None:
    record = erp_customer("P-10", "fritz@example.com")
    (outcome,) = await woo.write("customer", [WriteItem("P-10", record, {"id": 987654})], [])
    assert (
        outcome.status is OutcomeStatus.CREATED and outcome.target_ref and outcome.target_ref["id"] != 987654
    )
    (refused,) = await woo.write("customer", [], [WriteItem("P-10", record, outcome.target_ref)])
    assert refused.status is OutcomeStatus.FAILED and isinstance(refused.error, Permanent)
    assert (await held(api, outcome.target_ref["id"]))["email"] == "fritz@example.com"


async def test_an_email_change_of_another_role_is_refused_with_the_reason(
    woo: WooCommerceConnector, sandbox_shop: SandboxShop, api: httpx.AsyncClient
) -> None:
    bulk = await register(api, "bulk@example.com")
    resource(sandbox_shop).set_role(sandbox_shop.sandbox.shop, bulk["id"], "wholesale_customer")
    record = erp_customer("P-11", "bulk-new@example.com")
    (outcome,) = await woo.write("customer", [WriteItem("P-11", record, {"id": bulk["id"]})], [])
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert outcome.error.field == "email" and "woocommerce_rest_cannot_edit" in outcome.error.reason
    name_only = record.model_copy(update={"email": "bulk@example.com", "first_name": "Bulk"})
    (ok,) = await woo.write("customer", [WriteItem("P-11", name_only, {"id": bulk["id"]})], [])
    assert ok.status is OutcomeStatus.UPDATED


async def test_transient_failures_are_retryable(woo: WooCommerceConnector, sandbox_shop: SandboxShop) -> None:
    sandbox_shop.faults.set(rate_503=1.0, count=10)
    with pytest.raises(Retryable):
        await woo.write("customer", [WriteItem("P-12", erp_customer("P-12", "gus@example.com"))], [])


def test_difference_compares_emails_case_blind_and_meta_by_key() -> None:
    held = {
        "email": "a@example.com",
        "billing": {"city": "Köln", "email": "A@example.com"},
        "meta_data": [{"id": 1, "key": "price_list", "value": "B2B"}],
    }
    body = {
        "email": "A@Example.com",
        "billing": {"city": "Köln", "email": "a@example.com", "postcode": "50667"},
        "meta_data": [{"key": "price_list", "value": "B2B"}, {"key": "customer_group", "value": ""}],
    }
    assert difference(body, held) == {"billing": {"postcode": "50667"}}


def test_customer_webhooks_parse_to_customer_keys_and_are_registered_for_customer_flows() -> None:
    for topic in ("customer.created", "customer.updated", "customer.deleted"):
        body = json.dumps({"id": 42, "email": "x@example.com"}).encode()
        hint = webhooks.parse_webhook({webhooks.TOPIC_HEADER: topic}, body)
        assert hint is not None and (hint.entity, hint.keys) == ("customer", ["42"])
    assert webhooks.topics_for(["customer"]) == list(webhooks.CUSTOMER_TOPICS)
    assert webhooks.topics_for(["order"]) == list(webhooks.ORDER_TOPICS)
    assert webhooks.topics_for(["product"]) == []


async def test_an_account_answered_without_meta_is_a_dead_letter_not_a_customer_without_group(
    woo: WooCommerceConnector,
) -> None:
    """A key whose user is no administrator gets customers without meta_data (WooCommerce's V2 controller)."""
    read = woo.customers.customer({"id": 5, "email": "hidden@example.com", "billing": {}, "shipping": {}})
    assert isinstance(read, Unmappable) and read.field == "meta_data" and "administrator" in read.reason
