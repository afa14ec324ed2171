"""`emporion webhooks ...`: register the shops' webhooks towards this server."""

from __future__ import annotations

from pathlib import Path

import typer

from emporion.cli.common import (
    NOT_CLEAN,
    ConfigOption,
    console,
    err,
    fail,
    load,
    naming_connections,
    open_store,
    run_async,
    webhook_secrets,
)

webhooks_app = typer.Typer(help="The shops' webhooks towards this server.", no_args_is_help=True)


@webhooks_app.command("ensure")
def webhooks_ensure(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Register (or re-activate) the webhooks of every connection with `webhooks: true`."""
    settings = load(config)
    if not settings.server.public_url:
        fail("[red]server.public_url is not set[/]: the shops need a URL to deliver to")

    async def work() -> dict[str, list[str]]:
        from emporion.engine.connections import ConnectorPool
        from emporion.server.registration import ensure_all

        store = await open_store(settings.state.url)
        try:
            installation = await store.installation_id()  # the webhooks of this installation carry it
        finally:
            await store.close()
        pool = ConnectorPool(settings)
        try:
            async with naming_connections(pool):
                return await ensure_all(settings, pool, webhook_secrets(settings, config), installation)
        finally:
            await pool.close()

    registered = run_async(work)
    if not registered:
        err.print("no connection takes webhooks (webhooks: true on a shop that is the source of orders)")
        raise typer.Exit(NOT_CLEAN)
    for name, ids in registered.items():
        console.print(f"[green]{name}[/]: webhooks {', '.join(map(str, ids))} active")
