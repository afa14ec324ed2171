"""`emporion alerts ...`: the alerts raised recently, and a test message through every channel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from emporion.alerts import Alert, AlertKind, Severity
from emporion.cli.common import NOT_CLEAN, ConfigOption, console, exit_clean, load, open_store, run_async

if TYPE_CHECKING:
    from emporion.state import AlertRecord

alerts_app = typer.Typer(
    help="Alerts: what was raised, and a test through the channels.", no_args_is_help=True
)


@alerts_app.command("list")
def list_alerts(
    config: ConfigOption = Path("emporion.yaml"),
    status: Annotated[
        Literal["open", "resolved"] | None, typer.Option(help="Only open or only resolved alerts.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, the most recently seen first.")] = 50,
) -> None:
    """The alerts recorded in the state database, the most recently seen first."""
    settings = load(config)

    async def read() -> list[AlertRecord]:
        store = await open_store(settings.state.url)
        try:
            return await store.list_alerts(status=status, limit=limit)
        finally:
            await store.close()

    table = Table(title="emporion alerts")
    for column in ("last seen", "kind", "flow", "subject", "state", "count", "last sent", "message"):
        table.add_column(column)
    for row in run_async(read):
        last_sent = f"{row.last_sent:%Y-%m-%d %H:%M:%S}" if row.last_sent else ""
        seen = f"{row.last_seen:%Y-%m-%d %H:%M:%S}"
        table.add_row(
            seen, row.kind, row.flow or "", row.subject, row.status, str(row.count), last_sent, row.message
        )
    console.print(table)


@alerts_app.command("test")
def test_channels(config: ConfigOption = Path("emporion.yaml")) -> None:
    """Send a test alert through each configured channel now (exit 1 if any fails or none is set)."""
    from emporion.alerts.email import EmailSender
    from emporion.alerts.webhook import WebhookSender

    settings = load(config)
    channels: list[EmailSender | WebhookSender] = []
    if settings.alerts.email is not None:
        channels.append(EmailSender(settings.alerts.email))
    channels += [WebhookSender(hook, index) for index, hook in enumerate(settings.alerts.webhooks)]
    if not channels:
        console.print(
            "no alert channel is configured (alerts.email, alerts.webhooks): alerts are only logged"
        )
        raise typer.Exit(NOT_CLEAN)
    alert = Alert(
        AlertKind.TEST, "channels", "a test alert from emporion: this channel delivers", Severity.INFO
    )

    async def send_all() -> bool:
        ok = True
        for channel in channels:
            try:
                await channel.send(alert)
                console.print(f"  [green]ok[/] {channel.name}")
            except Exception as error:  # report every channel, whatever breaks
                console.print(f"  [red]FAIL[/] {channel.name}: {type(error).__name__}: {error}")
                ok = False
        return ok

    exit_clean(run_async(send_all))
