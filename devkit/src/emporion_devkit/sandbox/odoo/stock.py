"""Stock: quantities computed by context (warehouse/location), reservation, pickings done and returned.

`qty_available`, `free_qty` (on hand minus reserved), `virtual_available` are never stored: they are
summed from stock.quant and open stock.move rows, scoped by the version's warehouse context key
(`warehouse` on 17, `warehouse_id` on 18+) or `location`. A quant change never touches the product.
"""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.odoo.orm import Env, Registry, now_string
from emporion_devkit.sandbox.odoo.store import Record

QUANTITIES = ("qty_available", "free_qty", "virtual_available", "incoming_qty", "outgoing_qty")
OPEN = ("waiting", "confirmed", "partially_available", "assigned")


def register(registry: Registry) -> None:
    """Plug the computed stock fields into the ORM."""
    for name in QUANTITIES:
        registry.computed[("product.product", name)] = _variant_quantity(name)
        registry.computed[("product.template", name)] = _template_quantity(name)
    registry.computed[("stock.quant", "warehouse_id")] = lambda env, r: _warehouse_of(
        env, r.get("location_id")
    )
    registry.computed[("stock.picking", "picking_type_code")] = lambda env, r: (
        env.store.get("stock.picking.type", r.get("picking_type_id") or 0) or {}
    ).get("code")


def _warehouse_of(env: Env, location_id: int | None) -> int | None:
    current = env.store.get("stock.location", location_id or 0)
    while current is not None:
        if current.get("warehouse_id"):
            return int(current["warehouse_id"])
        current = env.store.get("stock.location", current.get("location_id") or 0)
    return None


def _under(env: Env, roots: set[int]) -> set[int]:
    """The locations under `roots` (themselves included)."""
    found, changed = set(roots), True
    table = env.store.table("stock.location")
    while changed:
        changed = False
        for location_id, location in table.items():
            if location.get("location_id") in found and location_id not in found:
                found.add(location_id)
                changed = True
    return found


def _ids(env: Env, model: str, value: Any) -> set[int]:
    """Ids from a context value: an id, a name, or a list of them (names matched as ilike)."""
    values = value if isinstance(value, list) else [value]
    ids = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
    for name in (v for v in values if isinstance(v, str)):
        ids |= {
            i
            for i, r in env.store.table(model).items()
            if name.lower() in str(r.get("name", "")).lower()
            or (model == "stock.warehouse" and name == r.get("code"))
        }
    return ids


def scope(env: Env) -> set[int]:
    """The internal locations the context asks about (all warehouses' when it names none)."""
    warehouse = env.context.get(env.version.warehouse_context)
    location = env.context.get("location")
    warehouses = env.store.table("stock.warehouse")
    if warehouse:
        roots = {
            warehouses[w]["view_location_id"]
            for w in _ids(env, "stock.warehouse", warehouse)
            if w in warehouses
        }
        found = _under(env, roots)
        if location:
            found &= _under(env, _ids(env, "stock.location", location))
    elif location:
        found = _under(env, _ids(env, "stock.location", location))
    else:
        found = _under(env, {w["view_location_id"] for w in warehouses.values()})
    table = env.store.table("stock.location")
    return {i for i in found if table.get(i, {}).get("usage") == "internal"}


def quantities(env: Env, product_ids: list[int]) -> dict[int, dict[str, float]]:
    """The five stock figures per product for the context's scope."""
    locations = scope(env)
    out = {p: dict.fromkeys(QUANTITIES, 0.0) for p in product_ids}
    for quant in env.store.table("stock.quant").values():
        figures = out.get(quant.get("product_id") or 0)
        if figures is not None and quant.get("location_id") in locations:
            figures["qty_available"] += float(quant.get("quantity") or 0)
            figures["free_qty"] += float(quant.get("quantity") or 0) - float(
                quant.get("reserved_quantity") or 0
            )
    for move in env.store.table("stock.move").values():
        figures = out.get(move.get("product_id") or 0)
        if figures is None or move.get("state") not in OPEN:
            continue
        source, target = move.get("location_id") in locations, move.get("location_dest_id") in locations
        if target and not source:
            figures["incoming_qty"] += float(move.get("product_uom_qty") or 0)
        elif source and not target:
            figures["outgoing_qty"] += float(move.get("product_uom_qty") or 0)
    for figures in out.values():
        figures["virtual_available"] = (
            figures["qty_available"] + figures["incoming_qty"] - figures["outgoing_qty"]
        )
        for name in QUANTITIES:
            figures[name] = round(figures[name], 4)
    return out


def _variant_quantity(name: str) -> Any:
    def compute(env: Env, record: Record) -> float:
        return quantities(env, [record["id"]])[record["id"]][name]

    return compute


def _template_quantity(name: str) -> Any:
    def compute(env: Env, record: Record) -> float:
        variants = [
            i
            for i, r in env.store.table("product.product").items()
            if r.get("product_tmpl_id") == record["id"]
        ]
        return round(sum(f[name] for f in quantities(env, variants).values()), 4)

    return compute


def quant(env: Env, product_id: int, location_id: int) -> Record:
    """The quant of a product in a location (created empty when there is none)."""
    for record in env.store.table("stock.quant").values():
        if record.get("product_id") == product_id and record.get("location_id") == location_id:
            return record
    (quant_id,) = env.sudo().create(
        "stock.quant",
        [
            {
                "product_id": product_id,
                "location_id": location_id,
                "quantity": 0.0,
                "reserved_quantity": 0.0,
                "in_date": now_string(),
            }
        ],
    )
    return env.store.table("stock.quant")[quant_id]


def change_quant(
    env: Env, product_id: int, location_id: int, quantity: float = 0.0, reserved: float = 0.0
) -> None:
    """Add to a quant's quantity and reservation (its write_date moves; the product's does not)."""
    record = quant(env, product_id, location_id)
    env.sudo().write(
        "stock.quant",
        [record["id"]],
        {
            "quantity": round(float(record.get("quantity") or 0) + quantity, 4),
            "reserved_quantity": round(max(0.0, float(record.get("reserved_quantity") or 0) + reserved), 4),
        },
    )


def is_internal(env: Env, location_id: int | None) -> bool:
    """Whether a location holds stock (usage internal)."""
    return (env.store.get("stock.location", location_id or 0) or {}).get("usage") == "internal"


def reserve(env: Env, picking_id: int) -> None:
    """Reserve what the source location has for each open move (free_qty drops); set the states."""
    sudo = env.sudo()
    moves = [m for m in env.store.table("stock.move").values() if m.get("picking_id") == picking_id]
    for move in moves:
        if move.get("state") not in ("confirmed", "partially_available") or not is_internal(
            env, move["location_id"]
        ):
            continue
        product = env.store.get("product.product", move["product_id"]) or {}
        template = env.store.get("product.template", product.get("product_tmpl_id") or 0) or {}
        if not template.get("is_storable"):
            sudo.write("stock.move", [move["id"]], {"state": "assigned", "quantity": move["product_uom_qty"]})
            continue
        record = quant(env, move["product_id"], move["location_id"])
        free = float(record.get("quantity") or 0) - float(record.get("reserved_quantity") or 0)
        wanted = float(move["product_uom_qty"]) - float(move.get("quantity") or 0)
        take = max(0.0, min(free, wanted))
        if take:
            change_quant(env, move["product_id"], move["location_id"], reserved=take)
        done = float(move.get("quantity") or 0) + take
        state = (
            "assigned"
            if done >= float(move["product_uom_qty"])
            else "partially_available"
            if done
            else "confirmed"
        )
        sudo.write("stock.move", [move["id"]], {"quantity": done, "state": state})
    picking_state(env, picking_id)


def picking_state(env: Env, picking_id: int) -> None:
    """A picking's state from its moves'."""
    states = {
        m.get("state") for m in env.store.table("stock.move").values() if m.get("picking_id") == picking_id
    }
    picking = env.store.table("stock.picking")[picking_id]
    if picking.get("state") in ("done", "cancel"):
        return
    state = "assigned" if states and states <= {"assigned", "cancel"} else "confirmed" if states else "draft"
    env.sudo().write("stock.picking", [picking_id], {"state": state})


def validate(env: Env, picking_id: int) -> None:
    """Do a picking: each move's demand leaves the source and reaches the destination; state done."""
    sudo = env.sudo()
    for move in [m for m in env.store.table("stock.move").values() if m.get("picking_id") == picking_id]:
        if move.get("state") in ("done", "cancel"):
            continue
        demand, reserved = float(move["product_uom_qty"]), float(move.get("quantity") or 0)
        storable = _storable(env, move["product_id"])
        if storable and is_internal(env, move["location_id"]):
            change_quant(
                env,
                move["product_id"],
                move["location_id"],
                -demand,
                -reserved if move.get("state") in OPEN else 0.0,
            )
        if storable and is_internal(env, move["location_dest_id"]):
            change_quant(env, move["product_id"], move["location_dest_id"], demand)
        sudo.write(
            "stock.move",
            [move["id"]],
            {"state": "done", "quantity": demand, "picked": True, "date": now_string()},
        )
    sudo.write("stock.picking", [picking_id], {"state": "done", "date_done": now_string()})


def cancel(env: Env, picking_id: int) -> None:
    """Cancel a picking that is not done: reservations are released."""
    sudo = env.sudo()
    for move in [m for m in env.store.table("stock.move").values() if m.get("picking_id") == picking_id]:
        if (
            move.get("state") in OPEN
            and float(move.get("quantity") or 0)
            and _storable(env, move["product_id"])
        ):
            change_quant(env, move["product_id"], move["location_id"], reserved=-float(move["quantity"]))
        if move.get("state") != "done":
            sudo.write("stock.move", [move["id"]], {"state": "cancel", "quantity": 0.0})
    sudo.write("stock.picking", [picking_id], {"state": "cancel"})


def _storable(env: Env, product_id: int) -> bool:
    product = env.store.get("product.product", product_id) or {}
    return bool(
        (env.store.get("product.template", product.get("product_tmpl_id") or 0) or {}).get("is_storable")
    )
