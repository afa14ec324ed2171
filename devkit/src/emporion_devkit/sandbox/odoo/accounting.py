"""Invoices and credit notes: the invoicing wizard, posting with INV/RINV sequences, payments, reversals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emporion_devkit.sandbox.odoo import pickings
from emporion_devkit.sandbox.odoo.errors import UserError
from emporion_devkit.sandbox.odoo.methods import BUSINESS, Method
from emporion_devkit.sandbox.odoo.money import line_amounts, order_tax
from emporion_devkit.sandbox.odoo.orm import Env, Registry


def register(registry: Registry) -> None:
    """Plug the accounting logic into the ORM and the method table."""
    registry.created["account.move.line"] = [lambda env, ids: _moves_changed(env, ids)]
    registry.written["account.move.line"] = [lambda env, ids, vals: _moves_changed(env, ids)]
    registry.defaults["account.payment.register"] = _payment_defaults
    registry.defaults["account.move.reversal"] = lambda env, vals: {
        "move_ids": list(env.context.get("active_ids") or [])
    }
    BUSINESS[("sale.advance.payment.inv", "create_invoices")] = Method((), _create_invoices)
    BUSINESS[("account.move", "action_post")] = Method((), _action_post)
    BUSINESS[("account.move", "button_draft")] = Method((), _button_draft)
    BUSINESS[("account.move", "button_cancel")] = Method((), _button_cancel)
    BUSINESS[("account.payment.register", "action_create_payments")] = Method((), _create_payments)
    BUSINESS[("account.payment", "action_post")] = Method((), _post_payments)
    BUSINESS[("account.move.reversal", "refund_moves")] = Method((), _refund_moves)
    BUSINESS[("account.move.reversal", "reverse_moves")] = Method(("is_modify",), _reverse_moves)
    pickings.register(registry)


def today() -> str:
    """Today's date (UTC) as Odoo writes dates."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _moves_changed(env: Env, line_ids: list[int]) -> None:
    table = env.store.table("account.move.line")
    for move_id in {table[i].get("move_id") for i in line_ids if i in table}:
        if move_id:
            recompute(env, move_id)


def recompute(env: Env, move_id: int) -> None:
    """An invoice's amounts from its lines (per line or globally, as the company rounds)."""
    untaxed, taxes, lines = 0.0, [], []
    for line in env.store.table("account.move.line").values():
        if line.get("move_id") != move_id:
            continue
        lines.append(line)
        subtotal, line_tax, total = line_amounts(
            env.store,
            line.get("price_unit"),
            line.get("quantity"),
            line.get("discount"),
            list(line.get("tax_ids") or []),
        )
        line.update(price_subtotal=subtotal, price_total=total)
        env.store.touch("account.move.line", line["id"])
        untaxed = untaxed + subtotal
        taxes.append(line_tax)
    tax = order_tax(env.store, lines, taxes, ("quantity", "tax_ids"))
    move = env.store.table("account.move")[move_id]
    move.update(
        amount_untaxed=round(untaxed, 2), amount_tax=round(tax, 2), amount_total=round(untaxed + tax, 2)
    )
    if move.get("state") == "draft":
        move["amount_residual"] = move["amount_total"]
    env.store.touch("account.move", move_id)


def _create_invoices(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    """Invoice what each order has not invoiced yet (a draft out_invoice per order)."""
    created = []
    for wizard in env.records(model, ids):
        for order_id in wizard.get("sale_order_ids") or env.context.get("active_ids") or []:
            created.append(invoice_order(env, order_id))
    return {
        "type": "ir.actions.act_window",
        "res_model": "account.move",
        "domain": [("id", "in", created)],
        "res_id": created[0] if len(created) == 1 else False,
    }


def invoice_order(env: Env, order_id: int) -> int:
    """A draft invoice for an order's lines not invoiced yet."""
    order = env.records("sale.order", [order_id])[0]
    if order.get("state") != "sale":
        raise UserError("There is nothing to invoice!\n\nReason(s) of this behavior could be: ...")
    env.check("account.move", "create")
    sudo = env.sudo()
    lines = []
    for line in [r for r in env.store.table("sale.order.line").values() if r.get("order_id") == order_id]:
        quantity = float(line.get("product_uom_qty") or 0) - float(line.get("qty_invoiced") or 0)
        if quantity <= 0 or line.get("display_type"):
            continue
        lines.append(
            (
                0,
                0,
                {
                    "name": line.get("name"),
                    "product_id": line.get("product_id"),
                    "quantity": quantity,
                    "price_unit": line.get("price_unit"),
                    "discount": line.get("discount") or 0.0,
                    "tax_ids": [(6, 0, list(line.get("tax_ids") or []))],
                    "sale_line_ids": [(6, 0, [line["id"]])],
                },
            )
        )
        sudo.write("sale.order.line", [line["id"]], {"qty_invoiced": float(line.get("product_uom_qty") or 0)})
    if not lines:
        raise UserError("There is nothing to invoice!")
    (move_id,) = sudo.create(
        "account.move",
        [
            {
                "move_type": "out_invoice",
                "partner_id": order.get("partner_invoice_id"),
                "invoice_origin": order["name"],
                "currency_id": order.get("currency_id"),
                "journal_id": _journal(env),
                "ref": order.get("client_order_ref"),
                "invoice_line_ids": lines,
            }
        ],
    )
    sudo.write("sale.order", [order_id], {"invoice_status": "invoiced"})
    return move_id


def _journal(env: Env) -> int | None:
    return next((i for i, r in env.store.table("account.journal").items() if r.get("type") == "sale"), None)


def _action_post(env: Env, model: str, ids: list[int]) -> bool:
    env.check("account.move", "write")
    sudo = env.sudo()
    for move in env.records("account.move", ids):
        if move.get("state") == "posted":
            raise UserError(f"The entry {move.get('name')} (id {move['id']}) is already posted.")
        name = move.get("name")
        if not name:  # a draft's name is False until it is posted
            prefix = "RINV" if move.get("move_type") == "out_refund" else "INV"
            year = today()[:4]
            count = 1 + sum(
                1
                for m in env.store.table("account.move").values()
                if str(m.get("name") or "").startswith(f"{prefix}/{year}/")
            )
            name = f"{prefix}/{year}/{count:05d}"
        sudo.write(
            "account.move",
            [move["id"]],
            {
                "state": "posted",
                "name": name,
                "invoice_date": move.get("invoice_date") or today(),
                "date": move.get("date") or today(),
                "amount_residual": move.get("amount_total") or 0.0,
            },
        )
        if move.get("reversed_entry_id"):
            _settle_reversed(env, move["id"])
    return False  # Odoo's action_post answers False when it opens no wizard


def _settle_reversed(env: Env, refund_id: int) -> None:
    """A posted credit note settles the unpaid part of the invoice it reverses."""
    refund = env.store.table("account.move")[refund_id]
    original = env.store.table("account.move").get(refund["reversed_entry_id"])
    if original is None or original.get("payment_state") in ("paid", "in_payment"):
        return
    residual = round(float(original.get("amount_residual") or 0) - float(refund.get("amount_total") or 0), 2)
    state = "reversed" if residual <= 0 else "partial"
    env.sudo().write(
        "account.move", [original["id"]], {"amount_residual": max(residual, 0.0), "payment_state": state}
    )
    env.sudo().write("account.move", [refund_id], {"amount_residual": 0.0, "payment_state": "paid"})


def _button_draft(env: Env, model: str, ids: list[int]) -> bool:
    for move in env.records("account.move", ids):
        env.write("account.move", [move["id"]], {"state": "draft"})
    return True


def _button_cancel(env: Env, model: str, ids: list[int]) -> bool:
    for move in env.records("account.move", ids):
        if move.get("state") != "draft":
            raise UserError("Only draft journal entries can be cancelled.")
        env.write("account.move", [move["id"]], {"state": "cancel"})
    return True


def _payment_defaults(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    moves = [env.store.get("account.move", i) or {} for i in env.context.get("active_ids") or []]
    if env.context.get("active_model") != "account.move" or not moves:
        raise UserError(
            "The register payment wizard should only be called on account.move or account.move.line records."
        )
    if any(m.get("state") != "posted" for m in moves):
        raise UserError("You can only register payment for posted journal entries.")
    return {
        "line_ids": [m["id"] for m in moves],
        "amount": round(sum(float(m.get("amount_residual") or 0) for m in moves), 2),
        "payment_date": today(),
        "payment_method_line_id": min(env.store.table("account.payment.method.line"), default=None),
        "journal_id": next(
            (i for i, r in env.store.table("account.journal").items() if r.get("type") == "bank"), None
        ),
    }


def _create_payments(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    sudo = env.sudo()
    paid_state, payment_ids = "paid", []  # paid at once on 18 and 19 (no bank reconciliation step)
    for wizard in env.records(model, ids):
        remaining = float(wizard.get("amount") or 0)
        moves = env.records("account.move", list(wizard.get("line_ids") or []))
        payment_ids += sudo.create(
            "account.payment",
            [
                {
                    "name": f"PBNK1/{today()[:4]}/{len(env.store.table('account.payment')) + 1:05d}",
                    "amount": remaining,
                    "partner_id": moves[0].get("partner_id") if moves else False,
                    "state": "paid" if env.version.major >= 19 else "posted",
                    "memo": wizard.get("communication") or (moves[0].get("name") if moves else False),
                    "date": wizard.get("payment_date") or today(),
                    "reconciled_invoice_ids": [(6, 0, [m["id"] for m in moves])],
                }
            ],
        )
        for move in moves:
            take = min(remaining, float(move.get("amount_residual") or 0))
            remaining = round(remaining - take, 2)
            residual = round(float(move.get("amount_residual") or 0) - take, 2)
            sudo.write(
                "account.move",
                [move["id"]],
                {"amount_residual": residual, "payment_state": paid_state if residual <= 0 else "partial"},
            )
    return {
        "name": "Payments",
        "type": "ir.actions.act_window",
        "res_model": "account.payment",
        "context": {"create": False},
        "view_mode": "form",
        "res_id": payment_ids[0] if payment_ids else False,
    }


def _post_payments(env: Env, model: str, ids: list[int]) -> bool:
    """Post draft payments: 17 keeps the move's `posted`; 18 and 19 put a payment through a bank
    journal's outstanding receipts account `in_process` (Odoo's action_post), numbered on posting."""
    state = "posted" if env.version.major <= 17 else "in_process"
    for payment in env.records(model, ids):
        if payment.get("state") not in (None, False, "draft"):
            continue
        number = payment.get("name") or f"PBNK1/{today()[:4]}/{payment['id']:05d}"
        env.sudo().write(model, [payment["id"]], {"state": state, "name": number})
    return True


def _refund_moves(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    return _reverse_moves(env, model, ids, False)


def _reverse_moves(env: Env, model: str, ids: list[int], is_modify: bool = False) -> dict[str, Any]:
    """Credit notes (draft out_refund) reversing the wizard's invoices line for line."""
    sudo, created = env.sudo(), []
    env.check("account.move", "create")
    for wizard in env.records(model, ids):
        for move in env.records("account.move", list(wizard.get("move_ids") or [])):
            if move.get("state") != "posted":
                raise UserError("You can only reverse posted moves.")
            lines = [
                (
                    0,
                    0,
                    {
                        "name": line.get("name"),
                        "product_id": line.get("product_id"),
                        "quantity": line.get("quantity"),
                        "price_unit": line.get("price_unit"),
                        "discount": line.get("discount") or 0.0,
                        "tax_ids": [(6, 0, list(line.get("tax_ids") or []))],
                        "sale_line_ids": [(6, 0, list(line.get("sale_line_ids") or []))],
                    },
                )
                for line in env.store.table("account.move.line").values()
                if line.get("move_id") == move["id"]
            ]
            reason = wizard.get("reason")
            (refund_id,) = sudo.create(
                "account.move",
                [
                    {
                        "move_type": "out_refund",
                        "partner_id": move.get("partner_id"),
                        "reversed_entry_id": move["id"],
                        "invoice_origin": move.get("invoice_origin"),
                        "journal_id": move.get("journal_id"),
                        "ref": f"Reversal of: {move.get('name')}" + (f", {reason}" if reason else ""),
                        "currency_id": move.get("currency_id"),
                        "invoice_line_ids": lines,
                    }
                ],
            )
            created.append(refund_id)
            if is_modify:
                _action_post(sudo, "account.move", [refund_id])
        sudo.write(model, [wizard["id"]], {"new_move_ids": [(6, 0, created)]})
    return {
        "name": "Reverse Moves",
        "type": "ir.actions.act_window",
        "res_model": "account.move",
        "res_id": created[0] if len(created) == 1 else False,
        "view_mode": "form",
        "domain": [("id", "in", created)],
    }
