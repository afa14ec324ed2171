"""One YAML file -> validated settings; secrets come from the environment or secret files.

Errors name the exact place in the file (`flows[0].mapping.name.template`, line and column) so that
`emporion check` can say precisely what is wrong and where.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from emporion.alerts import AlertKind
from emporion.logs import add_secret

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ENTITIES = ("category", "product", "customer", "order")


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists each one with its place in the file."""

    def __init__(self, problems: list[str], path: Path | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def resolve_secret(value: Any) -> SecretStr:
    """Turn `env:NAME`, `file:/path`, {env: NAME}, {file: path} or a literal into a SecretStr.

    Every resolved value is also registered with the log redaction, so that it never shows in a log.
    """
    secret = _resolve_secret(value)
    add_secret(secret.get_secret_value())
    return secret


def _resolve_secret(value: Any) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, dict):
        if set(value) == {"env"}:
            value = f"env:{value['env']}"
        elif set(value) == {"file"}:
            value = f"file:{value['file']}"
        else:
            raise ValueError("a secret is a string, {env: NAME} or {file: PATH}")
    if not isinstance(value, str):
        raise ValueError("a secret must be a string")
    if value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return SecretStr(os.environ[name])
    if value.startswith("file:"):
        secret_path = Path(value[5:]).expanduser()
        try:
            return SecretStr(secret_path.read_text(encoding="utf-8").strip())
        except OSError as error:
            raise ValueError(f"cannot read secret file {secret_path}: {error.strerror}") from None
    return SecretStr(value)


Secret = Annotated[
    SecretStr,
    WithJsonSchema(
        {
            "description": "env:NAME, file:/path, {env: NAME}, {file: PATH}, or (not recommended) the value",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"env": {"type": "string"}},
                    "required": ["env"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"file": {"type": "string"}},
                    "required": ["file"],
                    "additionalProperties": False,
                },
            ],
        }
    ),
]


class TLSSettings(Strict):
    verify: bool = True
    ca_bundle: str | None = Field(None, description="PEM file of CAs to trust instead of the system's")


class CircuitSettings(Strict):
    """The connection's circuit breaker: when to stop calling a system that is down, and when to probe."""

    failure_threshold: int = Field(
        5, ge=1, le=1000, description="transient failures in a row (timeouts, 5xx, 429) that open it"
    )
    cooldown: float = Field(10.0, gt=0, description="seconds it stays open before one probe call goes")
    max_cooldown: float = Field(300.0, gt=0, description="the cooldown doubles per failed probe up to this")

    @model_validator(mode="after")
    def _ordered(self) -> CircuitSettings:
        if self.max_cooldown < self.cooldown:
            raise ValueError("max_cooldown must be at least cooldown")
        return self


class TrytonConnection(Strict):
    """A Tryton server reached over its JSON-RPC HTTP API."""

    type: Literal["tryton"]
    url: str = Field(description="server URL, e.g. https://erp.example.com:8000")
    database: str
    username: str
    password: Secret
    tls: TLSSettings = TLSSettings()
    timeout: float = 60.0
    max_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="requests in flight at once (keep it small for a Tryton on SQLite: one writer at a time)",
    )
    overlap_seconds: float = Field(30.0, description="how far each change-feed poll looks back")
    page_size: int = Field(500, ge=1, le=5000)
    custom_fields: dict[str, str] = Field(default_factory=dict, description="custom name -> Tryton field")
    price_lists: list[str] = Field(default_factory=list, description="price lists to read prices from")
    sale_price_list: str | None = Field(None, description="price list whose dated lines are sale prices")
    circuit: CircuitSettings = CircuitSettings()


class WooCommerceConnection(Strict):
    """A WooCommerce shop (or the sandbox) reached over its REST API v3."""

    type: Literal["woocommerce"]
    url: str = Field(description="the store URL; the API is URL/wp-json/wc/v3")
    consumer_key: Secret
    consumer_secret: Secret
    tls: TLSSettings = TLSSettings()
    timeout: float = 30.0
    max_requests_per_second: float | None = Field(None, gt=0)
    max_concurrency: int = Field(4, ge=1, le=64)
    batch_size: int = Field(100, ge=1, le=100)
    retries: int = Field(
        2,
        ge=0,
        le=10,
        description="quick retries of a GET that failed transiently, or of a request refused by 429",
    )
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1"] = "HMAC-SHA256"
    webhooks: bool = Field(False, description="register webhooks in the shop and take deliveries")
    webhook_secret: Secret | None = Field(
        None, description="none: generated and kept beside the state database"
    )
    circuit: CircuitSettings = CircuitSettings()


Connection = Annotated[TrytonConnection | WooCommerceConnection, Field(discriminator="type")]
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "tryton": ("password",),
    "woocommerce": ("consumer_key", "consumer_secret", "webhook_secret"),
}


class FieldRule(Strict):
    """How one target field gets its value: a source, then an optional value map, then rounding."""

    from_: str | None = Field(None, alias="from", description="copy this source field (dotted path)")
    constant: Any = None
    template: str | None = Field(None, description="Jinja2 template over the record, e.g. '{{ name }}'")
    expression: str | None = Field(None, description="Jinja2 expression, e.g. list_price * decimal('1.19')")
    map: dict[str, Any] | None = Field(None, description="value map, applied to each item of a list")
    default: Any = Field(None, description="value for what the map does not list (else kept as it is)")
    strict: bool = Field(False, description="a value the map does not list is an error (dead letter)")
    round: int | None = Field(None, ge=0, le=6, description="decimal places, half up")

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [
            name
            for name, value in (
                ("from", self.from_),
                ("template", self.template),
                ("expression", self.expression),
            )
            if value is not None
        ]
        if "constant" in self.model_fields_set:
            sources.append("constant")
        if len(sources) > 1:
            raise ValueError(f"give one of from, constant, template, expression (got {', '.join(sources)})")
        if not sources and self.map is None and self.round is None:
            raise ValueError("a rule needs a source (from, constant, template, expression), a map or round")
        return self


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


DEFAULT_STATUSES = {
    "pending": "pending",
    "on-hold": "on-hold",
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
        default_factory=lambda: ["processing", "on-hold", "completed"],
        description="shop statuses whose orders go to the ERP (others wait)",
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
        default_factory=lambda: dict(DEFAULT_STATUSES), description="ERP order status -> shop status"
    )
    tracking_note: Literal["customer", "private", "none"] = "customer"
    invoice_note: Literal["customer", "private", "none"] = "private"
    refund_payout: bool = Field(False, description="refunds from the ERP make the shop pay the money out")
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


class FlowSettings(Strict):
    """One directed sync: source connection -> target connection for some entities."""

    name: str = Field(pattern=NAME_PATTERN)
    source: str
    target: str
    entities: list[Literal["category", "product", "order"]] = Field(
        default_factory=lambda: ["category", "product"]
    )
    enabled: bool = True
    poll_interval: float = Field(2.0, gt=0, description="seconds between change-feed polls")
    batch_size: int = Field(100, ge=1, le=1000)
    mapping: dict[str, FieldRule] = Field(default_factory=dict, description="target field -> rule")
    variant_mapping: dict[str, FieldRule] = Field(default_factory=dict, description="the same for variants")
    target_owns: list[str] = Field(
        default_factory=list, description="fields the target owns: set on create, never overwritten"
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
    alerts_days: Days = Field(30, description="alerts once resolved")
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
        5, ge=1, description="failed logins per user and per client address before a lockout"
    )
    login_window: float = Field(300.0, gt=0, description="seconds over which failed logins count (lockout)")
    metrics: Literal["open", "read", "off"] = Field(
        "read", description="/metrics: open to all, a token or login with read scope, or not served"
    )


class ServerSettings(Strict):
    """The HTTP server of `emporion run` / `emporion serve`: webhook ingress and the console."""

    host: str = "127.0.0.1"
    port: int = Field(8800, ge=0, le=65535)
    public_url: str | None = Field(None, description="URL the shops reach this server at (for webhooks)")
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
        for role in ("source", "target"):
            name = getattr(flow, role)
            if name not in settings.connections:
                known = ", ".join(sorted(settings.connections)) or "none"
                problems.append((("flows", index, role), f"no connection named {name!r} (known: {known})"))
    return problems


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file (for editors and `emporion config schema`)."""
    schema = Settings.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "emporion configuration"
    return schema


def _secret_paths(data: Any) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = []
    alerts = data.get("alerts") if isinstance(data, dict) else None
    if isinstance(alerts, dict):
        email = alerts.get("email")
        if isinstance(email, dict) and email.get("password") is not None:
            paths.append(("alerts", "email", "password"))
        hooks = alerts.get("webhooks")
        for index, hook in enumerate(hooks if isinstance(hooks, list) else []):
            if isinstance(hook, dict) and "url" in hook:
                paths.append(("alerts", "webhooks", index, "url"))
    connections = data.get("connections") if isinstance(data, dict) else None
    if isinstance(connections, dict):
        for name, connection in connections.items():
            if not isinstance(connection, dict):
                continue
            for field in SECRET_FIELDS.get(str(connection.get("type")), ()):
                if field in connection:
                    paths.append(("connections", name, field))
    return paths


def _resolve_secrets(data: dict[str, Any]) -> list[str]:
    problems = []
    for path in _secret_paths(data):
        holder = data
        for part in path[:-1]:
            holder = holder[part]
        try:
            holder[path[-1]] = resolve_secret(holder[path[-1]])
        except ValueError as error:
            holder[path[-1]] = SecretStr("")  # reported here; the schema need not report it again
            problems.append(f"{_dotted(path)}: {error}")
    return problems


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
    problems = _resolve_secrets(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            # drop the tags pydantic adds for discriminated unions and validators
            loc = tuple(
                part
                for part in item["loc"]
                if part not in SECRET_FIELDS and not str(part).startswith("function-")
            )
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
    return parse_settings(text, config_path)
