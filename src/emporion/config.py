"""One YAML file -> validated settings; secrets come from the environment or secret files.

Errors name the exact place in the file (`flows[0].mapping.name.template`, line and column) so that
`emporion check` can say precisely what is wrong and where.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import Field, IPvAnyNetwork, ValidationError, field_validator

from emporion.alerts import AlertKind
from emporion.connectors.registry import plugins
from emporion.connectors.roles import Role, flow_roles
from emporion.connectors.settings import (
    CircuitSettings,
    ConnectionSettings,
    Secret,
    Strict,
    TLSSettings,
    resolve_secret,
)
from emporion.model.orders import CUSTOMER_FIELDS, status_name
from emporion.rules import FieldRule, check_expression

__all__ = [
    "CircuitSettings",
    "ConfigError",
    "ConnectionSettings",
    "FieldRule",
    "FlowSettings",
    "Ownership",
    "Secret",
    "Settings",
    "TLSSettings",
    "json_schema",
    "load_settings",
    "ownership_of",
    "parse_settings",
    "resolve_secret",
    "reverse_flow",
]

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ENTITIES = ("category", "product", "customer", "order")


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists each one with its place in the file."""

    def __init__(self, problems: list[str], path: Path | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(problems))


def connection_union() -> Any:
    """The `connections:` value type: one settings model per registered connector, told apart by `type`."""
    models = tuple(plugin.settings for plugin in plugins().values())
    if not models:
        raise ConfigError(["no connector is installed (the emporion.connectors entry points are empty)"])
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 - built at run time


if TYPE_CHECKING:
    Connection = ConnectionSettings
else:
    Connection = connection_union()


class FilterSettings(Strict):
    """Which source records a flow sends; the others are removed from (or never reach) the target."""

    salable_only: bool = True
    active_only: bool = True
    categories: list[str] | None = Field(
        None, description="category keys or names; subcategories included; none = all"
    )
    expression: str | None = Field(
        None, description="Jinja2 expression that must be true, e.g. list_price > 0"
    )

    @field_validator("expression")
    @classmethod
    def _expression_parses(cls, value: str | None) -> str | None:
        return check_expression(value)


# emporion's order statuses: draft, pending, on_hold, processing, shipped, completed, cancelled,
# refunded, failed (each connector maps its system's own to these); `on-hold` is read as `on_hold`
DEFAULT_STATUSES = {
    "pending": "pending",
    "on_hold": "on_hold",
    "processing": "processing",
    "shipped": "processing",
    "completed": "completed",
    "cancelled": "cancelled",
    "refunded": "refunded",
}


class OrderOptions(Strict):
    """How a flow turns shop orders into ERP sales and reports the ERP's progress back to the shop."""

    reference_prefix: str | None = Field(None, description="ERP sale reference prefix; default FLOW-")
    import_statuses: list[str] = Field(
        default_factory=lambda: ["processing", "on_hold", "completed"],
        description="order statuses (emporion's, or the shop's own) whose orders go to the ERP (others wait)",
    )
    hold_statuses: list[str] = Field(
        default_factory=list,
        description="statuses whose orders are held: not imported, a dead letter naming the status;"
        " a status of the shop's own that no list names is held too",
    )
    ignore_statuses: list[str] = Field(
        default_factory=list,
        description="statuses of the shop's own whose orders wait without a word (like pending ones)",
    )
    deleted_product_sku: str | None = Field(
        None,
        description="ERP product (SKU) to book a line whose product was deleted in the shop on;"
        " none = hold the order with a dead letter naming the line",
    )
    shortage: Literal["accept", "hold", "reject"] = Field(
        "hold", description="stock short in the ERP: accept and alert, hold the shop order, or reject it"
    )
    totals_tolerance: Decimal = Field(
        Decimal("0.05"), ge=0, description="money; lines + shipping + tax vs total"
    )
    confirm: bool = Field(True, description="confirm the ERP sale (else leave it a quotation)")
    warehouse: str | None = Field(None, description="ERP warehouse code for the sale; none = the ERP default")
    carriers: dict[str, str] = Field(
        default_factory=dict, description="shop shipping method -> ERP carrier; * default"
    )
    taxes: dict[str, str] = Field(default_factory=dict, description="shop tax class ('' standard) -> ERP tax")
    payment_methods: dict[str, str] = Field(default_factory=dict, description="shop payment method -> ERP")
    customer_match: Literal["email", "none"] = Field("email", description="match existing ERP customers by")
    statuses: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_STATUSES),
        description="ERP order status -> shop order status (emporion's, or a status of the shop's own)",
    )
    tracking_note: Literal["customer", "private", "none"] = "customer"
    invoice_note: Literal["customer", "private", "none"] = "private"
    refund_payout: bool = Field(False, description="refunds from the ERP make the shop pay the money out")

    @field_validator("import_statuses", "hold_statuses", "ignore_statuses")
    @classmethod
    def _status_list(cls, names: list[str]) -> list[str]:
        """Older spellings (`on-hold`) become emporion's (`on_hold`)."""
        return [status_name(name) for name in names]

    @field_validator("statuses")
    @classmethod
    def _status_map(cls, names: dict[str, str]) -> dict[str, str]:
        """Older spellings (`on-hold`) become emporion's (`on_hold`), on both sides."""
        return {status_name(erp): status_name(shop) for erp, shop in names.items()}

    window_days: int = Field(
        30, ge=1, le=366, description="sliding reconcile: open orders and the last N days"
    )
    reconcile_interval: float = Field(300.0, gt=0, description="seconds between sliding reconciles")


class LowStockSettings(Strict):
    """When a product's available-to-promise in this flow's target is low enough to tell someone."""

    default: Decimal | None = Field(None, ge=0, description="alert below this many units; none = none")
    skus: dict[str, Decimal] = Field(default_factory=dict, description="SKU -> threshold (wins over others)")
    field: str | None = Field(
        None, description="product custom field holding a per-product threshold (e.g. from custom_fields)"
    )


class ReconcileOptions(Strict):
    """The periodic reconcile of a flow: compare both sides record by record, report and repair drift."""

    enabled: bool = Field(True, description="run the reconcile on a schedule inside `emporion run`")
    interval: float = Field(86400.0, gt=0, description="seconds between scheduled reconciles (a day)")
    repair: bool = Field(True, description="scheduled runs queue the fixes (else they only report)")
    extras: Literal["report", "unpublish", "delete"] = Field(
        "report", description="products in the target that no source record backs: report, unpublish, delete"
    )


EITHER = "either"
Entity = Literal["category", "product", "customer", "order"]


def _catalogue() -> list[Entity]:
    """A flow's entities when it names none: the catalogue."""
    return ["category", "product"]


# the canonical fields an ownership may name, per entity (a variant's field goes with its product's)
OWNED_FIELDS: dict[str, frozenset[str]] = {
    "category": frozenset({"name", "slug", "description", "parent_key"}),
    "product": frozenset(
        {
            "name",
            "description",
            "short_description",
            "active",
            "salable",
            "categories",
            "images",
            "list_price",
            "sale_price",
            "available",
            "weight",
            "tax_class",
            "attributes",
            "custom",
        }
    ),
    "customer": CUSTOMER_FIELDS - {"email"},  # the e-mail is the key both systems match by
}


class Ownership(Strict):
    """Which system owns each field of records both systems edit (a flow and its reverse flow).

    Each direction writes only the fields its source owns (and `either` fields changed on its side);
    a change on the side that does not own a field is reverted by the next sync or reported as a
    conflict, per field. Owners are connection names (the flow's source or target) or `either`.
    """

    default: str = Field(description="owner of every field not named in `fields`: a connection or either")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="canonical field -> owning connection, or either (the last change wins, a change on"
        " both sides between two syncs is a conflict); custom fields as custom.<name>",
    )
    conflicts: Literal["revert", "report"] = Field(
        "revert", description="a non-owner's change: write the owner's value back, or report it and wait"
    )
    conflict_fields: dict[str, Literal["revert", "report"]] = Field(
        default_factory=dict, description="field -> revert or report, where it differs from `conflicts`"
    )

    def owner(self, field: str) -> str:
        """The connection owning `field` (a variant's is its product's; custom.x falls back to custom)."""
        name = field.split(".", 1)[0] if field not in self.fields else field
        return self.fields.get(field, self.fields.get(name, self.default))

    def policy(self, field: str) -> str:
        """What a non-owner's change to `field` gets: revert or report."""
        name = field.split(".", 1)[0]
        return self.conflict_fields.get(field, self.conflict_fields.get(name, self.conflicts))


class FlowSettings(Strict):
    """One directed sync: source connection -> target connection for some entities."""

    name: str = Field(pattern=NAME_PATTERN)
    source: str
    target: str
    entities: list[Entity] = Field(
        default_factory=_catalogue,
        description="category and product together, customer alone, or order",
    )
    enabled: bool = True
    poll_interval: float = Field(2.0, gt=0, description="seconds between change-feed polls")
    webhook_poll_interval: float | None = Field(
        60.0,
        gt=0,
        description="seconds between polls of a feed whose connection delivers webhooks while they"
        " arrive; back to poll_interval when one is missed or found broken; none = always poll_interval",
    )
    batch_size: int = Field(100, ge=1, le=1000)
    mapping: dict[str, FieldRule] = Field(default_factory=dict, description="target field -> rule")
    variant_mapping: dict[str, FieldRule] = Field(default_factory=dict, description="the same for variants")
    target_owns: list[str] = Field(
        default_factory=list, description="fields the target owns: set on create, never overwritten"
    )
    ownership: Ownership | None = Field(
        None,
        description="a master per field for records both systems edit; the reverse flow (source and"
        " target swapped) takes the same ownership when it names none",
    )
    create_defaults: dict[str, str] = Field(
        default_factory=dict,
        description="what the target needs to create a record the source does not carry, in the"
        " target's terms (an ERP's unit, account_category, customer_taxes); never written on update",
    )
    filter: FilterSettings = FilterSettings()
    warehouses: list[str] | None = Field(None, description="warehouse codes that feed this shop; none = all")
    safety_stock: Decimal = Field(Decimal(0), ge=0, description="units held back from the shop")
    price_list: str | None = Field(None, description="price list for list_price; none = the list price")
    on_remove: Literal["unpublish", "delete", "ignore"] = "unpublish"
    orders: OrderOptions = OrderOptions()
    low_stock: LowStockSettings | None = Field(None, description="alert when available stock runs low")
    lag_threshold: float | None = Field(None, gt=0, description="seconds; none = alerts.lag_threshold")
    reconcile: ReconcileOptions = ReconcileOptions()

    @field_validator("entities")
    @classmethod
    def _known_order(cls, entities: list[str]) -> list[str]:
        if len(set(entities)) != len(entities):
            raise ValueError("each entity once")
        if "customer" in entities and len(entities) > 1:
            raise ValueError("customers travel in a flow of their own (entities: [customer])")
        return sorted(entities, key=ENTITIES.index)


Days = Annotated[int, Field(ge=0, le=36500)]


class RetentionSettings(Strict):
    """How many days of history the state database keeps (0: keep forever).

    The engine prunes every `interval_minutes`, `emporion db prune` on demand. Work still to do
    (unprocessed deliveries, open dead letters, open alerts) stays whatever its age.
    """

    journal_days: Days = Field(90, description="journal lines (every sync action, the record pages' history)")
    inbox_days: Days = Field(
        14, description="webhook deliveries once processed (their bodies hold customers' personal data)"
    )
    audit_days: Days = Field(365, description="audit lines (logins and console actions)")
    alerts_days: Days = Field(
        30, description="alerts once resolved, and conflicts once resolved or dismissed (the same age)"
    )
    reports_days: Days = Field(90, description="reconcile reports")
    dead_letters_days: Days = Field(30, description="dead letters once retried or discarded")
    interval_minutes: float = Field(60.0, ge=1, le=10080, description="how often the engine prunes")

    def ages(self) -> dict[str, timedelta]:
        """The age limit of each kind of history that is not kept forever."""
        days = {
            "journal": self.journal_days,
            "inbox": self.inbox_days,
            "audit": self.audit_days,
            "alerts": self.alerts_days,
            "reports": self.reports_days,
            "dead_letters": self.dead_letters_days,
            "conflicts": self.alerts_days,
        }
        return {name: timedelta(days=count) for name, count in days.items() if count > 0}


class StateSettings(Strict):
    url: str = Field(
        "sqlite:///emporion.db", description="sqlite:///path (relative to this file) or postgresql://"
    )
    lease_seconds: float = Field(
        30.0,
        ge=3,
        le=3600,
        description="how long a process holds a singleton job (change feed, initial sync, order "
        "reconcile, webhook registration) without renewing; another process takes over after it",
    )
    work_lease_seconds: float = Field(
        60.0,
        ge=5,
        le=86400,
        description="how long a claimed batch of work stays with its worker without renewal (a running "
        "batch is renewed every third of it); a dead worker's batch is claimable again after it",
    )
    retention: RetentionSettings = Field(default_factory=RetentionSettings)


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class ConsoleSettings(Strict):
    """The operations console and its API (`/api/v1`), its logins, sessions and `/metrics`."""

    enabled: bool = Field(True, description="serve /api/v1, /login, /logout and /metrics")
    secure_cookies: bool = Field(
        True, description="mark the session cookie Secure; off only for plain HTTP on a loopback host"
    )
    session_secret: Secret | None = Field(
        None, description="key that signs session cookies; none = generated into the secrets directory"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="how long a login lasts")
    login_attempts: int = Field(
        5, ge=1, description="failed logins per user name from one client address before a lockout"
    )
    login_address_attempts: int | None = Field(
        None, ge=1, description="failed logins from one address (any user names); none: 4 x login_attempts"
    )
    login_window: float = Field(300.0, gt=0, description="seconds over which failed logins count (lockout)")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="reverse proxies (addresses or networks) whose X-Forwarded-For names the client",
    )
    metrics: Literal["open", "read", "off"] = Field(
        "read", description="/metrics: open to all, a token or login with read scope, or not served"
    )


class ServerSettings(Strict):
    """The HTTP server of `emporion run` / `emporion serve`: webhook ingress and the console."""

    host: str = "127.0.0.1"
    port: int = Field(8800, ge=0, le=65535)
    public_url: str | None = Field(None, description="URL the shops reach this server at (for webhooks)")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names answered besides public_url's (and loopback's on a loopback or any-address "
        "bind); '*.example.com' for subdomains, '*' for any",
    )
    header_timeout: float = Field(10.0, gt=0, description="seconds a client has to send a request's headers")
    body_timeout: float = Field(30.0, gt=0, description="seconds a client has to send a request's body (408)")
    max_connections: int = Field(
        500, ge=1, description="open connections beyond this are answered 503 (keep below LimitNOFILE)"
    )
    console: ConsoleSettings = ConsoleSettings()


class EmailChannel(Strict):
    """Alerts by e-mail through an SMTP server (TLS verified)."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (port 587), ssl (implicit TLS, port 465), none (local relay only)"
    )
    username: str | None = None
    password: Secret | None = None
    from_: str = Field(alias="from", description="sender address")
    to: list[str] = Field(min_length=1, description="recipient addresses")
    tls: TLSSettings = TLSSettings()
    timeout: float = Field(30.0, gt=0)
    kinds: list[AlertKind] | None = Field(None, description="only these alert kinds; none = all")


class WebhookChannel(Strict):
    """Alerts as JSON to a chat or incident webhook; the URL is a secret (it carries the token)."""

    url: Secret
    format: Literal["slack", "teams", "generic"] = Field(
        "generic", description="slack: {text}; teams: an Adaptive Card message; generic: every field"
    )
    tls: TLSSettings = TLSSettings()
    timeout: float = Field(10.0, gt=0)
    kinds: list[AlertKind] | None = Field(None, description="only these alert kinds; none = all")


class AlertSettings(Strict):
    """Where alerts go and how often; with no channel they are only logged."""

    email: EmailChannel | None = None
    webhooks: list[WebhookChannel] = Field(default_factory=list)
    quiet_period: float = Field(
        3600.0, ge=0, description="seconds before the same alert is sent again (resolutions always are)"
    )
    lag_threshold: float = Field(300.0, gt=0, description="seconds a flow may be behind before an alert")
    check_interval: float = Field(5.0, gt=0, description="seconds between the monitors' checks")
    webhook_check_interval: float = Field(
        300.0, gt=0, description="seconds between checks that the shops' webhooks are still active"
    )


class RetrySettings(Strict):
    """Backoff of work that failed for a transient reason: exponential with full jitter, capped."""

    base: float = Field(2.0, gt=0, description="seconds; the n-th retry waits up to base * 2^n")
    max: float = Field(900.0, gt=0, description="seconds; no retry waits longer (unless Retry-After says)")


class LoggingSettings(Strict):
    format: Literal["json", "pretty"] = "pretty"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(Strict):
    """The whole configuration file."""

    version: Literal[1] = 1
    state: StateSettings = StateSettings()
    logging: LoggingSettings = LoggingSettings()
    server: ServerSettings = ServerSettings()
    alerts: AlertSettings = AlertSettings()
    retry: RetrySettings = RetrySettings()
    connections: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Connection]
    flows: list[FlowSettings] = Field(default_factory=list)

    def flow(self, name: str) -> FlowSettings:
        for flow in self.flows:
            if flow.name == name:
                return flow
        raise KeyError(name)


def _connections_type() -> Any:
    """`dict[name, <the union of every plugin's settings>]`, made at run time from the registry."""
    return dict.__class_getitem__((Annotated[str, Field(pattern=NAME_PATTERN)], connection_union()))


def _plugin_identity() -> tuple[tuple[str, int], ...]:
    """Which plugins the registry holds now (entry points found since, or registered in this process)."""
    return tuple((kind, id(plugin)) for kind, plugin in sorted(plugins().items()))


_model_plugins = [_plugin_identity()]


def settings_model() -> type[Settings]:
    """`Settings`, its connection types brought up to date with the plugins the registry holds now."""
    current = _plugin_identity()
    if current != _model_plugins[0]:
        Settings.model_fields["connections"].annotation = _connections_type()
        Settings.model_rebuild(force=True)
        _model_plugins[0] = current
    return Settings


def reference_problems(settings: Settings) -> list[tuple[tuple[Any, ...], str]]:
    """What the schema cannot see: flows naming unknown connections, flow names used twice."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: set[str] = set()
    if not settings.server.console.secure_cookies and settings.server.host not in LOOPBACK_HOSTS:
        problems.append(
            (
                ("server", "console", "secure_cookies"),
                "may be off only when server.host is a loopback address",
            )
        )
    for index, flow in enumerate(settings.flows):
        if flow.name in seen:
            problems.append((("flows", index, "name"), f"flow name {flow.name!r} is used twice"))
        seen.add(flow.name)
        for side, role in zip(("source", "target"), flow_roles(flow.entities), strict=True):
            name = flow.source if side == "source" else flow.target
            if name not in settings.connections:
                known = ", ".join(sorted(settings.connections)) or "none"
                problems.append((("flows", index, side), f"no connection named {name!r} (known: {known})"))
            elif role not in plugins()[settings.connections[name].type].roles:
                problems.append((("flows", index, side), role_problem(settings, flow.name, name, role)))
    for index, flow in enumerate(settings.flows):
        problems += _ownership_problems(settings, index, flow)
    for name, connection in settings.connections.items():
        if connection.takes_webhooks() and Role.WEBHOOK_SOURCE not in plugins()[connection.type].roles:
            problems.append((("connections", name), f"connection {name!r} cannot take webhooks"))
    return problems


def reverse_flow(settings: Settings, flow: FlowSettings) -> FlowSettings | None:
    """The flow that moves the same entities the other way (source and target swapped), if any."""
    for other in settings.flows:
        if (
            other.name != flow.name
            and other.source == flow.target
            and other.target == flow.source
            and set(other.entities) & set(flow.entities)
        ):
            return other
    return None


def ownership_of(settings: Settings, flow: FlowSettings) -> Ownership | None:
    """The flow's field ownership: its own, else its reverse flow's (one map serves both directions)."""
    if flow.ownership is not None:
        return flow.ownership
    partner = reverse_flow(settings, flow)
    return partner.ownership if partner is not None else None


def _ownership_problems(
    settings: Settings, index: int, flow: FlowSettings
) -> list[tuple[tuple[Any, ...], str]]:
    """Owners that are not the flow's connections, fields no entity has, and pairs that disagree."""
    ownership = flow.ownership
    if ownership is None:
        return []
    place: tuple[Any, ...] = ("flows", index, "ownership")
    allowed = {flow.source, flow.target, EITHER}
    problems: list[tuple[tuple[Any, ...], str]] = []
    if ownership.default not in allowed:
        names = ", ".join(sorted(allowed))
        problems.append(((*place, "default"), f"owner {ownership.default!r} is none of {names}"))
    known = frozenset().union(*(OWNED_FIELDS.get(entity, frozenset()) for entity in flow.entities))
    if "order" in flow.entities:
        problems.append(
            (place, "orders have no field owners (an order belongs to the shop it was placed in)")
        )
    for field, owner in ownership.fields.items():
        if field.split(".", 1)[0] not in known:
            fields = ", ".join(sorted(known))
            problems.append(
                ((*place, "fields", field), f"no field {field!r} in {flow.entities} (known: {fields})")
            )
        if owner not in allowed:
            names = ", ".join(sorted(allowed))
            problems.append(((*place, "fields", field), f"owner {owner!r} is none of {names}"))
    for field in ownership.conflict_fields:
        if field.split(".", 1)[0] not in known:
            problems.append(((*place, "conflict_fields", field), f"no field {field!r} in {flow.entities}"))
    partner = reverse_flow(settings, flow)
    if partner is not None and partner.ownership is not None and partner.ownership != ownership:
        reverse = f"flow {partner.name!r}, its reverse"
        problems.append((place, f"differs from the ownership of {reverse}: name it once, in one of them"))
    return problems


def role_problem(settings: Settings, flow: str, connection: str, role: Role) -> str:
    """Why a flow cannot use a connection: the role it needs and the roles the connection plays."""
    plugin = plugins()[settings.connections[connection].type]
    plays = ", ".join(sorted(plugin.roles)) or "none"
    return (
        f"flow {flow!r} needs {'an' if role[0] in 'aeiou' else 'a'} {role} but connection {connection!r}"
        f" ({plugin.title}) is not one"
        f" (it plays: {plays})"
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file (for editors and `emporion config schema`)."""
    schema = settings_model().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "emporion configuration"
    return schema


def _union_tag(loc: tuple[Any, ...], index: int) -> bool:
    """Whether `loc[index]` is the tag pydantic adds for the connection type (`connections.<name>.<type>`)."""
    return index == 2 and loc[0] == "connections" and loc[index] in plugins()


def _without_kind_tags(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """`loc` without the tags pydantic adds for unions told apart by `kind` (`auth.oauth2.token_url`)."""
    kept: list[Any] = []
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            values = {key.value: value for key, value in node.value}
            kind = values.get("kind")
            if str(part) not in values and isinstance(kind, yaml.ScalarNode) and kind.value == part:
                continue
            node = values.get(str(part))
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def _locate(root: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """Line and column in the YAML file of a pydantic error location (as far as it can be followed)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == str(part)), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    if node is None:
        return ""
    return f" (line {node.start_mark.line + 1}, column {node.start_mark.column + 1})"


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_settings(text: str, path: Path | None = None) -> Settings:
    """Validate YAML text; raise ConfigError listing every problem with where it is."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError([f"not valid YAML: {error}"], path) from None
    if not isinstance(data, dict):
        raise ConfigError(["the file must be a mapping (key: value) at the top"], path)
    problems: list[str] = []
    try:
        settings = settings_model().model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            # drop the tags pydantic adds for discriminated unions and validators
            loc = tuple(
                part
                for index, part in enumerate(item["loc"])
                if not _union_tag(item["loc"], index)
                and not str(part).startswith("function-")
                and part != "[key]"
            )
            loc = _without_kind_tags(root, loc)
            message = item["msg"].removeprefix("Value error, ")
            place = _dotted(loc) or "(top level)"
            problems.append(f"{place}: {message}{_locate(root, loc)}")
        raise ConfigError(problems, path) from None
    for loc, message in reference_problems(settings):
        problems.append(f"{_dotted(loc)}: {message}{_locate(root, loc)}")
    if problems:
        raise ConfigError(problems, path)
    if path is not None:
        settings.state.url = _relative_sqlite(settings.state.url, path.parent)
    return settings


def _relative_sqlite(url: str, base: Path) -> str:
    match = re.fullmatch(r"sqlite(\+\w+)?:///(.+)", url)
    if match and not match.group(2).startswith("/") and match.group(2) != ":memory:":
        return f"sqlite{match.group(1) or ''}:///{(base / match.group(2)).resolve()}"
    return url


def load_settings(path: str | Path) -> Settings:
    """Read and validate a configuration file."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"cannot read the configuration: {error.strerror}"], config_path) from None
    except UnicodeDecodeError as error:
        line = config_path.read_bytes()[: error.start].count(b"\n") + 1
        byte = error.object[error.start]
        problem = f"line {line}: the file is not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8"
        raise ConfigError([problem], config_path) from None
    return parse_settings(text, config_path)
