"""The `emporion` command: check, plan, sync, run, status, and the demo and sandbox tools.

Exit codes: 0 success, 1 the work finished but is not clean (failed checks, drift, dead letters),
2 the configuration or the command line is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emporion import __version__
from emporion.config import ConfigError, Settings, json_schema, load_settings
from emporion.console import render_checks, render_circuits, render_plan, render_report
from emporion.engine.connections import ConnectorPool
from emporion.engine.flow import FlowRunner
from emporion.engine.sync import FlowReport, sync_flow, verify_flow
from emporion.engine.worker import Engine
from emporion.logs import configure_logging

T = TypeVar("T")
app = typer.Typer(help="Keeps an ERP and online shops in sync.", no_args_is_help=True, add_completion=False)
config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)
db_app = typer.Typer(help="The state database.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
console = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="EMPORION_CONFIG", help="The YAML configuration file."),
]
FlowOption = Annotated[list[str] | None, typer.Option("--flow", "-f", help="Only these flows (repeatable).")]


def _settings(path: Path) -> Settings:
    try:
        settings = load_settings(path)
    except ConfigError as error:
        err.print(f"[red]configuration error in {error.path or path}[/]")
        for problem in error.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2) from None
    configure_logging(settings.logging.format, settings.logging.level)
    return settings


def _flows(settings: Settings, names: list[str] | None) -> list[str]:
    known = [flow.name for flow in settings.flows if flow.enabled]
    for name in names or []:
        if name not in known:
            err.print(f"[red]no enabled flow named {name!r}[/] (known: {', '.join(known) or 'none'})")
            raise typer.Exit(2)
    return list(names) if names else known


def _run(call: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(call)


async def _with_engine(settings: Settings, work: Callable[[Engine], Awaitable[T]]) -> T:
    from emporion.alerts.dispatcher import alerts_from_settings
    from emporion.state import StateStore

    store = await StateStore.connect(settings.state.url, migrate=True)
    pool = ConnectorPool(settings)
    try:
        return await work(Engine(settings, store, pool, alerts=alerts_from_settings(settings, store)))
    finally:
        await pool.close()
        await store.close()


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """emporion keeps a merchant's ERP and their online shops in sync."""
    if version:
        console.print(f"emporion {__version__}")
        raise typer.Exit(0)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration file."""
    print(json.dumps(json_schema(), indent=2))


@config_app.command("validate")
def config_validate(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Validate the configuration file without connecting to anything."""
    settings = _settings(config)
    console.print(
        f"[green]{config} is valid[/]: {len(settings.connections)} connections, {len(settings.flows)} flows"
    )


@app.command()
def check(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Validate the configuration, connect to each system and check its permissions."""
    settings = _settings(config)
    console.print(f"[green]configuration {config} is valid[/]")

    async def run() -> bool:
        from emporion.state import SchemaNotCurrent, StateStore

        ok = True
        pool = ConnectorPool(settings)
        try:
            for name in settings.connections:
                try:
                    results = await pool.get(name).check()
                except Exception as error:  # a broken connector must not hide the other checks
                    from emporion.connectors.base import CheckResult

                    results = [CheckResult("connect", False, str(error))]
                render_checks(console, name, results)
                ok = ok and all(result.ok for result in results)
        finally:
            await pool.close()
        try:
            store = await StateStore.connect(settings.state.url, migrate=False)
            await store.close()
            console.print("  [green]ok[/] state database: reachable and up to date")
        except SchemaNotCurrent:
            console.print("  [green]ok[/] state database: reachable; tables are created on the first sync")
        except Exception as error:
            console.print(f"  [red]FAIL[/] state database: {error}")
            ok = False
        return ok

    raise typer.Exit(0 if _run(run) else 1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


async def _sync_all(engine: Engine, flows: list[str], *, dry_run: bool, verify: bool) -> list[FlowReport]:
    reports = []
    with _progress() as progress:
        tasks: dict[tuple[str, str], Any] = {}
        for name in flows:
            if name not in engine.runners:
                continue  # order flows have no bulk sync: their feeds and sliding window bring orders
            runner: FlowRunner = engine.runners[name]

            def advance(entity: str, count: int, name: str = name) -> None:
                if (name, entity) not in tasks:
                    tasks[(name, entity)] = progress.add_task(f"{name} {entity}", total=None)
                progress.advance(tasks[(name, entity)], count)

            report = await sync_flow(runner, dry_run=dry_run, progress=advance)
            if verify and not dry_run:
                report = await verify_flow(runner, report)
            reports.append(report)
    return reports


@app.command()
def plan(config: ConfigOption = Path("emporion.yaml"), flow: FlowOption = None) -> None:
    """Show what a sync would create, update and remove per entity, without writing anything."""
    settings = _settings(config)
    names = _flows(settings, flow)
    reports = _run(lambda: _with_engine(settings, lambda e: _sync_all(e, names, dry_run=True, verify=False)))
    for report in reports:
        render_plan(console, report)


@app.command()
def sync(
    config: ConfigOption = Path("emporion.yaml"),
    flow: FlowOption = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Compare both sides afterwards.")
    ] = True,
) -> None:
    """Sync every record of the flows now, then report what differs (exit 1 if anything does)."""
    settings = _settings(config)
    names = _flows(settings, flow)
    reports = _run(
        lambda: _with_engine(settings, lambda e: _sync_all(e, names, dry_run=False, verify=verify))
    )
    for report in reports:
        render_report(console, report)
    raise typer.Exit(0 if all(r.clean for r in reports) or not verify else 1)


@app.command()
def verify(config: ConfigOption = Path("emporion.yaml"), flow: FlowOption = None) -> None:
    """Compare the flows' records on both sides, field by field, without writing."""
    settings = _settings(config)
    names = _flows(settings, flow)

    async def work(engine: Engine) -> list[FlowReport]:
        return [await verify_flow(engine.runners[name]) for name in names if name in engine.runners]

    reports = _run(lambda: _with_engine(settings, work))
    for report in reports:
        render_report(console, report)
    raise typer.Exit(0 if all(r.clean for r in reports) else 1)


@app.command()
def run(
    config: ConfigOption = Path("emporion.yaml"),
    once: Annotated[bool, typer.Option("--once", help="Poll and work until idle, then exit.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Also serve webhooks (server.host:port).")
    ] = True,
) -> None:
    """Follow the change feeds and keep the targets in sync until stopped (Ctrl-C)."""
    settings = _settings(config)

    async def work(engine: Engine) -> None:
        if once:
            from emporion.engine.inbox import InboxProcessor

            await engine.ensure_initial_sync()
            inbox = InboxProcessor(settings, engine.store, engine.pool, engine.worker)
            while await inbox.process_once():  # deliveries a `serve` process has kept
                pass
            for runner in [*engine.runners.values(), *engine.order_flows.values()]:
                await engine.drain(runner.flow)
            return
        await engine.run(serve=serve, secrets=_webhook_secrets(settings, config))

    try:
        _run(lambda: _with_engine(settings, work))
    except KeyboardInterrupt:
        err.print("stopped")


def _webhook_secrets(settings: Settings, config: Path) -> Any:
    from emporion.server.secrets import WebhookSecrets, secrets_dir

    return WebhookSecrets(settings, secrets_dir(settings, config.parent))


@app.command()
def serve(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Serve only the HTTP side (webhooks into the inbox); workers elsewhere process it (PostgreSQL)."""
    settings = _settings(config)

    async def work() -> None:
        from emporion.server.app import run_server
        from emporion.state import StateStore

        store = await StateStore.connect(settings.state.url, migrate=True)
        pool = ConnectorPool(settings)
        try:
            stop = anyio.Event()
            async with anyio.create_task_group() as group:
                from emporion.cli_worker import stop_on_signal

                group.start_soon(stop_on_signal, stop)  # SIGTERM: give the webhooks lease back, exit 0
                secrets = _webhook_secrets(settings, config)
                port = await group.start(run_server, settings, store, pool, stop, secrets)
                err.print(f"serving webhooks on http://{settings.server.host}:{port}")
        finally:
            await pool.close()
            await store.close()

    try:
        _run(work)
    except KeyboardInterrupt:
        err.print("stopped")


webhooks_app = typer.Typer(help="The shops' webhooks towards this server.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("ensure")
def webhooks_ensure(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Register (or re-activate) the webhooks of every connection with `webhooks: true`."""
    settings = _settings(config)
    if not settings.server.public_url:
        err.print("[red]server.public_url is not set[/]: the shops need a URL to deliver to")
        raise typer.Exit(2)

    async def work() -> dict[str, list[int]]:
        from emporion.server.registration import ensure_all

        pool = ConnectorPool(settings)
        try:
            return await ensure_all(settings, pool, _webhook_secrets(settings, config))
        finally:
            await pool.close()

    registered = _run(work)
    if not registered:
        err.print("no connection takes webhooks (webhooks: true on a shop that is the source of orders)")
        raise typer.Exit(1)
    for name, ids in registered.items():
        console.print(f"[green]{name}[/]: webhooks {', '.join(map(str, ids))} active")


@app.command()
def status(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Queue depth, links and open dead letters per flow, and each connection's circuit breaker."""
    settings = _settings(config)
    circuits = []

    async def work(engine: Engine) -> list[tuple[str, str, int, int]]:
        circuits.extend(await engine.store.circuits())
        depth = await engine.store.queue_depth()
        rows = []
        for flow in settings.flows:
            if not flow.enabled:
                continue
            for entity in engine.queue_entities(flow):
                links = await engine.store.count_links(flow.name, entity)
                rows.append((flow.name, entity, links, depth.get((flow.name, entity), 0)))
        dead = await engine.store.list_dead(limit=1000)
        rows.append(("dead letters", "open", len(dead), 0))
        return rows

    from rich.table import Table

    table = Table(title="emporion status")
    for column in ("flow", "entity", "linked", "queued"):
        table.add_column(column)
    for row in _run(lambda: _with_engine(settings, work)):
        table.add_row(*map(str, row))
    console.print(table)
    render_circuits(console, list(settings.connections), circuits)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Apply the state database migrations."""
    settings = _settings(config)
    from emporion.state import StateStore

    _run(lambda: StateStore.migrate(settings.state.url))
    console.print("[green]state database is up to date[/]")


@db_app.command("prune")
def db_prune(
    config: ConfigOption = Path("emporion.yaml"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
) -> None:
    """Forget history older than `state.retention` allows (the engine also does this on its own)."""
    settings = _settings(config)
    from emporion.state import StateStore

    ages = settings.state.retention.ages()

    async def prune() -> dict[str, int]:
        store = await StateStore.connect(settings.state.url, migrate=True)
        try:
            return await store.prune(ages, dry_run=dry_run)
        finally:
            await store.close()

    removed = _run(prune)
    from rich.table import Table

    table = Table(title="would be removed" if dry_run else "removed")
    for column in ("history", "older than", "rows"):
        table.add_column(column)
    for name, count in removed.items():
        table.add_row(name, f"{ages[name].days} days", str(count))
    console.print(table)


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Sync, verify and exit (0 only if clean).")] = False,
    products: Annotated[int, typer.Option(help="Products in the sample catalogue.")] = 500,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path(
        "var/demo"
    ),
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from a new ERP, shop and state.")] = False,
    simulate_orders: Annotated[float, typer.Option(help="Orders per second from simulated shoppers.")] = 0.2,
) -> None:
    """Start a Tryton ERP with a sample catalogue and a WooCommerce sandbox, sync them, and take orders."""
    from emporion.demo import run_demo

    code = run_demo(
        directory, products=products, once=once, fresh=fresh, console=console, simulate_orders=simulate_orders
    )
    raise typer.Exit(code)


erp_app = typer.Typer(
    help="Change data in a configured Tryton ERP, as a merchant would.", no_args_is_help=True
)
app.add_typer(erp_app, name="erp")
ConnectionOption = Annotated[
    str | None, typer.Option("--connection", help="The Tryton connection (default: the first one).")
]


def _erp_client(config: Path, connection: str | None) -> Any:
    from emporion.config import TrytonConnection
    from emporion.connectors.tryton import TrytonClient
    from emporion.engine.connections import tls_verify

    settings = _settings(config)
    names = [n for n, c in settings.connections.items() if isinstance(c, TrytonConnection)]
    name = connection or (names[0] if names else None)
    if name not in names:
        err.print(f"[red]no Tryton connection {name!r} in {config}[/] (known: {', '.join(names) or 'none'})")
        raise typer.Exit(2)
    erp = settings.connections[name]
    assert isinstance(erp, TrytonConnection)
    return TrytonClient(
        erp.url, erp.database, erp.username, erp.password.get_secret_value(), verify=tls_verify(erp)
    )


def _erp_action(config: Path, connection: str | None, action: Callable[[Any], Awaitable[None]]) -> None:
    async def work() -> None:
        client = _erp_client(config, connection)
        try:
            await action(client)
        finally:
            await client.close()

    from emporion.connectors.base import ConnectorError

    try:
        _run(work)
    except LookupError as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(1) from None
    except ConnectorError as error:
        err.print(f"[red]the ERP refused: {error}[/]")
        raise typer.Exit(1) from None


@erp_app.command("price")
def erp_price(
    sku: str,
    price: Decimal,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Set the list price of the product with this SKU."""
    from emporion.demo.erp_changes import set_list_price

    _erp_action(config, connection, lambda client: set_list_price(client, sku, price))
    console.print(f"list price of {sku} is now {price}")


@erp_app.command("stock")
def erp_stock(
    sku: str,
    quantity: Decimal,
    warehouse: Annotated[str, typer.Option(help="Warehouse code.")] = "WH",
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Book QUANTITY units of SKU into the warehouse (negative: out of it)."""
    from emporion.demo.erp_changes import receive_stock

    _erp_action(config, connection, lambda client: receive_stock(client, sku, quantity, warehouse))
    console.print(f"booked {quantity} x {sku} in {warehouse}")


@erp_app.command("rename")
def erp_rename(
    sku: str,
    name: str,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Rename the product with this SKU."""
    from emporion.demo.erp_changes import rename

    _erp_action(config, connection, lambda client: rename(client, sku, name))
    console.print(f"{sku} is now called {name!r}")


@erp_app.command("ship")
def erp_ship(
    reference: str,
    tracking: str,
    carrier: Annotated[str | None, typer.Option(help="Carrier name (default: the sale's).")] = None,
    config: ConfigOption = Path("emporion.yaml"),
    connection: ConnectionOption = None,
) -> None:
    """Ship the sale with this reference (e.g. WEB-1042) with a tracking number, and post its invoice."""
    from emporion.demo.erp_orders import post_invoices, ship_sale

    async def action(client: Any) -> None:
        await ship_sale(client, reference, tracking, carrier)
        await post_invoices(client, reference)

    _erp_action(config, connection, action)
    console.print(f"sale {reference} shipped with tracking number {tracking}")


@erp_app.command("cancel")
def erp_cancel(
    reference: str, config: ConfigOption = Path("emporion.yaml"), connection: ConnectionOption = None
) -> None:
    """Cancel the sale with this reference."""
    from emporion.demo.erp_orders import cancel_sale

    _erp_action(config, connection, lambda client: cancel_sale(client, reference))
    console.print(f"sale {reference} cancelled")


def _mount_tools() -> None:
    from emporion.alerts.cli import alerts_app
    from emporion.cli_console import token_app, user_app
    from emporion.cli_dead import dead_app
    from emporion.cli_reconcile import reconcile
    from emporion.cli_worker import worker
    from emporion.erp.cli import tryton_app
    from emporion.sandbox.cli import sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="Local stand-ins for shops that cannot run here.")
    app.add_typer(tryton_app, name="tryton", help="Create and serve a Tryton ERP for the demo and tests.")
    app.add_typer(alerts_app, name="alerts", help="Alerts: what was raised, and a test through the channels.")
    app.add_typer(dead_app, name="dead")
    app.command("reconcile")(reconcile)
    app.command()(worker)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


_mount_tools()
