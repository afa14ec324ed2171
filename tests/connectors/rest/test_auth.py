"""Every auth kind against the running example shop: credentials, token expiry and renewal, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from emporion.connectors.base import AuthError
from emporion.connectors.rest.auth import TokenAuth
from emporion.connectors.rest.settings import Call
from tests.connectors.rest import NAME, client
from tests.example_shop.server import MiniShop
from tests.example_shop.shop_auth import Gate

STATUS = Call(path="/api/status")
SECRET = "s3cret-never-shown"


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> Iterator[MiniShop]:
    """A minishop behind the gate the test names (indirect parameter), else the API key default."""
    gate = Gate(**getattr(request, "param", {"mode": "api_key", "api_key": SECRET}))
    with MiniShop(gate=gate).serve() as running:
        running.save("products", {"sku": "A", "name": "first"})
        yield running


async def status(shop: MiniShop, auth: dict[str, object], **more: object) -> int:
    """The product count /api/status reports through a client with `auth`."""
    rest = client(shop.url, auth, **more)
    try:
        return (await rest.call(STATUS, read=True)).body["products"]
    finally:
        await rest.close()


async def refused(shop: MiniShop, auth: dict[str, object]) -> str:
    """The AuthError message of a call with wrong credentials; it names the connection, no secret."""
    rest = client(shop.url, auth, retries=0)
    try:
        with pytest.raises(AuthError) as caught:
            await rest.call(STATUS, read=True)
    finally:
        await rest.close()
    message = str(caught.value)
    assert NAME in message
    assert SECRET not in message and "wrong-secret" not in message
    return message


async def test_api_key_in_a_header_or_the_query(shop: MiniShop) -> None:
    assert await status(shop, {"kind": "api_key", "key": SECRET}) == 1
    assert await status(shop, {"kind": "api_key", "key": SECRET, "query": "api_key"}) == 1
    assert "401" in await refused(shop, {"kind": "api_key", "key": "wrong-secret"})


@pytest.mark.parametrize("shop", [{"mode": "bearer", "token": SECRET}], indirect=True)
async def test_bearer_token(shop: MiniShop) -> None:
    assert await status(shop, {"kind": "bearer", "token": SECRET}) == 1
    await refused(shop, {"kind": "bearer", "token": "wrong-secret"})


@pytest.mark.parametrize("shop", [{"mode": "basic", "username": "me", "password": SECRET}], indirect=True)
async def test_http_basic(shop: MiniShop) -> None:
    assert await status(shop, {"kind": "basic", "username": "me", "password": SECRET}) == 1
    await refused(shop, {"kind": "basic", "username": "me", "password": "wrong-secret"})


def oauth(send: str = "basic", secret: str = SECRET, renew: float = 0.3) -> dict[str, object]:
    """OAuth 2 client credentials settings for the shop's /oauth/token."""
    return {
        "kind": "oauth2",
        "token_url": "/oauth/token",
        "client_id": "cid",
        "client_secret": secret,
        "send_credentials": send,
        "renew_before_seconds": renew,
    }


OAUTH_GATE = {"mode": "oauth2", "client_id": "cid", "client_secret": SECRET, "lifetime": 1.0}


@pytest.mark.parametrize("shop", [OAUTH_GATE], indirect=True)
@pytest.mark.parametrize("send", ["basic", "body"])
async def test_oauth2_token_is_fetched_once_then_renewed_before_it_expires(shop: MiniShop, send: str) -> None:
    rest = client(shop.url, oauth(send))
    assert isinstance(rest.auth, TokenAuth)
    try:
        for _ in range(3):
            assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert rest.auth.fetches == 1
        await asyncio.sleep(0.8)  # inside the renewal margin (0.3 s before the 1 s lifetime ends)
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert rest.auth.fetches == 2
        assert shop.gate.refused == 0  # renewed in time: the shop never saw an expired token
    finally:
        await rest.close()


@pytest.mark.parametrize("shop", [OAUTH_GATE], indirect=True)
async def test_oauth2_an_expired_or_revoked_token_is_renewed_once_on_a_401(shop: MiniShop) -> None:
    rest = client(shop.url, oauth(renew=0.0))
    assert isinstance(rest.auth, TokenAuth)
    try:
        await rest.call(STATUS, read=True)
        shop.gate.revoke()
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert (rest.auth.fetches, shop.gate.refused) == (2, 1)
        await asyncio.sleep(1.1)  # expired: the client knows it and fetches a new one before sending
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert (rest.auth.fetches, shop.gate.refused) == (3, 1)
    finally:
        await rest.close()


@pytest.mark.parametrize("shop", [OAUTH_GATE], indirect=True)
async def test_oauth2_one_token_fetch_for_many_concurrent_requests(shop: MiniShop) -> None:
    rest = client(shop.url, oauth())
    assert isinstance(rest.auth, TokenAuth)
    try:
        answers = await asyncio.gather(*(rest.call(STATUS, read=True) for _ in range(12)))
        assert [a.body["products"] for a in answers] == [1] * 12
        assert rest.auth.fetches == 1 and shop.gate.token_requests == 1
    finally:
        await rest.close()


@pytest.mark.parametrize("shop", [OAUTH_GATE], indirect=True)
async def test_oauth2_wrong_secret_is_an_auth_error_naming_the_connection(shop: MiniShop) -> None:
    message = await refused(shop, oauth(secret="wrong-secret"))
    assert "token endpoint" in message and "401" in message
    message = await refused(shop, oauth(send="body", secret="wrong-secret"))
    assert "token endpoint" in message


LOGIN_GATE = {"mode": "login", "username": "me", "password": SECRET, "lifetime": 1.0}


def rest_login(password: str = SECRET) -> dict[str, object]:
    """A REST login: POST /api/login, token and lifetime from the answer."""
    return {
        "kind": "login",
        "username": "me",
        "password": password,
        "path": "/api/login",
        "token": "$.token",
        "expires_in": "$.expires_in",
    }


@pytest.mark.parametrize("shop", [LOGIN_GATE], indirect=True)
async def test_login_token_is_used_renewed_and_a_wrong_password_refused(shop: MiniShop) -> None:
    rest = client(shop.url, rest_login())
    assert isinstance(rest.auth, TokenAuth)
    try:
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        shop.gate.revoke()
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert rest.auth.fetches == 2
    finally:
        await rest.close()
    assert "login" in await refused(shop, rest_login("wrong-secret"))


@pytest.mark.parametrize("shop", [LOGIN_GATE], indirect=True)
async def test_login_token_from_a_header_with_a_configured_lifetime(shop: MiniShop) -> None:
    settings = rest_login() | {"token": "header:X-Auth-Token", "lifetime_seconds": 1.0}
    del settings["expires_in"]
    rest = client(shop.url, settings)
    assert isinstance(rest.auth, TokenAuth)
    try:
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        await asyncio.sleep(0.6)  # past half its life: renewed before use, never refused
        assert (await rest.call(STATUS, read=True)).body["products"] == 1
        assert (rest.auth.fetches, shop.gate.refused) == (2, 0)
    finally:
        await rest.close()


GRAPHQL_LOGIN = (
    "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) {"
    " __typename ... on LoginSuccess { token expiresIn } ... on ErrorResult { message } } }"
)


def graphql_login(password: str) -> dict[str, object]:
    """A GraphQL login mutation; an ErrorResult (HTTP 200) is read at the `error` path."""
    return {
        "kind": "login",
        "username": "me",
        "password": password,
        "path": "",
        "body": {"query": GRAPHQL_LOGIN, "variables": {"u": "{username}", "p": "{password}"}},
        "token": "$.data.login.token",
        "expires_in": "$.data.login.expiresIn",
        "error": "$.data.login.message",
    }


@pytest.mark.parametrize("shop", [LOGIN_GATE], indirect=True)
async def test_graphql_login_mutation_and_its_error_union(shop: MiniShop) -> None:
    products = Call(
        query="query { products(take: 5) { items { sku } totalItems } }", items="$.data.products.items"
    )
    rest = client(shop.url + "/graphql", graphql_login(SECRET), type="graphql")
    try:
        answer = await rest.call(products, read=True)
        assert answer.body["data"]["products"]["items"] == [{"sku": "A"}]
    finally:
        await rest.close()
    wrong = client(shop.url + "/graphql", graphql_login("wrong-secret"), type="graphql", retries=0)
    try:
        with pytest.raises(AuthError, match="login was refused: wrong login") as caught:
            await wrong.call(products, read=True)
        assert NAME in str(caught.value) and "wrong-secret" not in str(caught.value)
    finally:
        await wrong.close()
