"""How an alert reads: a one-line title, a short text, and the JSON bodies of the chat formats.

Every channel renders through here, so that an e-mail, a Slack message and a Teams card say the same
thing. The text holds what the raiser put in the alert (flows, connections, SKUs, order numbers);
raisers keep secrets and personal data out of it.
"""

from __future__ import annotations

from typing import Any

from emporion.alerts import Alert, AlertKind, Severity

TITLES = {
    AlertKind.DEAD_LETTER: "Dead letters",
    AlertKind.CIRCUIT_OPEN: "Connection unreachable (circuit open)",
    AlertKind.SYNC_LAG: "Sync is lagging",
    AlertKind.WEBHOOK_DISABLED: "Shop webhook was disabled or missing",
    AlertKind.WEBHOOK_SIGNATURE: "Webhook deliveries fail the signature check",
    AlertKind.DRIFT: "Reconciliation found drift",
    AlertKind.LOW_STOCK: "Low stock",
    AlertKind.STOCK_SHORT: "Stock short for a shop order",
    AlertKind.SHIPPED_CANCELLATION: "Cancellation of shipped goods",
    AlertKind.ORDER_HELD: "Order held: the ERP sale differs from the shop",
    AlertKind.TEST: "Test alert",
}
COLOURS = {Severity.INFO: "2EB886", Severity.WARNING: "DAA038", Severity.CRITICAL: "A30200"}
RESOLVED_COLOUR = "2EB886"


def title(alert: Alert) -> str:
    """One line naming what happened and to what, e.g. `[WARNING] Low stock: SKU-1 (flow shop)`."""
    state = "RESOLVED" if alert.resolved else alert.severity.upper()
    where = f" (flow {alert.flow})" if alert.flow else ""
    return f"[{state}] {TITLES.get(alert.kind, str(alert.kind))}: {alert.subject}{where}"


def facts(alert: Alert) -> list[tuple[str, str]]:
    """The alert's fields as (name, value) pairs, details last."""
    pairs = [("kind", str(alert.kind)), ("subject", alert.subject), ("severity", str(alert.severity))]
    if alert.flow:
        pairs.append(("flow", alert.flow))
    pairs.append(("state", "resolved" if alert.resolved else "open"))
    pairs += [(str(name), _plain(value)) for name, value in alert.details.items()]
    return pairs


def text(alert: Alert) -> str:
    """The plain-text body: the message, then one line per fact."""
    lines = [alert.message, ""]
    lines += [f"{name}: {value}" for name, value in facts(alert)]
    return "\n".join(lines)


def slack(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message (also understood by Mattermost and Rocket.Chat)."""
    return {"text": f"*{title(alert)}*\n{text(alert)}"}


def teams(alert: Alert) -> dict[str, Any]:
    """A Microsoft Teams message carrying an Adaptive Card (Workflows and incoming webhooks)."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title(alert),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Good" if alert.resolved else _teams_colour(alert.severity),
            },
            {"type": "TextBlock", "text": alert.message, "wrap": True},
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in facts(alert)]},
        ],
    }
    return {
        "type": "message",
        "summary": title(alert),
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def generic(alert: Alert) -> dict[str, Any]:
    """Every field of the alert, for a receiver of one's own (an incident tool, a script)."""
    return {
        "source": "emporion",
        "key": alert.key,
        "kind": str(alert.kind),
        "subject": alert.subject,
        "severity": str(alert.severity),
        "flow": alert.flow,
        "resolved": alert.resolved,
        "title": title(alert),
        "message": alert.message,
        "details": {str(name): _json(value) for name, value in alert.details.items()},
    }


FORMATS = {"slack": slack, "teams": teams, "generic": generic}


def _teams_colour(severity: Severity) -> str:
    return {Severity.INFO: "Default", Severity.WARNING: "Warning", Severity.CRITICAL: "Attention"}[severity]


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(_plain(item) for item in value)
    return str(value)


def _json(value: Any) -> Any:
    """A JSON-safe copy of a detail value (numbers and Decimals as text where JSON has no type)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json(item) for item in value]
    return str(value)
