"""How a declarative connection reaches the shop: its authentication, its paging, and one call.

Part of the connection's settings (`settings.py` re-exports every name): a call is a REST method and
path or a GraphQL document, with the JSON paths of what its answer holds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from emporion.connectors.rest.settings.paths import JsonPath, Template
from emporion.connectors.settings import Secret, Strict

# -- authentication ------------------------------------------------------------------------------------


class ApiKeyAuth(Strict):
    """An API key sent in a header (or a query parameter) with every request."""

    kind: Literal["api_key"]
    key: Secret
    header: str = Field("X-Api-Key", description="the header that carries the key")
    prefix: str = Field("", description="text before the key in the header (e.g. 'Token ')")
    query: str | None = Field(None, description="send the key as this query parameter instead of a header")


class BearerAuth(Strict):
    """A long-lived token sent as `Authorization: Bearer <token>`."""

    kind: Literal["bearer"]
    token: Secret


class BasicAuth(Strict):
    """HTTP Basic: a user name (or API key) and a password (or secret)."""

    kind: Literal["basic"]
    username: Secret
    password: Secret | None = None


class OAuth2Auth(Strict):
    """OAuth 2 client credentials: a token from `token_url`, renewed before it expires and on a 401."""

    kind: Literal["oauth2"]
    token_url: str = Field(description="absolute, or relative to the connection's url")
    client_id: str
    client_secret: Secret
    scope: str | None = None
    audience: str | None = None
    send_credentials: Literal["basic", "body"] = Field(
        "basic", description="client id and secret as HTTP Basic (RFC 6749 2.3.1) or in the form body"
    )
    renew_before_seconds: float = Field(60.0, ge=0, description="renew this long before `expires_in` ends")


class LoginAuth(Strict):
    """A login call that returns a token (a REST login or a GraphQL login mutation), repeated on a 401."""

    kind: Literal["login"]
    username: str
    password: Secret
    path: str = Field(description="the login endpoint, absolute or relative to the connection's url")
    method: Literal["POST", "PUT", "GET"] = "POST"
    body: Any = Field(
        None, description="the JSON body; the strings '{username}' and '{password}' are filled in"
    )
    token: JsonPath = Field(
        description="where the answer carries the token: a JSON path ($.token) or header:<name>"
    )
    expires_in: JsonPath | None = Field(None, description="JSON path of the token's lifetime in seconds")
    lifetime_seconds: float | None = Field(None, gt=0, description="the token's lifetime when not given")
    error: JsonPath | None = Field(None, description="JSON path of an error in a 200 answer (GraphQL unions)")
    header: str = Field("Authorization", description="the header that carries the token afterwards")
    prefix: str = Field("Bearer ", description="text before the token in that header")


Auth = Annotated[ApiKeyAuth | BearerAuth | BasicAuth | OAuth2Auth | LoginAuth, Field(discriminator="kind")]

# -- paging ------------------------------------------------------------------------------------------


class PagePaging(Strict):
    """Pages by number: `?page=1&per_page=50`, until a short or empty page (or `pages`/`total` says so)."""

    kind: Literal["page"]
    param: str = "page"
    size_param: str = "per_page"
    size: int = Field(50, ge=1, le=1000)
    first: int = Field(1, ge=0, description="the number of the first page")
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class OffsetPaging(Strict):
    """Pages by offset: `?offset=100&limit=50` (GraphQL: variables `skip`/`take`)."""

    kind: Literal["offset"]
    param: str = "offset"
    size_param: str = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class CursorPaging(Strict):
    """Pages by an opaque cursor the previous page returns (`next`), until it is empty or null."""

    kind: Literal["cursor"]
    param: str = "cursor"
    next: JsonPath = Field(description="JSON path of the next page's cursor in an answer")
    size_param: str | None = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class NextLinkPaging(Strict):
    """Pages by following the next page's URL: a JSON path in the answer, or `header:Link` (RFC 8288)."""

    kind: Literal["next_link"]
    next: JsonPath = Field(description="JSON path of the next page's URL in an answer, or header:Link")
    size_param: str | None = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


Paging = Annotated[PagePaging | OffsetPaging | CursorPaging | NextLinkPaging, Field(discriminator="kind")]

# -- one call ----------------------------------------------------------------------------------------

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class Call(Strict):
    """One request: REST method and path, or (GraphQL) a query or mutation with its variables.

    Strings may hold placeholders: `{id}` (the shop's id of the record), `{key}`, `{sku}`,
    `{natural_key}`, `{natural_keys}` (comma-joined), `{natural_key_list}` (a list: see `lists`),
    `{since}`, `{quantity}`, `{location}`, `{url}`, `{topic}`, `{secret}`, `{parent.<path>}`. A body
    or variables value that is exactly `{body}` is the record mapped to the shop's fields (see
    `EntitySettings.fields`); exactly `{<field>}` keeps the field's type (a number stays a number).
    """

    method: HttpMethod = "GET"
    path: Template | None = Field(None, description="REST: relative to the connection's url")
    query: str | None = Field(None, description="GraphQL: the query or mutation document")
    params: dict[str, Template] = Field(default_factory=dict, description="query string parameters")
    lists: Literal["comma", "repeat"] = Field(
        "comma", description="a list in a query parameter: comma-joined (sku=A,B) or repeated (sku=A&sku=B)"
    )
    body: Any = Field(None, description="REST: the JSON body template")
    variables: dict[str, Any] = Field(default_factory=dict, description="GraphQL: the variables template")
    items: JsonPath | None = Field(None, description="JSON path of the list of records in the answer")
    result: JsonPath | None = Field(None, description="JSON path of the record in the answer")
    error: JsonPath | None = Field(
        None, description="JSON path of an error in a successful answer (a GraphQL ErrorResult's message)"
    )
    idempotency_header: str | None = Field(
        None, description="send a key derived from the write (stable across retries) in this header"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Call:
        if (self.path is None) == (self.query is None):
            raise ValueError("a call names either a REST `path` or a GraphQL `query`")
        return self
