"""The external API's picking methods: validate (tracking reference written before), cancel, returns."""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.odoo import stock
from emporion_devkit.sandbox.odoo.errors import UserError
from emporion_devkit.sandbox.odoo.methods import BUSINESS, Method
from emporion_devkit.sandbox.odoo.orm import Env, Registry, now_string


def register(registry: Registry) -> None:
    """Plug the picking methods and the return wizard into the method table."""
    registry.defaults["stock.return.picking"] = _return_defaults
    registry.created["stock.return.picking"] = [_return_lines]
    BUSINESS[("stock.picking", "button_validate")] = Method((), _button_validate)
    BUSINESS[("stock.picking", "action_assign")] = Method((), _action_assign)
    BUSINESS[("stock.picking", "action_cancel")] = Method((), _action_cancel)
    BUSINESS[("stock.quant", "action_apply_inventory")] = Method((), _apply_inventory)
    BUSINESS[("stock.return.picking", "create_returns")] = Method((), _create_returns, versions=(17,))
    BUSINESS[("stock.return.picking", "action_create_returns")] = Method(
        (), _create_returns, versions=(18, 19)
    )


def _button_validate(env: Env, model: str, ids: list[int]) -> bool:
    env.check("stock.picking", "write")
    for picking in env.records("stock.picking", ids):
        if picking.get("state") in ("done", "cancel"):
            raise UserError(
                f"You cannot validate a transfer if no quantities are reserved nor done. ({picking['name']})"
            )
        stock.validate(env, picking["id"])
        _delivered(env, picking["id"])
    return True


def _delivered(env: Env, picking_id: int) -> None:
    """Sale lines count what their done moves delivered (returns count back)."""
    sudo = env.sudo()
    for move in [m for m in env.store.table("stock.move").values() if m.get("picking_id") == picking_id]:
        line = env.store.get("sale.order.line", move.get("sale_line_id") or 0)
        if line is None or move.get("state") != "done":
            continue
        sign = -1 if move.get("origin_returned_move_id") else 1
        sudo.write(
            "sale.order.line",
            [line["id"]],
            {
                "qty_delivered": round(
                    float(line.get("qty_delivered") or 0) + sign * float(move["quantity"]), 4
                )
            },
        )


def _apply_inventory(env: Env, model: str, ids: list[int]) -> None:
    """Apply counted quantities: a done move from the inventory-adjustment location per changed quant."""
    env.check("stock.quant", "write")
    sudo = env.sudo()
    adjustment = next(
        i for i, r in env.store.table("stock.location").items() if r.get("usage") == "inventory"
    )
    for quant in env.records("stock.quant", ids):
        difference = round(float(quant.get("inventory_quantity") or 0) - float(quant.get("quantity") or 0), 4)
        if not difference:
            continue
        source, target = (
            (adjustment, quant["location_id"]) if difference > 0 else (quant["location_id"], adjustment)
        )
        sudo.create(
            "stock.move",
            [
                {
                    "name": "Product Quantity Updated",
                    "product_id": quant["product_id"],
                    "product_uom_qty": abs(difference),
                    "quantity": abs(difference),
                    "location_id": source,
                    "location_dest_id": target,
                    "state": "done",
                    "picked": True,
                    "date": now_string(),
                }
            ],
        )
        sudo.write(
            "stock.quant",
            [quant["id"]],
            {"quantity": quant.get("inventory_quantity") or 0.0, "inventory_quantity": 0.0},
        )


def _action_assign(env: Env, model: str, ids: list[int]) -> bool:
    for picking in env.records("stock.picking", ids):
        stock.reserve(env, picking["id"])
    return True


def _action_cancel(env: Env, model: str, ids: list[int]) -> bool:
    for picking in env.records("stock.picking", ids):
        stock.cancel(env, picking["id"])
    return True


def _return_defaults(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    picking_id = vals.get("picking_id") or env.context.get("active_id")
    return {"picking_id": picking_id} if picking_id else {}


def _return_lines(env: Env, ids: list[int]) -> None:
    """A new return wizard lists the picking's moves, each with quantity 0 (delivered: move_quantity)."""
    for wizard_id in ids:
        wizard = env.store.table("stock.return.picking")[wizard_id]
        if any(
            r.get("wizard_id") == wizard_id for r in env.store.table("stock.return.picking.line").values()
        ):
            continue
        moves = [
            m
            for m in env.store.table("stock.move").values()
            if m.get("picking_id") == wizard.get("picking_id") and m.get("state") == "done"
        ]
        env.sudo().create(
            "stock.return.picking.line",
            [
                {
                    "wizard_id": wizard_id,
                    "product_id": m["product_id"],
                    "quantity": 0.0,
                    "move_quantity": float(m.get("quantity") or 0),
                    "move_id": m["id"],
                    "uom_id": 1,
                }
                for m in moves
            ],
        )


def _create_returns(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    """An incoming picking bringing back the wizard's quantities (each line's quantity of its move)."""
    sudo, created = env.sudo(), []
    env.check("stock.picking", "create")
    for wizard in env.records(model, ids):
        picking = env.records("stock.picking", [wizard["picking_id"]])[0]
        if picking.get("state") != "done":
            raise UserError("You may only return Done pickings.")
        lines = [
            r
            for r in env.store.table("stock.return.picking.line").values()
            if r.get("wizard_id") == wizard["id"]
        ]
        moves = []
        for line in lines:
            if not float(line.get("quantity") or 0):
                continue
            origin = env.store.get("stock.move", line.get("move_id") or 0) or {}
            moves.append(
                (
                    0,
                    0,
                    {
                        "name": origin.get("name") or "",
                        "product_id": line["product_id"],
                        "product_uom_qty": line["quantity"],
                        "location_id": picking["location_dest_id"],
                        "location_dest_id": picking["location_id"],
                        "state": "assigned",
                        "quantity": line["quantity"],
                        "origin_returned_move_id": origin.get("id") or False,
                        "sale_line_id": origin.get("sale_line_id") or False,
                    },
                )
            )
        if not moves:
            raise UserError("Please specify at least one non-zero quantity.")
        warehouse_code = str(picking.get("name", "WH/")).split("/")[0]
        warehouse = next(
            (w for w in env.store.table("stock.warehouse").values() if w.get("code") == warehouse_code), {}
        )
        count = 1 + sum(1 for p in env.store.table("stock.picking").values() if "/IN/" in str(p.get("name")))
        (return_id,) = sudo.create(
            "stock.picking",
            [
                {
                    "name": f"{warehouse_code}/IN/{count:05d}",
                    "origin": f"Return of {picking['name']}",
                    "partner_id": picking.get("partner_id"),
                    "picking_type_id": warehouse.get("in_type_id") or picking.get("picking_type_id"),
                    "location_id": picking["location_dest_id"],
                    "location_dest_id": picking["location_id"],
                    "state": "assigned",
                    "return_id": picking["id"],
                    "sale_id": picking.get("sale_id") or False,
                    "scheduled_date": now_string(),
                    "move_ids": moves,
                }
            ],
        )
        created.append(return_id)
    return {
        "name": "Returned Picking",
        "type": "ir.actions.act_window",
        "res_model": "stock.picking",
        "res_id": created[0],
        "view_mode": "form",
    }
