"""The sandbox's `/customers` behaves as WooCommerce 10.0.2's, as read in its source.

References (tag 10.0.2): includes/rest-api/Controllers/Version1/class-wc-rest-customers-v1-controller.php
(routes, collection params, create/update/delete, permission checks), Version2/…-v2-controller.php
(meta_data for administrators, protected keys skipped), Version3/class-wc-rest-customers-controller.php
(schema: `role` read-only), includes/wc-user-functions.php (`wc_create_new_customer`,
`wc_create_new_customer_username`, `last_update`), includes/class-wc-webhook.php (customer topics).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emporion_devkit.sandbox.woocommerce import SandboxShop


def post(api: httpx.Client, email: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/customers", json={"email": email, **fields})
    response.raise_for_status()
    return dict(response.json())


def customers(shop: SandboxShop) -> Any:
    return shop.sandbox.shop.resources["customer"]


def listed(api: httpx.Client, **params: Any) -> list[int]:
    response = api.get("/customers", params=params)
    response.raise_for_status()
    return [item["id"] for item in response.json()]


def test_listing_takes_role_email_and_no_date_filters(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    """get_collection_params: role defaults to customer and must be all or a role; email is an address;
    orderby is id, include, name or registered_date; no after/modified_after (ignored: all listed)."""
    ann = post(sandbox_client, "ann@example.com")
    boss = post(sandbox_client, "boss@example.com")
    customers(sandbox_shop).set_role(sandbox_shop.sandbox.shop, boss["id"], "administrator")
    assert listed(sandbox_client) == [ann["id"]]
    assert sorted(listed(sandbox_client, role="all")) == [ann["id"], boss["id"]]
    assert listed(sandbox_client, role="administrator") == [boss["id"]]
    unknown = sandbox_client.get("/customers", params={"role": "wholesale_customer"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "rest_invalid_param"
    customers(sandbox_shop).add_role("wholesale_customer")  # a B2B plugin registers its role
    assert listed(sandbox_client, role="wholesale_customer") == []
    assert listed(sandbox_client, email="ANN@example.com") == [ann["id"]]  # exact, case-blind
    assert listed(sandbox_client, email="ann@example.co") == []
    bad = sandbox_client.get("/customers", params={"email": "not-an-address"})
    assert bad.status_code == 400 and bad.json()["data"]["params"] == {"email": "Invalid email address."}
    assert sandbox_client.get("/customers", params={"orderby": "modified"}).status_code == 400
    assert listed(sandbox_client, orderby="registered_date", order="desc") == [ann["id"]]
    future = "2099-01-01T00:00:00"
    assert listed(sandbox_client, modified_after=future, after=future) == [ann["id"]]


def test_role_is_read_only_and_password_never_shown(sandbox_client: httpx.Client) -> None:
    """The v3 schema marks `role` readonly: a sent role is ignored; `password` has the edit context only
    and is never part of an answer."""
    made = post(sandbox_client, "eve@example.com", role="administrator", password="s3cret-Pass")
    assert made["role"] == "customer" and "password" not in made
    assert "password" not in sandbox_client.get(f"/customers/{made['id']}", params={"context": "edit"}).json()


@pytest.mark.parametrize(
    ("emails", "usernames"),
    [
        (["Ann.Smith@Example.com"], ["ann.smith"]),
        (["info@shop-example.com"], ["shop-example.com"]),  # common prefixes: the domain instead
        (["o'brien@example.com"], ["obrien"]),  # what sanitize_user does not keep is dropped
    ],
)
def test_username_is_made_from_the_email(
    sandbox_client: httpx.Client, emails: list[str], usernames: list[str]
) -> None:
    """wc_create_new_customer_username: the local part (lower case, sanitize_user strict)."""
    assert [post(sandbox_client, email)["username"] for email in emails] == usernames


def test_an_address_wordpress_does_not_take_is_refused(sandbox_client: httpx.Client) -> None:
    """is_email allows ASCII local parts only: registration-error-invalid-email."""
    refused = sandbox_client.post("/customers", json={"email": "jürgen@example.com"})
    assert refused.status_code == 400 and refused.json()["code"] == "registration-error-invalid-email"


def test_usernames_stay_unique_and_are_not_editable(sandbox_client: httpx.Client) -> None:
    """A taken username gets `-` and four digits; a sent one that is taken is refused; an update may
    not change it (woocommerce_rest_customer_invalid_argument)."""
    first = post(sandbox_client, "sam@example.com")
    second = post(sandbox_client, "sam@example.org")
    assert first["username"] == "sam" and second["username"].startswith("sam-")
    assert len(second["username"]) == len("sam-0000") and second["username"][4:].isdigit()
    taken = sandbox_client.post("/customers", json={"email": "sam@example.net", "username": "sam"})
    assert taken.json()["code"] == "registration-error-username-exists"
    renamed = sandbox_client.put(f"/customers/{first['id']}", json={"username": "samuel"})
    assert (
        renamed.status_code == 400 and renamed.json()["code"] == "woocommerce_rest_customer_invalid_argument"
    )


def test_an_email_that_exists_is_refused_on_create_and_on_update(sandbox_client: httpx.Client) -> None:
    """wc_create_new_customer: registration-error-email-exists, its message quoting the address;
    update_item: woocommerce_rest_customer_invalid_email ("Email address is invalid.")."""
    ann = post(sandbox_client, "ann@example.com")
    bob = post(sandbox_client, "bob@example.com")
    again = sandbox_client.post("/customers", json={"email": "ANN@example.com"})
    assert again.status_code == 400 and again.json()["code"] == "registration-error-email-exists"
    assert "ANN@example.com" in again.json()["message"]
    moved = sandbox_client.put(f"/customers/{bob['id']}", json={"email": "ann@example.com"})
    assert moved.status_code == 400 and moved.json()["code"] == "woocommerce_rest_customer_invalid_email"
    same = sandbox_client.put(
        f"/customers/{ann['id']}", json={"email": "ann@example.com", "first_name": "Ann"}
    )
    assert same.status_code == 200
    case = sandbox_client.put(
        f"/customers/{ann['id']}", json={"email": "Ann@example.com"}
    )  # its own, recased
    assert case.status_code == 400 and case.json()["code"] == "woocommerce_rest_customer_invalid_email"
    batch = sandbox_client.post("/customers/batch", json={"create": [{"email": "bob@example.com"}]}).json()
    assert batch["create"][0]["error"]["code"] == "registration-error-email-exists"


def test_protected_meta_is_neither_written_nor_shown(sandbox_client: httpx.Client) -> None:
    """update_customer_meta_fields skips is_protected_meta keys (a leading "_"); answers leave them out."""
    made = post(
        sandbox_client,
        "meta@example.com",
        meta_data=[{"key": "_internal", "value": "x"}, {"key": "customer_number", "value": "K-1"}],
    )
    assert [(m["key"], m["value"]) for m in made["meta_data"]] == [("customer_number", "K-1")]


def test_other_roles_keep_their_email_and_cannot_be_deleted(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    """update_item_permissions_check and delete_item_permissions_check: only customer and subscriber
    (woocommerce_rest_customer_allowed_roles) may have e-mail or password changed, or be deleted."""
    customers(sandbox_shop).add_role("wholesale_customer")
    bulk = post(sandbox_client, "bulk@example.com")
    customers(sandbox_shop).set_role(sandbox_shop.sandbox.shop, bulk["id"], "wholesale_customer")
    refused = sandbox_client.put(f"/customers/{bulk['id']}", json={"email": "new@example.com"})
    assert refused.status_code == 403 and refused.json()["code"] == "woocommerce_rest_cannot_edit"
    named = sandbox_client.put(
        f"/customers/{bulk['id']}", json={"email": "bulk@example.com", "first_name": "B"}
    )
    assert named.status_code == 200 and named.json()["first_name"] == "B"
    gone = sandbox_client.delete(f"/customers/{bulk['id']}", params={"force": "true"})
    assert gone.status_code == 403 and gone.json()["code"] == "woocommerce_rest_cannot_delete"


def test_delete_needs_force(sandbox_client: httpx.Client) -> None:
    """delete_item: "Customers do not support trashing." (501) without force; with force the user goes."""
    ann = post(sandbox_client, "ann@example.com")
    trash = sandbox_client.delete(f"/customers/{ann['id']}")
    assert trash.status_code == 501 and trash.json()["message"] == "Customers do not support trashing."
    assert sandbox_client.delete(f"/customers/{ann['id']}", params={"force": "true"}).status_code == 200
    assert sandbox_client.get(f"/customers/{ann['id']}").status_code == 404


def test_plugin_meta_and_role_changes_move_no_date_and_send_no_webhook(
    sandbox_shop: SandboxShop, sandbox_client: httpx.Client
) -> None:
    """`last_update` moves on profile_update (every API update) and on names and addresses, not on other
    meta or a role change; customer.updated hooks profile_update and woocommerce_update_customer."""
    events: list[Any] = []
    shop = sandbox_shop.sandbox.shop
    shop.listeners.append(events.extend)
    ann = post(sandbox_client, "ann@example.com")
    assert [(topic, event) for topic, event, *_ in events] == [("customer", "created")]
    stamp = ann["date_modified_gmt"]
    customers(sandbox_shop).set_meta(shop, ann["id"], "b2b_group", "gold")
    customers(sandbox_shop).set_role(shop, ann["id"], "subscriber")
    held = sandbox_client.get(f"/customers/{ann['id']}").json()
    assert held["date_modified_gmt"] == stamp and len(events) == 1
    assert held["role"] == "subscriber" and {"key": "b2b_group", "value": "gold"} in [
        {"key": m["key"], "value": m["value"]} for m in held["meta_data"]
    ]
    sandbox_client.put(f"/customers/{ann['id']}", json={"first_name": "Ann"}).raise_for_status()
    assert [(topic, event) for topic, event, *_ in events][-1] == ("customer", "updated")
