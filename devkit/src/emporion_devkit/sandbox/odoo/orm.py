"""The sandbox's ORM: create/write/read/search/unlink with Odoo's value formats, x2many commands and hooks.

Records are stored under the sandbox's internal (Odoo 19) field names; the API boundary renames fields
per version. `write` always bumps `write_date`, even when no value changes, as Odoo's does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emporion_devkit.sandbox.odoo import reading
from emporion_devkit.sandbox.odoo.errors import AccessError, MissingError, ValueFault
from emporion_devkit.sandbox.odoo.schema import Field, fields_of
from emporion_devkit.sandbox.odoo.store import Record, Store
from emporion_devkit.sandbox.odoo.versions import Personality

Compute = Callable[["Env", Record], Any]
Hook = Callable[["Env", list[int]], None]
WriteHook = Callable[["Env", list[int], dict[str, Any]], None]
Defaults = Callable[["Env", dict[str, Any]], dict[str, Any]]


@dataclass
class Registry:
    """Model logic plugged into the ORM: computed fields, defaults and after-create/after-write hooks."""

    computed: dict[tuple[str, str], Compute] = field(default_factory=dict)
    defaults: dict[str, Defaults] = field(default_factory=dict)
    created: dict[str, list[Hook]] = field(default_factory=dict)
    written: dict[str, list[WriteHook]] = field(default_factory=dict)
    names: dict[str, Callable[[Env, Record], str]] = field(default_factory=dict)
    access: Callable[[Env, str, str], str | None] | None = None  # -> missing group's name, or None


def now_string() -> str:
    """The current UTC time as Odoo writes datetimes: "YYYY-MM-DD HH:MM:SS"."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class Env:
    """An environment: the store, the version, the user, the context and whether access checks apply."""

    def __init__(
        self,
        store: Store,
        version: Personality,
        registry: Registry,
        uid: int,
        context: dict[str, Any] | None = None,
        su: bool = False,
    ) -> None:
        self.store, self.version, self.registry = store, version, registry
        self.uid, self.context, self.su = uid, dict(context or {}), su

    def sudo(self) -> Env:
        """The same environment without access checks (for business methods' internals)."""
        return Env(self.store, self.version, self.registry, self.uid, self.context, True)

    def with_context(self, **values: Any) -> Env:
        """The same environment with context keys added."""
        return Env(self.store, self.version, self.registry, self.uid, {**self.context, **values}, self.su)

    # fields -------------------------------------------------------------------------------------------------
    def internal_name(self, model: str, name: str) -> str:
        """The stored name of a field named `name` on this version (the sandbox's own code: as is)."""
        if self.su and name in fields_of(model):
            return name
        return self.version.internal(model, name)

    def field(self, model: str, name: str) -> Field:
        """The field `name` (this version's name) of `model`; ValueError as Odoo raises for unknown fields."""
        known, renames = fields_of(model), self.version.renames.get(model, {})
        if self.su and name in known:  # the sandbox's own code speaks the internal names
            return known[name]
        if name in self.version.extra.get(model, set()):
            return Field("selection", computed=True)
        if name in renames:
            inside = renames[name]
        elif name in renames.values():
            raise ValueFault(f"Invalid field {name!r} on model {model!r}")
        else:
            inside = name
        if inside not in known or not self.version.knows(model, inside):
            raise ValueFault(f"Invalid field {name!r} on model {model!r}")
        return known[inside]

    def check(self, model: str, operation: str) -> None:
        """Raise AccessError when the user lacks the group `model` needs for `operation`."""
        if self.su or self.registry.access is None:
            return
        missing = self.registry.access(self, model, operation)
        if missing is not None:
            raise AccessError(
                f"You are not allowed to {ACTIONS[operation]} '{DESCRIPTIONS.get(model, model)}' ({model})"
                " records.\n\n"
                f"This operation is allowed for the following groups:\n\t- {missing}\n\n"
                "Contact your administrator to request access if necessary."
            )

    # values -------------------------------------------------------------------------------------------------
    def value(self, model: str, record: Record, name: str) -> Any:
        """The internal value of a field: stored, computed, or an x2many's ids."""
        if name == "id":
            return record["id"]
        compute = self.registry.computed.get((model, name))
        if compute is not None:
            return compute(self, record)
        spec = fields_of(model).get(name)
        if spec is not None and spec.kind == "one2many":
            return self.ids_of(model, record, name)
        if name == "display_name":
            return self.display_name(model, record)
        return record.get(name, spec.default if spec else None)

    def ids_of(self, model: str, record: Record, name: str) -> list[int]:
        """The ids a relational field holds ([] when empty)."""
        spec = fields_of(model)[name]
        if (model, name) in self.registry.computed:
            value = self.registry.computed[(model, name)](self, record)
        elif spec.kind == "one2many":
            assert spec.relation and spec.inverse
            return [
                i for i, r in self.store.table(spec.relation).items() if r.get(spec.inverse) == record["id"]
            ]
        else:
            value = record.get(name)
        if spec.kind == "many2one":
            return [value] if value else []
        return list(value or [])

    def display_name(self, model: str, record: Record) -> str:
        """What Odoo shows for a record (its `display_name`)."""
        namer = self.registry.names.get(model)
        if namer is not None:
            return namer(self, record)
        return str(record.get("name") or f"{model},{record['id']}")

    def records(self, model: str, ids: list[int]) -> list[Record]:
        """The records of `ids`; MissingError as Odoo raises for deleted ones."""
        table = self.store.table(model)
        missing = [i for i in ids if i not in table]
        if missing:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({', '.join(str(i) for i in missing)},), User: {self.uid})"
            )
        return [table[i] for i in ids]

    # CRUD ---------------------------------------------------------------------------------------------------
    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        """Create records (defaults applied, x2many commands run, hooks called); their ids."""
        self.check(model, "create")
        stamp, ids = now_string(), []
        for vals in vals_list:
            defaults = {
                n: f.default
                for n, f in fields_of(model).items()
                if f.default is not None and not f.computed and f.kind not in ("one2many", "many2many")
            }
            if model in COMPANY_MODELS:
                defaults["company_id"] = 1
            if model in self.registry.defaults:
                defaults.update(self.registry.defaults[model](self, vals))
            base = {
                **defaults,
                "create_date": stamp,
                "write_date": stamp,
                "create_uid": self.uid,
                "write_uid": self.uid,
            }
            record_id = self.store.insert(model, base)
            self._assign(model, record_id, vals)
            ids.append(record_id)
        for hook in self.registry.created.get(model, []):
            hook(self, ids)
        return ids

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> None:
        """Write values on records; write_date is bumped even when nothing changes."""
        self.check(model, "write")
        self.records(model, ids)
        stamp = now_string()
        for record_id in ids:
            record = self.store.table(model)[record_id]
            record["write_date"], record["write_uid"] = stamp, self.uid
            self.store.touch(model, record_id)
            self._assign(model, record_id, vals)
        for hook in self.registry.written.get(model, []):
            hook(self, ids, {self.internal_name(model, k): v for k, v in vals.items()})

    def unlink(self, model: str, ids: list[int]) -> None:
        """Delete records."""
        self.check(model, "unlink")
        self.records(model, ids)
        for record_id in ids:
            self.store.delete(model, record_id)

    def _assign(self, model: str, record_id: int, vals: dict[str, Any]) -> None:
        """Store values (external names) on one record, running x2many commands."""
        record = self.store.table(model)[record_id]
        for name, value in vals.items():
            spec = self.field(model, name)
            inside = self.internal_name(model, name)
            setter = self.registry.computed.get((model, "set:" + inside))
            if setter is not None:
                setter(self, {**record, "__value__": value})
                continue
            if spec.computed:
                continue  # Odoo ignores writes on computed fields without an inverse
            if spec.kind == "one2many":
                self._one2many(model, record_id, spec, value)
            elif spec.kind == "many2many":
                record[inside] = self._many2many(spec, list(record.get(inside) or []), value)
            elif spec.kind == "many2one":
                record[inside] = self._many2one(spec, value, f"{model}.{inside}")
            else:
                record[inside] = _scalar(spec, value, model, name)
        self.store.touch(model, record_id)

    def _many2one(self, spec: Field, value: Any, where: str) -> int | None:
        """A many2one value; a missing target fails as the foreign key does (ValidationError)."""
        if value in (False, None, 0):
            return None
        if isinstance(value, list):  # [id, name] as read returns it
            value = value[0]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueFault(f"Wrong value for {where}: {value!r}")
        if spec.relation is None:
            raise ValueFault(f"Wrong value for {where}: {value!r}")
        self.store.dangling.append(
            (where, spec.relation, value)
        )  # checked when the call commits, as SQL does
        return value

    def _many2many(self, spec: Field, current: list[int], commands: Any) -> list[int]:
        assert spec.relation
        ids = list(current)
        for command in commands or []:
            if isinstance(command, int):
                ids = ids if command in ids else [*ids, command]
                continue
            code = command[0]
            if code == 0:
                ids.extend(self.create(spec.relation, [command[2]]))
            elif code == 1:
                self.write(spec.relation, [command[1]], command[2])
            elif code in (2, 3):
                ids = [i for i in ids if i != command[1]]
                if code == 2:
                    self.unlink(spec.relation, [command[1]])
            elif code == 4:
                ids = ids if command[1] in ids else [*ids, command[1]]
            elif code == 5:
                ids = []
            elif code == 6:
                ids = list(command[2])
        if isinstance(commands, list) and commands and all(isinstance(c, int) for c in commands):
            ids = list(commands)  # a plain list of ids sets the relation
        return ids

    def _one2many(self, model: str, record_id: int, spec: Field, commands: Any) -> None:
        assert spec.relation and spec.inverse
        for command in commands or []:
            code = command[0]
            if code == 0:
                self.create(spec.relation, [{**command[2], spec.inverse: record_id}])
            elif code == 1:
                self.write(spec.relation, [command[1]], command[2])
            elif code in (2, 3):
                self.unlink(spec.relation, [command[1]])
            elif code == 4:
                self.write(spec.relation, [command[1]], {spec.inverse: record_id})
            elif code in (5, 6):
                keep = set(command[2]) if code == 6 else set()
                for child in self.store.table(spec.relation).values():
                    if child.get(spec.inverse) == record_id and child["id"] not in keep:
                        self.unlink(spec.relation, [child["id"]])
                for child_id in keep:
                    self.write(spec.relation, [child_id], {spec.inverse: record_id})

    # reading (reading.py) -----------------------------------------------------------------------------------
    def read(self, model: str, ids: list[int], fields: list[str] | None = None) -> list[dict[str, Any]]:
        """Records as Odoo's `read` returns them (many2one as [id, name], empty as False)."""
        return reading.read(self, model, ids, fields)

    def default_fields(self, model: str) -> list[str]:
        """The fields `read` returns without a list."""
        return reading.default_fields(self, model)

    def render(self, model: str, record: Record, name: str, spec: Field) -> Any:
        """One field's value in Odoo's wire format."""
        return reading.render(self, model, record, name, spec)

    def search(
        self,
        model: str,
        domain: list[Any],
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        """Ids of the records matching `domain` (archived ones left out unless active_test is False)."""
        return reading.search(self, model, domain, offset, limit, order)


COMPANY_MODELS = {  # models whose records belong to the (only) company by default
    "stock.warehouse",
    "stock.picking",
    "stock.picking.type",
    "stock.move",
    "stock.quant",
    "sale.order",
    "sale.order.line",
    "account.move",
    "account.journal",
    "account.tax",
}
DESCRIPTIONS = {
    "res.partner": "Contact",
    "sale.order": "Sales Order",
    "sale.order.line": "Sales Order Line",
    "account.move": "Journal Entry",
    "stock.picking": "Transfer",
    "stock.quant": "Quants",
    "stock.warehouse": "Warehouse",
    "product.template": "Product",
    "product.product": "Product Variant",
}
ACTIONS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}


def _scalar(spec: Field, value: Any, model: str, name: str) -> Any:
    """A scalar value checked and stored as JSON (dates and datetimes as Odoo's strings)."""
    if value is False or value is None:
        return False if spec.kind == "boolean" else None
    if spec.kind in ("float", "monetary"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueFault(f"Wrong value for {model}.{name}: {value!r}")
        return float(value)
    if spec.kind == "integer":
        return int(value)
    if spec.kind == "boolean":
        return bool(value)
    if spec.kind == "datetime" and isinstance(value, str) and len(value) == 10:
        return value + " 00:00:00"
    return value
