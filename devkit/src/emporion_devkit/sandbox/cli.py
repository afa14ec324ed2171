"""`emporion sandbox ...`: start a local stand-in for a SaaS shop."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

sandbox_app = typer.Typer(
    help="Local stand-ins for SaaS shops and ERPs: try a configuration, run tests and demos."
)


@sandbox_app.callback()
def main() -> None:
    """Local stand-ins for SaaS shops, served over real HTTP."""


@sandbox_app.command("woocommerce")
def woocommerce(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 = a free one).")] = 8801,
    db: Annotated[
        str, typer.Option(help="SQLite file that keeps the shop, or :memory:.")
    ] = "sandbox-wc.sqlite",
    consumer_key: Annotated[
        str | None, typer.Option(help="API consumer key (ck_...), else generated.")
    ] = None,
    consumer_secret: Annotated[str | None, typer.Option(help="API consumer secret (cs_...).")] = None,
    simulate_orders: Annotated[float, typer.Option(help="Orders per second from simulated shoppers.")] = 0.0,
    trust_forwarded_proto: Annotated[
        bool, typer.Option(help="Treat X-Forwarded-Proto: https as HTTPS (a TLS proxy in front).")
    ] = True,
    seed: Annotated[
        int | None, typer.Option(help="Seed for the shopper simulator and fault injector.")
    ] = None,
    currency: Annotated[str, typer.Option(help="The store currency (ISO 4217).")] = "EUR",
    latency: Annotated[
        str, typer.Option(help="Latency model: none (answer at once) or wc10 (WooCommerce 10 on 2 cores).")
    ] = "none",
    latency_scale: Annotated[
        float, typer.Option(help="Cost factor of the latency model (3 = three times slower).")
    ] = 1.0,
    latency_time_scale: Annotated[
        float, typer.Option(help="Wall seconds per model second (0.1 = ten times faster).")
    ] = 1.0,
    latency_workers: Annotated[int, typer.Option(help="PHP workers of the latency model.")] = 5,
    latency_background: Annotated[
        float, typer.Option(help="Seconds a background job after product creates holds a worker.")
    ] = 30.0,
    timezone: Annotated[
        str | None, typer.Option(help="The site's time zone (e.g. Europe/Berlin); UTC if not given.")
    ] = None,
    webhook_delay: Annotated[
        float, typer.Option(help="Seconds webhook deliveries wait, as for WP-Cron (about 11 on a real shop).")
    ] = 0.0,
    money_lines: Annotated[bool, typer.Option(help="Simulated shoppers also use coupons and fees.")] = False,
) -> None:
    """Serve a WooCommerce-compatible shop (REST API v3 and webhooks) until interrupted."""
    from emporion_devkit.sandbox.woocommerce import SandboxShop
    from emporion_devkit.sandbox.woocommerce.latency import LatencyModel

    logging.basicConfig(level=logging.WARNING)
    model = None
    if latency != "none":
        try:
            model = LatencyModel.named(
                latency,
                scale=latency_scale,
                time_scale=latency_time_scale,
                workers=latency_workers,
                background_s=latency_background,
                seed=seed if seed is not None else 0,
            )
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--latency") from None
    try:
        shop = SandboxShop(
            db=db,
            host=host,
            port=port,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            trust_forwarded_proto=trust_forwarded_proto,
            seed=seed,
            currency=currency,
            latency=model,
            timezone=timezone,
            webhook_delay=webhook_delay,
        )
    except ValueError as error:  # an unknown time zone
        raise typer.BadParameter(str(error), param_hint="--timezone") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        """Turn SIGTERM into the same clean shutdown as Ctrl-C."""
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    shop.start()
    typer.echo(f"WooCommerce sandbox: {shop.base_url}")
    typer.echo(f"REST API:            {shop.api_url}")
    typer.echo(f"consumer key:        {shop.consumer_key}")
    typer.echo(f"consumer secret:     {shop.consumer_secret}")
    typer.echo(f"database:            {db}")
    if model is not None:
        typer.echo(f"latency model:       {model.name} x{model.scale:g}, {model.workers} workers")
    sys.stdout.flush()
    if simulate_orders > 0:
        shop.simulate_orders(simulate_orders, money_lines)
        typer.echo(f"simulated shoppers:  {simulate_orders:g} orders/s")
    try:
        shop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        shop.stop()


@sandbox_app.command("odoo")
def odoo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 = a free one).")] = 8869,
    db: Annotated[
        str, typer.Option(help="SQLite file that keeps the database, or :memory:.")
    ] = "sandbox-odoo.sqlite",
    version: Annotated[int, typer.Option(help="The Odoo version to play: 17, 18 or 19.")] = 18,
    api_key: Annotated[
        str | None,
        typer.Option(help="The integration user's API key, else generated (kept in the database)."),
    ] = None,
    key_days: Annotated[
        int | None, typer.Option(help="Days until the API key expires (18 and 19 refuse expired keys).")
    ] = None,
    products: Annotated[int, typer.Option(help="Templates in the sample catalogue of a new database.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the sample catalogue.")] = 1,
) -> None:
    """Serve an Odoo-compatible ERP (JSON-RPC; JSON-2 on 19) until interrupted."""
    from datetime import UTC, datetime, timedelta

    from emporion_devkit.sandbox.odoo import OdooSandbox
    from emporion_devkit.sandbox.odoo.access import new_key

    logging.basicConfig(level=logging.WARNING)
    if version not in (17, 18, 19):
        raise typer.BadParameter("the sandbox plays Odoo 17, 18 or 19", param_hint="--version")
    key = api_key or new_key()
    expires = datetime.now(UTC) + timedelta(days=key_days) if key_days is not None else None
    sandbox = OdooSandbox(
        db,
        version=version,
        api_key=key,
        key_expires=expires,
        products=products,
        seed=seed,
        host=host,
        port=port,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        """Turn SIGTERM into the same clean shutdown as Ctrl-C."""
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sandbox.start()
    typer.echo(f"Odoo {version} sandbox: {sandbox.base_url}")
    typer.echo(f"database:          {sandbox.database}")
    typer.echo(f"login:             {sandbox.username}")
    typer.echo(f"API key:           {key}")
    typer.echo("admin:             admin / admin")
    typer.echo(f"SQLite file:       {db}")
    sys.stdout.flush()
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
