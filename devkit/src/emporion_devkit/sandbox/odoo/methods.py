"""The methods the external API may call: ORM methods and business methods, each with Odoo's signature.

Both wire protocols end in `dispatch`: JSON-RPC binds `execute_kw`'s positional arguments to the
signature (the first one being the ids for record methods), JSON-2 passes named arguments only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emporion_devkit.sandbox.odoo.errors import (
    AccessError,
    AttributeFault,
    NotFound,
    TypeFault,
    Unprocessable,
    UserError,
    ValueFault,
)
from emporion_devkit.sandbox.odoo.orm import Env
from emporion_devkit.sandbox.odoo.schema import MODELS, fields_of

Impl = Callable[..., Any]


@dataclass(frozen=True)
class Method:
    """A public method: parameter names in order, their defaults, and whether it runs on records."""

    params: tuple[str, ...]
    impl: Impl  # impl(env, model, ids, **params)
    on_records: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)
    versions: tuple[int, ...] = (17, 18, 19)  # the versions that have the method
    varkw: bool = False  # takes any other keyword (search_read passes them on to read)


def _search(
    env: Env,
    model: str,
    ids: list[int],
    domain: list[Any],
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    return env.search(model, domain, offset, limit, order)


def _search_read(
    env: Env,
    model: str,
    ids: list[int],
    domain: list[Any] | None = None,
    fields: list[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    load: str = "_classic_read",
    **read_kwargs: Any,
) -> list[dict[str, Any]]:
    _every_field(env, model, fields)
    return env.read(model, env.search(model, domain or [], offset, limit, order), fields)


def _every_field(env: Env, model: str, fields: list[str] | None) -> None:
    """Odoo 19 reads every field when none are named; a contact's RTC sessions are closed to most."""
    if not fields and model == "res.partner" and env.version.major >= 19 and not env.su:
        raise AccessError(
            "Failed to read field res.partner.rtc_session_ids\n"
            "You are not allowed to access 'Mail RTC session' (discuss.channel.rtc.session) records.\n\n"
            "This operation is allowed for the following groups:\n\t- Role / Administrator\n\n"
            "Contact your administrator to request access if necessary."
        )


def _search_count(env: Env, model: str, ids: list[int], domain: list[Any], limit: int | None = None) -> int:
    return len(env.search(model, domain, 0, limit))


def _read(
    env: Env, model: str, ids: list[int], fields: list[str] | None = None, load: str = "_classic_read"
) -> list[dict[str, Any]]:
    _every_field(env, model, fields)
    table = env.store.table(model)
    return env.read(model, [i for i in ids if i in table], fields)  # missing ids are left out, as Odoo does


def _create(env: Env, model: str, ids: list[int], vals_list: Any) -> Any:
    if isinstance(vals_list, dict):
        return env.create(model, [vals_list])[0]
    return env.create(model, list(vals_list))


def _write(env: Env, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
    env.write(model, ids, vals)
    return True


def _write_values(env: Env, model: str, ids: list[int], values: dict[str, Any]) -> bool:
    """`write` of an override that names its argument `values` (sale_stock's on 17 and 18)."""
    return _write(env, model, ids, values)


def _unlink(env: Env, model: str, ids: list[int]) -> bool:
    env.unlink(model, ids)
    return True


def _fields_get(
    env: Env,
    model: str,
    ids: list[int],
    allfields: list[str] | None = None,
    attributes: list[str] | None = None,
) -> dict[str, Any]:
    env.check(model, "read")
    out = {}
    for name in allfields or env.default_fields(model) + ["image_1920"] * ("image_1920" in fields_of(model)):
        spec = env.field(model, name)
        description = {
            "type": spec.kind,
            "string": name.replace("_", " ").title(),
            "store": not spec.computed,
            "readonly": spec.computed,
            "required": False,
        }
        if spec.relation:
            description["relation"] = spec.relation
        out[name] = {k: v for k, v in description.items() if not attributes or k in attributes}
    return out


def _name_search(
    env: Env,
    model: str,
    ids: list[int],
    name: str = "",
    domain: list[Any] | None = None,
    operator: str = "ilike",
    limit: int | None = 100,
) -> list[list[Any]]:
    found = env.search(model, domain or [])
    hits = []
    for record_id in found:
        record = env.store.table(model)[record_id]
        label = env.display_name(model, record)
        if (
            not name
            or _matches(label, operator, name)
            or _matches(str(record.get("default_code") or ""), operator, name)
        ):
            hits.append([record_id, label])
    return hits[:limit] if limit else hits


def _matches(label: str, operator: str, name: str) -> bool:
    if operator in ("=", "=ilike"):
        return label.lower() == name.lower() if operator == "=ilike" else label == name
    return name.lower() in label.lower() if operator == "ilike" else name in label


def _check_access_rights(
    env: Env, model: str, ids: list[int], operation: str, raise_exception: bool = True
) -> bool:
    try:
        env.check(model, operation)
    except AccessError:
        if raise_exception:
            raise
        return False
    return True


def _has_access(env: Env, model: str, ids: list[int], operation: str) -> bool:
    return _check_access_rights(env, model, ids, operation, False)


def _check_access(env: Env, model: str, ids: list[int], operation: str) -> None:
    env.check(model, operation)


def _default_get(env: Env, model: str, ids: list[int], fields_list: list[str]) -> dict[str, Any]:
    return {}


GENERIC: dict[str, Method] = {
    "search": Method(("domain", "offset", "limit", "order"), _search, on_records=False),
    "search_read": Method(
        ("domain", "fields", "offset", "limit", "order", "load"), _search_read, on_records=False, varkw=True
    ),
    "search_count": Method(("domain", "limit"), _search_count, on_records=False),
    "create": Method(("vals_list",), _create, on_records=False),
    "fields_get": Method(("allfields", "attributes"), _fields_get, on_records=False),
    "name_search": Method(("name", "domain", "operator", "limit"), _name_search, on_records=False),
    "check_access_rights": Method(("operation", "raise_exception"), _check_access_rights, on_records=False),
    "default_get": Method(("fields_list",), _default_get, on_records=False),
    "read": Method(("fields", "load"), _read),
    "write": Method(("vals",), _write),
    "unlink": Method((), _unlink),
}
ACCESS_18 = {
    "has_access": Method(("operation",), _has_access),
    "check_access": Method(("operation",), _check_access),
}
BUSINESS: dict[tuple[str, str], Method] = {}  # filled by the business modules
# overrides whose parameter names differ from BaseModel's on some versions: a keyword call by
# BaseModel's name fails there as in Odoo ("got an unexpected keyword argument 'vals'")
RENAMED: dict[tuple[int, str, str], Method] = {
    (major, model, "write"): Method(("values",), _write_values)
    for major in (17, 18)
    for model in ("sale.order", "sale.order.line")
}


def find(env: Env, model: str, name: str, json2: bool = False) -> Method:
    """The public method `name` of `model` on this version (unknown ones fail as they do in Odoo)."""
    if model not in MODELS:
        if json2:
            raise NotFound(f"the model {model!r} does not exist")
        raise UserError(f"Object {model} doesn't exist")
    if name.startswith("_"):
        raise AccessError(f"Private methods (such as '{model}.{name}') cannot be called remotely.")
    method = RENAMED.get((env.version.major, model, name)) or BUSINESS.get((model, name)) or GENERIC.get(name)
    if method is not None and env.version.major not in method.versions:
        method = None
    if method is None and env.version.has_access:
        method = ACCESS_18.get(name)
    if method is None:
        message = f"The method '{model}.{name}' does not exist"
        raise NotFound(message) if json2 else AttributeFault(message)
    return method


def bind(
    method: Method, args: list[Any], kwargs: dict[str, Any], model: str, name: str, json2: bool = False
) -> dict[str, Any]:
    """Arguments bound to the parameters; a mismatch is a 422 on JSON-2, a TypeError over JSON-RPC."""
    fault = Unprocessable if json2 else TypeFault
    owner = "BaseModel" if name in GENERIC or name in ACCESS_18 else model
    if len(args) > len(method.params):
        raise fault(
            f"{owner}.{name}() takes {len(method.params)} positional arguments but {len(args)} were given"
        )
    bound = dict(zip(method.params, args, strict=False))
    for key, value in kwargs.items():
        if key not in method.params and not method.varkw:
            raise fault(f"{owner}.{name}() got an unexpected keyword argument '{key}'")
        if key in bound:
            raise fault(f"{owner}.{name}() got multiple values for argument '{key}'")
        bound[key] = value
    required = [p for p in method.params if p not in bound and p not in _optional(method)]
    if required and json2:
        raise fault(f"missing a required argument: '{required[0]}'")
    if required:
        raise fault(f"{owner}.{name}() missing 1 required positional argument: '{required[0]}'")
    return bound


def _optional(method: Method) -> set[str]:
    import inspect

    signature = inspect.signature(method.impl)
    return {n for n, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}


def dispatch(
    env: Env,
    model: str,
    name: str,
    ids: list[int] | None,
    args: list[Any],
    kwargs: dict[str, Any],
    json2: bool = False,
) -> Any:
    """Call a public method and return its JSON-ready result (records become their ids)."""
    method = find(env, model, name, json2)
    if not method.on_records and ids:
        raise Unprocessable(f"cannot call {model}.{name} with ids")
    params = bind(method, args, kwargs, model, name, json2)
    if method.on_records and not all(isinstance(i, int) and not isinstance(i, bool) for i in ids or []):
        raise ValueFault(f"Invalid ids {ids!r}")
    return method.impl(env, model, list(ids or []), **params)
