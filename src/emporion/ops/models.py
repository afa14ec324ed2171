"""What the console shows, as pydantic models: the API's response bodies and the pages' data alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Role = Literal["viewer", "operator", "admin"]
Scope = Literal["read", "operate", "admin"]
# One pattern for user names wherever they are created, addressed in a path and shown: an e-mail
# address fits; a first `.`, `@` or `-` does not (no `..` path segment, no name read as a CLI option).
USER_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}$"
USER_NAME_RULE = "1 to 100 letters (A-Z, a-z), digits and _ . @ -, starting with a letter, digit or _"
UserName = Annotated[str, Field(min_length=1, max_length=100, pattern=USER_NAME_PATTERN)]


class EntityStatus(BaseModel):
    """One entity of a flow: how many records are linked and how many wait in the queue."""

    entity: str
    linked: int
    queued: int


class FlowStatus(BaseModel):
    """One flow at a glance."""

    name: str
    source: str
    target: str
    enabled: bool
    paused: bool
    state: Literal["running", "paused", "disabled", "lagging", "failing"]
    last_poll: datetime | None = Field(None, description="when its change feeds were last read successfully")
    last_write: datetime | None = Field(None, description="its newest journal line")
    lag_seconds: float = Field(0, description="how long its oldest ready work item has waited")
    queued: int
    entities: list[EntityStatus]
    throughput: dict[str, int] = Field(description="journal lines per action over the window")
    window_seconds: int
    errors: int = Field(description="dead letters written over the window")
    dead_open: int


class DeadLetterView(BaseModel):
    """A dead letter; the payload (masked) only on the detail view."""

    id: int
    flow: str
    entity: str
    key: str
    record: str | None
    field: str | None
    reason: str
    attempts: int
    failed_at: datetime | None
    status: str
    payload: Any = None


class ConflictView(BaseModel):
    """A field both systems edit that they hold differently; `values` per connection (maybe personal)."""

    id: int
    pair: str = Field(description="the two connections, sorted, joined by ' <> '")
    entity: str
    natural_key: str = Field(description="the record: SKU, category slug or e-mail")
    field: str
    owner: str = Field(description="the connection owning the field, or either")
    policy: Literal["revert", "report"]
    values: dict[str, Any] = Field(description="each connection's value")
    flow: str = Field(description="the flow that found it last")
    source_key: str
    state: Literal["open", "reverted", "resolved", "dismissed"]
    first_seen: datetime | None
    last_seen: datetime | None
    resolved_at: datetime | None = None
    resolved_by: str | None = None


class PairConflicts(BaseModel):
    """The open conflicts between two connections, and the flows that move records between them."""

    pair: str
    flows: list[str]
    open: int


class ActionResult(BaseModel):
    """What an action did."""

    ok: bool = True
    done: list[int | str] = Field(default_factory=list)
    skipped: list[int | str] = Field(default_factory=list)
    queued: int = 0
    message: str = ""


class ReportView(BaseModel):
    """A reconcile report (items only on the detail view)."""

    id: int | None
    flow: str
    started_at: datetime
    finished_at: datetime
    status: str
    repair: bool
    counts: dict[str, int]
    items: list[dict[str, Any]] | None = None
    error: str | None = None


class AlertView(BaseModel):
    """An alert as the state database remembers it."""

    key: str
    kind: str
    subject: str
    flow: str | None
    severity: str
    status: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    count: int
    message: str


class CircuitView(BaseModel):
    """The circuit breaker's state of one connection."""

    connection: str
    state: str
    detail: dict[str, Any] = Field(default_factory=dict)


class JournalView(BaseModel):
    """One line of a record's journal: when, what, why, and the fingerprints before and after."""

    id: int | None = None
    at: datetime | None
    flow: str
    entity: str
    key: str
    action: str
    reason: str
    before: str | None
    after: str | None
    target_ref: dict[str, Any] | None
    detail: dict[str, Any] | None


class LinkView(BaseModel):
    """How one source record is linked to the target."""

    flow: str
    entity: str
    source_key: str
    target_ref: dict[str, Any] | None
    natural_key: str | None
    state: str
    last_error: str | None
    synced_at: datetime | None


class RecordView(BaseModel):
    """One record on both sides: the source's and the target's reading, its link and its journal."""

    flow: str
    entity: str
    key: str
    link: LinkView | None
    source: dict[str, Any] | None
    target: dict[str, Any] | None
    read_errors: list[str] = Field(default_factory=list)
    journal: list[JournalView]


class SearchResult(BaseModel):
    """The records a search term names."""

    term: str
    kind: Literal["sku", "order", "email", "key"]
    records: list[RecordView]


class Event(BaseModel):
    """One event of the live stream: a journal line or an alert."""

    id: str
    type: Literal["journal", "alert"]
    data: dict[str, Any]


class UserView(BaseModel):
    """A console user (never the password hash)."""

    name: str
    role: Role
    created_at: datetime
    updated_at: datetime


class ConsoleSessionView(BaseModel):
    """A live dashboard session (never its secret or CSRF token)."""

    id: str
    user: str = Field(validation_alias="user_name")
    role: Role
    client: str | None
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


class TokenView(BaseModel):
    """An API token's metadata (never the token or its hash)."""

    id: int
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewToken(TokenView):
    """A token just created: the only time its secret is shown."""

    token: str


class AuditView(BaseModel):
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    client: str | None
    detail: dict[str, Any] | None


class Identity(BaseModel):
    """Who is calling: a logged-in user or an API token, and what they may do."""

    actor: str
    kind: Literal["user", "token"]
    role: Role
