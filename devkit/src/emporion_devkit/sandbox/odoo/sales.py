"""Sales orders: names, defaults, amounts with taxes, action_confirm (a reserved delivery), cancellation.

`action_cancel` on an order that is not a draft answers the `sale.order.cancel` wizard's action (as Odoo
17+ does) unless the context carries `disable_cancel_warning`; the wizard's `action_cancel` cancels.
"""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.odoo import stock
from emporion_devkit.sandbox.odoo.errors import UserError
from emporion_devkit.sandbox.odoo.methods import BUSINESS, Method
from emporion_devkit.sandbox.odoo.money import line_amounts, order_tax
from emporion_devkit.sandbox.odoo.orm import Env, Registry, now_string
from emporion_devkit.sandbox.odoo.store import Record


def register(registry: Registry) -> None:
    """Plug the sales logic into the ORM and the method table."""
    registry.defaults["sale.order"] = _order_defaults
    registry.defaults["sale.order.line"] = _line_defaults
    registry.created["sale.order"] = [_orders_changed]
    registry.written.setdefault("sale.order", []).append(lambda env, ids, vals: _orders_changed(env, ids))
    registry.created["sale.order.line"] = [_lines_changed]
    registry.written["sale.order.line"] = [lambda env, ids, vals: _lines_changed(env, ids)]
    registry.computed[("sale.order.line", "state")] = lambda env, r: (
        env.store.get("sale.order", r.get("order_id") or 0) or {}
    ).get("state")
    registry.computed[("sale.order.line", "product_template_id")] = lambda env, r: (
        env.store.get("product.product", r.get("product_id") or 0) or {}
    ).get("product_tmpl_id")
    registry.computed[("sale.order.line", "currency_id")] = lambda env, r: (
        env.store.get("sale.order", r.get("order_id") or 0) or {}
    ).get("currency_id")
    registry.computed[("sale.order", "delivery_count")] = lambda env, r: len(
        env.ids_of("sale.order", r, "picking_ids")
    )
    registry.computed[("sale.order", "invoice_ids")] = invoices_of
    registry.computed[("sale.order", "delivery_status")] = _delivery_status
    registry.computed[("sale.order", "invoice_count")] = lambda env, r: len(invoices_of(env, r))
    BUSINESS[("sale.order", "action_confirm")] = Method((), _action_confirm)
    BUSINESS[("sale.order", "action_cancel")] = Method((), _action_cancel)
    BUSINESS[("sale.order", "action_draft")] = Method((), _action_draft)
    BUSINESS[("sale.order.cancel", "action_cancel")] = Method((), _wizard_cancel)
    BUSINESS[("sale.order", "action_lock")] = Method((), _locker(True))
    BUSINESS[("sale.order", "action_unlock")] = Method((), _locker(False))


def _order_defaults(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    count = len(env.store.table("sale.order")) + 1
    company = env.store.get("res.company", 1) or {}
    warehouse = min(env.store.table("stock.warehouse"), default=None)
    partner = vals.get("partner_id")
    return {
        "name": f"S{count:05d}",
        "date_order": now_string(),
        "state": "draft",
        "company_id": 1,
        "currency_id": company.get("currency_id"),
        "warehouse_id": warehouse,
        "user_id": env.uid,
        "partner_invoice_id": _address(env, partner, "invoice"),
        "partner_shipping_id": _address(env, partner, "delivery"),
    }


def _address(env: Env, partner_id: Any, kind: str) -> int | None:
    """The partner's child contact of a type, else the partner (Odoo's `address_get`)."""
    if not isinstance(partner_id, int):
        return None
    for child in env.store.table("res.partner").values():
        if child.get("parent_id") == partner_id and child.get("type") == kind and child.get("active", True):
            return int(child["id"])
    return partner_id


def _line_defaults(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    product = env.store.get("product.product", vals.get("product_id") or 0)
    if product is None:
        return {}
    template = env.store.get("product.template", product["product_tmpl_id"]) or {}
    extra = env.value("product.product", product, "price_extra")
    description = template.get("description_sale")
    name = env.display_name("product.product", product) + (f"\n{description}" if description else "")
    return {
        "name": name,
        "product_uom_id": template.get("uom_id"),
        "price_unit": round(float(template.get("list_price") or 0) + float(extra or 0), 2),
        "tax_ids": list(template.get("taxes_id") or []),
        "company_id": 1,
    }


def _orders_changed(env: Env, ids: list[int]) -> None:
    for order_id in ids:
        recompute(env, order_id)


def _lines_changed(env: Env, ids: list[int]) -> None:
    orders = {
        env.store.table("sale.order.line")[i].get("order_id")
        for i in ids
        if i in env.store.table("sale.order.line")
    }
    for order_id in orders:
        if order_id:
            recompute(env, order_id)


def recompute(env: Env, order_id: int) -> None:
    """Line and order amounts from prices, discounts and taxes (rounded as the company rounds)."""
    untaxed, taxes, lines = 0.0, [], []
    for line in env.store.table("sale.order.line").values():
        if line.get("order_id") != order_id or line.get("display_type"):
            continue
        lines.append(line)
        subtotal, line_tax, total = line_amounts(
            env.store,
            line.get("price_unit"),
            line.get("product_uom_qty"),
            line.get("discount"),
            list(line.get("tax_ids") or []),
        )
        line.update(price_subtotal=subtotal, price_tax=line_tax, price_total=total)
        env.store.touch("sale.order.line", line["id"])
        untaxed = untaxed + subtotal
        taxes.append(line_tax)
    tax = order_tax(env.store, lines, taxes, ("product_uom_qty", "tax_ids"))
    order = env.store.table("sale.order").get(order_id)
    if order is not None:
        order.update(
            amount_untaxed=round(untaxed, 2), amount_tax=round(tax, 2), amount_total=round(untaxed + tax, 2)
        )
        env.store.touch("sale.order", order_id)


def _delivery_status(env: Env, order: Record) -> str | bool:
    """pending / started / partial / full from the order's outgoing deliveries (False without any)."""
    pickings = [
        p
        for p in env.store.table("stock.picking").values()
        if p.get("sale_id") == order["id"] and not p.get("return_id") and p.get("state") != "cancel"
    ]
    if not pickings:
        return False
    done = [p for p in pickings if p.get("state") == "done"]
    if len(done) == len(pickings):
        return "full"
    return "partial" if done else "pending"


def invoices_of(env: Env, order: Record) -> list[int]:
    """The invoices and credit notes with a line linked to one of the order's lines (as Odoo computes it)."""
    lines = {i for i, r in env.store.table("sale.order.line").items() if r.get("order_id") == order["id"]}
    moves = {
        r.get("move_id")
        for r in env.store.table("account.move.line").values()
        if lines & set(r.get("sale_line_ids") or [])
    }
    table = env.store.table("account.move")
    return sorted(
        i for i in moves if i in table and table[i].get("move_type") in ("out_invoice", "out_refund")
    )


def _action_confirm(env: Env, model: str, ids: list[int]) -> bool:
    orders = env.records("sale.order", ids)
    env.check("sale.order", "write")
    wrong = [o["name"] for o in orders if o.get("state") not in ("draft", "sent")]
    if wrong:
        raise UserError("Some orders are not in a state requiring confirmation.")
    sudo = env.sudo()
    for order in orders:
        sudo.write("sale.order", [order["id"]], {"state": "sale", "date_order": now_string()})
        _deliver(sudo, order)
    return True


def _deliver(env: Env, order: Record) -> None:
    """The outgoing picking of a confirmed order (storable goods only), reserved at once."""
    lines = [
        line
        for line in env.store.table("sale.order.line").values()
        if line.get("order_id") == order["id"] and line.get("product_id") and not line.get("is_delivery")
    ]
    goods = [
        line
        for line in lines
        if (
            env.store.get(
                "product.template",
                (env.store.get("product.product", line["product_id"]) or {}).get("product_tmpl_id") or 0,
            )
            or {}
        ).get("type")
        != "service"
    ]
    warehouse = env.store.get("stock.warehouse", order.get("warehouse_id") or 0)
    if not goods or warehouse is None:
        return
    kind = env.store.table("stock.picking.type")[warehouse["out_type_id"]]
    customers = next(i for i, r in env.store.table("stock.location").items() if r.get("usage") == "customer")
    count = 1 + sum(
        1 for p in env.store.table("stock.picking").values() if p.get("picking_type_id") == kind["id"]
    )
    moves = [
        (
            0,
            0,
            {
                "name": line.get("name") or "",
                "product_id": line["product_id"],
                "sale_line_id": line["id"],
                "product_uom_qty": line.get("product_uom_qty"),
                "location_id": warehouse["lot_stock_id"],
                "location_dest_id": customers,
                "state": "confirmed",
                "reference": order["name"],
            },
        )
        for line in goods
    ]
    (picking_id,) = env.create(
        "stock.picking",
        [
            {
                "name": f"{warehouse['code']}/OUT/{count:05d}",
                "origin": order["name"],
                "sale_id": order["id"],
                "partner_id": order.get("partner_shipping_id"),
                "picking_type_id": kind["id"],
                "location_id": warehouse["lot_stock_id"],
                "location_dest_id": customers,
                "state": "confirmed",
                "scheduled_date": now_string(),
                "carrier_id": order.get("carrier_id") or False,
                "move_ids": moves,
            }
        ],
    )
    stock.reserve(env, picking_id)


def _action_cancel(env: Env, model: str, ids: list[int]) -> Any:
    orders = env.records("sale.order", ids)
    env.check("sale.order", "write")
    if any(o.get("locked") for o in orders):
        raise UserError("You cannot cancel a locked order. Please unlock it first.")
    wizard = env.version.cancel_wizard and not env.context.get("disable_cancel_warning")
    if wizard and any(o.get("state") != "draft" for o in orders):
        if len(orders) != 1:
            raise ValueError("Expected singleton")
        return {
            "name": "Cancel Sales Order",
            "view_mode": "form",
            "res_model": "sale.order.cancel",
            "type": "ir.actions.act_window",
            "target": "new",
            "context": {"default_order_id": orders[0]["id"], "mark_so_as_canceled": True},
        }
    for order in orders:
        cancel(env, order)
    return True


def cancel(env: Env, order: Record) -> None:
    """Cancel an order: its open pickings are cancelled (stock freed), draft invoices too."""
    sudo = env.sudo()
    for picking in list(env.store.table("stock.picking").values()):
        if picking.get("sale_id") == order["id"] and picking.get("state") not in ("done", "cancel"):
            stock.cancel(sudo, picking["id"])
    for move_id in invoices_of(env, order):
        if env.store.table("account.move")[move_id].get("state") == "draft":
            sudo.write("account.move", [move_id], {"state": "cancel"})
    sudo.write("sale.order", [order["id"]], {"state": "cancel"})


def _action_draft(env: Env, model: str, ids: list[int]) -> bool:
    orders = env.records("sale.order", ids)
    for order in orders:
        if order.get("state") in ("cancel", "sent"):
            env.write("sale.order", [order["id"]], {"state": "draft"})
    return True


def _wizard_cancel(env: Env, model: str, ids: list[int]) -> bool:
    for wizard in env.records("sale.order.cancel", ids):
        order = env.records("sale.order", [wizard["order_id"]])[0]
        cancel(env, order)
    return True


def _locker(locked: bool) -> Any:
    """sale.order's action_lock/action_unlock."""

    def lock(env: Env, model: str, ids: list[int]) -> bool:
        env.write("sale.order", ids, {"locked": locked})
        return True

    return lock
