"""Shop records to canonical records and back, by the JSON paths of an entity's field mapping.

Reading: each canonical field takes the value at its JSON path (money by the entity's `money` kind,
Decimal always); nested lists (variants, lines, shipments, refunds) by their own mappings. A value
that does not fit (a price that is no number, a required field missing) raises Permanent naming the
record and the canonical field, so the engine dead-letters that record alone.
Writing: the inverse: a body holding each written field at its path (created as needed), plus the
entity's constants on create. Amounts stay Decimal in the body (`money: decimal`): the client
sends them as JSON numbers, never through float.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from emporion.connectors.base import Permanent
from emporion.connectors.rest import fields as canonical
from emporion.connectors.rest.conversions import Misfit, Money, id_out, to_text
from emporion.connectors.rest.named_values import read_pairs, write_pairs
from emporion.connectors.rest.settings import EntitySettings, NamedValues, NestedList, OrderEntity
from emporion.connectors.rest.settings.paths import Step, compiled, put_at, singular_steps
from emporion.engine.compare import TARGET_CHOOSES_WHEN_NONE
from emporion.model import ENTITY_TYPES, OrderLine, Record

Json = Any
# canonical fields that hold another record's key in the target -> the entity whose ids they are
REFERENCES = {"parent_key": "category", "categories": "category", "product_key": "product"}


@dataclass(frozen=True)
class Reading:
    """What every field of one record is read with: the record's key (for errors), money kind, currency."""

    record: str
    money: Money
    currency: str | None = None
    zone: tzinfo = UTC


def record_from(entity: str, data: Json, settings: EntitySettings, *, key: str | None = None) -> Record:
    """The canonical record (Product, Category, Customer, Order) of one shop record `data`."""
    from emporion.connectors.rest.orders_mapping import order_values

    model = ENTITY_TYPES[entity]
    key = key if key is not None else _key_of(data, settings)
    currency = value_at(data, settings.fields["currency"]) if "currency" in settings.fields else None
    zone = UTC if settings.timezone == "UTC" else ZoneInfo(settings.timezone)
    reading = Reading(key, settings.money, currency if isinstance(currency, str) else None, zone)
    skip = {"status"} if isinstance(settings, OrderEntity) else set()
    values = read_fields(model, data, settings.fields, settings.values, reading, skip=skip)
    values["key"] = key
    with_pairs(values, read_pairs(data, getattr(settings, "attributes", None), True, key, ""))
    values.update(read_lists(data, settings.sublists(), reading, ""))
    if isinstance(settings, OrderEntity):
        order_values(data, settings, reading, values)
    return typing.cast(Record, validated(model, values, settings.fields, reading, ""))


def _key_of(data: Json, settings: EntitySettings) -> str:
    """The shop's id of a record as text (`fields.key`, else `id`)."""
    path = settings.fields.get("key", settings.id)
    found = value_at(data, path)
    if found is None or isinstance(found, dict | list | bool):
        raise Permanent(f"the record's id is missing: nothing at {path}", field="key")
    return to_text(found, "key")


def read_fields(
    model: type[BaseModel],
    data: Json,
    fields: Mapping[str, str],
    translations: Mapping[str, Mapping[str, Any]],
    reading: Reading,
    prefix: str = "",
    skip: Set[str] = frozenset(),
) -> dict[str, Any]:
    """The canonical values of the mapped fields found in `data`, nested by their dotted names."""
    values: dict[str, Any] = {}
    for name, path in fields.items():
        if name in skip:
            continue
        annotation = canonical.annotation_of(model, name)
        if typing.get_origin(canonical._plain(annotation)) is list:
            raw: Any = [entry for entry in listed(data, path) if entry is not None] or None
        else:
            raw = value_at(data, path)
        if raw is None:
            continue
        raw = translated(translations.get(name), raw)
        try:
            value = canonical.read(
                prefix + name, annotation, raw, reading.money, reading.currency, reading.zone
            )
        except Misfit as error:
            raise Permanent(str(error), record=reading.record, field=prefix + name) from None
        _put(values, name.split("."), value)
    return values


def read_lists(data: Json, lists: Mapping[str, NestedList], reading: Reading, prefix: str) -> dict[str, Any]:
    """The nested lists of a record or item (variants, lines, a refund's lines) as canonical items."""
    found: dict[str, Any] = {}
    for name, settings in lists.items():
        items = []
        for position, item in enumerate(entry for entry in listed(data, settings.items) if entry is not None):
            where = f"{prefix}{name}[{position}]."
            model = settings.canonical
            values = read_fields(model, item, settings.fields, settings.values, reading, where)
            values.update(read_lists(item, settings.sublists(), reading, where))
            with_pairs(
                values, read_pairs(item, getattr(settings, "attributes", None), False, reading.record, where)
            )
            if "key" in model.model_fields and "key" not in settings.fields:
                values["key"] = str(position)
            if model is OrderLine and "total" not in settings.fields:
                if "unit_price" in values and "quantity" in values:
                    values["total"] = values["unit_price"] * values["quantity"]
            items.append(validated(model, values, settings.fields, reading, where))
        found[name] = items
    return found


def with_pairs(values: dict[str, Any], pairs: dict[str, Any]) -> None:
    """Attributes read as pairs under those mapped one by one (which win)."""
    if pairs:
        values["attributes"] = {**pairs, **values.get("attributes", {})}


def validated(
    model: type[BaseModel], values: dict[str, Any], fields: Mapping[str, str], reading: Reading, prefix: str
) -> BaseModel:
    """`model` of `values`; a required field missing or a value refused is Permanent naming it."""
    for name, info in model.model_fields.items():
        if info.is_required() and name not in values:
            reason = f"nothing at {fields[name]}" if name in fields else "it is not mapped"
            raise Permanent(f"{name} is missing: {reason}", record=reading.record, field=prefix + name)
        group = canonical._plain(info.annotation)
        if not info.is_required() and isinstance(values.get(name), dict) and isinstance(group, type):
            for part, inner in group.model_fields.items() if issubclass(group, BaseModel) else ():
                if inner.is_required() and part not in values[name]:
                    if f"{name}.{part}" not in fields:
                        reason = f"{name}.{part} is missing: it is not mapped"
                        raise Permanent(reason, record=reading.record, field=f"{prefix}{name}.{part}")
                    del values[name]  # the shop says there is none (no sale price: its dates alone)
                    break
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Permanent(
            f"invalid value ({first['type']})", record=reading.record, field=prefix + where
        ) from None


def translated(table: Mapping[str, Any] | None, raw: Any) -> Any:
    """A shop value through the field's `values` table (the shop's word -> the canonical value)."""
    if not table or isinstance(raw, dict | list):
        return raw
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return table.get(text, raw)


def untranslated(table: Mapping[str, Any] | None, value: Any) -> Any:
    """The shop's word for a canonical value (the first that the `values` table maps to it)."""
    if not table:
        return value
    return next((word for word, meant in table.items() if meant == value), value)


def body_from(
    entity: str,
    record: Record,
    settings: EntitySettings,
    *,
    fields: Set[str] | None = None,
    creating: bool = False,
    id_types: Mapping[str, str] | None = None,
) -> Json:
    """The shop's JSON body for `record`: `fields` only (None: every mapped field), constants on create.

    A field the record does not have (None) is left out of a create, so that the shop fills in its own
    default (a slug from the name) instead of taking a null; an update sends it, to clear the field,
    except one the shop chooses itself when the record has none (a slug: never cleared).
    References to the shop's own records are written as its ids are (`id_types`: entity -> `id_type`).
    """
    written = dict(settings.written())
    status_path = written.pop("status", None) if isinstance(settings, OrderEntity) else None
    body = item_body(
        record,
        written,
        settings.values,
        settings.sublists(),
        settings,
        fields,
        creating=creating,
        id_types=id_types or {},
    )
    _write_pairs(body, record, getattr(settings, "attributes", None), fields)
    if (
        isinstance(settings, OrderEntity)
        and status_path is not None
        and (fields is None or "status" in fields)
    ):
        status = getattr(record, "status", None)
        shop = next((word for word, meant in settings.statuses.items() if meant == status), status)
        put_at(body, _steps(status_path, record.key, "status"), shop)
    if creating:
        for path, value in settings.constants.items():
            put_at(body, _steps(path, record.key, path), copy.deepcopy(value))
    return body


def item_body(
    item: BaseModel,
    written: Mapping[str, str],
    translations: Mapping[str, Mapping[str, Any]],
    lists: Mapping[str, NestedList],
    settings: EntitySettings,
    fields: Set[str] | None,
    record: str | None = None,
    *,
    creating: bool = False,
    id_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body of one record or list item: each written field at its path, then its lists."""
    id_types = id_types or {}
    record = record if record is not None else str(getattr(item, "key", ""))
    body: dict[str, Any] = {}
    for name, path in written.items():
        top = name.split(".")[0]
        if top == "key" or (fields is not None and top not in fields):
            continue
        value = canonical.value_of(item, name)
        if value is canonical.ABSENT or (value is None and (creating or name in TARGET_CHOOSES_WHEN_NONE)):
            continue
        annotation = canonical.annotation_of(type(item), name)
        try:
            shop = canonical.write(
                name, annotation, untranslated(translations.get(name), value), settings.money
            )
            if name in REFERENCES:
                shop = reference_out(shop, id_types.get(REFERENCES[name], "auto"))
        except Misfit as error:
            raise Permanent(str(error), record=record, field=name) from None
        put_at(body, _steps(path, record, name), shop)
    for name, nested in lists.items():
        if fields is not None and name not in fields:
            continue
        bodies = []
        for entry in getattr(item, name):
            bodies.append(
                item_body(
                    entry,
                    nested.fields,
                    nested.values,
                    nested.sublists(),
                    settings,
                    fields,
                    record,
                    creating=creating,
                    id_types=id_types,
                )
            )
            _write_pairs(bodies[-1], entry, getattr(nested, "attributes", None), fields)
        put_at(body, _steps(nested.items, record, name), bodies)
    return body


def reference_out(value: Any, id_type: str) -> Any:
    """A key (or list of keys) of the shop's own records, written as the shop's ids are."""
    if isinstance(value, list):
        return [reference_out(entry, id_type) for entry in value]
    return id_out(value, id_type) if isinstance(value, str) else value


def _write_pairs(
    body: dict[str, Any], item: BaseModel, pairs: NamedValues | None, fields: Set[str] | None
) -> None:
    """The item's attributes as name-value pairs, where the description keeps them so."""
    if pairs is not None and (fields is None or "attributes" in fields):
        write_pairs(body, getattr(item, "attributes", {}), pairs)


def _steps(path: str, record: str, field: str) -> tuple[Step, ...]:
    """The steps of a written path; a path naming no single place cannot be written."""
    steps = singular_steps(path)
    if steps is None:
        raise Permanent(f"{path} names no single place to write", record=record, field=field)
    return steps


def _put(values: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set a dotted canonical name's value in nested dicts (`billing.city`, `custom.color`)."""
    for part in parts[:-1]:
        values = values.setdefault(part, {})
    values[parts[-1]] = value


def listed(data: Json, path: str) -> list[Any]:
    """Every value a path finds; one list found whole is its entries (`$.tags` and `$.tags[*]` alike)."""
    if singular_steps(path) is not None:
        found = value_at(data, path)
        matches = [] if found is None else [found]
    else:
        matches = compiled(path).findall(data)
    return matches[0] if len(matches) == 1 and isinstance(matches[0], list) else matches


def value_at(data: Json, path: str) -> Any:
    """The single value at a JSON path in `data`, or None where there is none."""
    steps = singular_steps(path)
    if steps is None:
        found = compiled(path).findall(data)
        return found[0] if found else None
    current = data
    for step in steps:
        if isinstance(step, str) and isinstance(current, dict):
            current = current.get(step)
        elif isinstance(step, int) and isinstance(current, list) and step < len(current):
            current = current[step]
        else:
            return None
    return current
