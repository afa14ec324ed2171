"""Odoo domains in prefix notation (`&`, `|`, `!`), evaluated on the sandbox's records.

Operators: =, !=, <, <=, >, >=, in, not in, like, not like, ilike, not ilike, =like, =ilike, child_of,
parent_of; dotted paths through many2one/x2many fields (`product_id.default_code`). Empty values behave
as SQL NULL does in Odoo's queries: no match for comparisons, a match for the negative operators.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.odoo.errors import ValueFault

if TYPE_CHECKING:
    from emporion_devkit.sandbox.odoo.orm import Env

Predicate = Callable[[dict[str, Any]], bool]
OPERATORS = {
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
    "any",
    "not any",
}
NEGATIVE = {"!=", "<>", "not in", "not like", "not ilike", "not any"}


def parse(domain: list[Any]) -> Any:
    """The domain as a tree: ("&", a, b), ("|", a, b), ("!", a) or a leaf (path, operator, value)."""
    items = list(domain)
    position = 0

    def take() -> Any:
        nonlocal position
        if position >= len(items):
            raise ValueFault(f"Invalid domain {domain!r}")
        item = items[position]
        position += 1
        if item in ("&", "|"):
            return (item, take(), take())
        if item == "!":
            return ("!", take())
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ValueFault(f"Invalid leaf {item!r}")
        left, operator, right = item
        if isinstance(left, int):  # TRUE_LEAF (1, '=', 1) / FALSE_LEAF (0, '=', 1)
            return ("const", left == right)
        if operator not in OPERATORS:
            raise ValueFault(f"Invalid leaf {item!r}: unknown operator {operator!r}")
        return ("leaf", str(left), operator, right)

    trees = []
    while position < len(items):
        trees.append(take())
    if not trees:
        return ("const", True)
    tree = trees[-1]
    for earlier in reversed(trees[:-1]):  # implicit '&' between top-level terms
        tree = ("&", earlier, tree)
    return tree


def compile_domain(env: Env, model: str, domain: list[Any]) -> Predicate:
    """A predicate testing a record of `model` against `domain`."""
    return _compile(env, model, parse(domain))


def _compile(env: Env, model: str, tree: Any) -> Predicate:
    kind = tree[0]
    if kind == "const":
        value = tree[1]
        return lambda record: value
    if kind == "&":
        left, right = _compile(env, model, tree[1]), _compile(env, model, tree[2])
        return lambda record: left(record) and right(record)
    if kind == "|":
        left, right = _compile(env, model, tree[1]), _compile(env, model, tree[2])
        return lambda record: left(record) or right(record)
    if kind == "!":
        inner = _compile(env, model, tree[1])
        return lambda record: not inner(record)
    _, path, operator, value = tree
    return _leaf(env, model, path.split("."), operator, value)


def _leaf(env: Env, model: str, path: list[str], operator: str, value: Any) -> Predicate:
    field = env.field(model, path[0])
    name = env.internal_name(model, path[0])
    if len(path) > 1:
        if not field.relational or field.relation is None:
            raise ValueFault(f"Invalid field {path[0]!r} in leaf {'.'.join(path)!r}")
        relation = field.relation
        sub = _leaf(env, relation, path[1:], operator, value)
        negative = operator in NEGATIVE

        def through(record: dict[str, Any]) -> bool:
            ids = env.ids_of(model, record, name)
            targets = [env.store.get(relation, i) for i in ids]
            found = [t for t in targets if t is not None]
            if not found:
                return negative
            return all(sub(t) for t in found) if negative else any(sub(t) for t in found)

        return through
    if operator in ("child_of", "parent_of"):
        wanted = _hierarchy(
            env, field.relation if field.relational and field.relation else model, value, operator
        )
        return lambda record: bool(
            set(env.ids_of(model, record, name) if name != "id" else [record["id"]]) & wanted
        )
    if field.relational:
        return _relational(env, model, name, field.relation or "", operator, value)
    return lambda record: _compare(env.value(model, record, name), operator, value)


def _hierarchy(env: Env, model: str, value: Any, operator: str) -> set[int]:
    """The ids under (child_of) or above (parent_of) the given ids, themselves included."""
    roots = set(value if isinstance(value, list) else [value])
    if any(isinstance(r, str) for r in roots):
        roots = {r for r in roots if isinstance(r, int)} | {
            i for i, rec in env.store.table(model).items() if any(r == rec.get("name") for r in roots)
        }
    found = set(roots)
    if operator == "child_of":
        changed = True
        while changed:
            changed = False
            for record_id, record in env.store.table(model).items():
                if record.get("parent_id") in found and record_id not in found:
                    found.add(record_id)
                    changed = True
    else:
        for record_id in list(roots):
            current = env.store.get(model, record_id)
            while current is not None and current.get("parent_id"):
                found.add(current["parent_id"])
                current = env.store.get(model, current["parent_id"])
    return found


def _relational(env: Env, model: str, name: str, relation: str, operator: str, value: Any) -> Predicate:
    """Many2one/x2many leaves: ids, False, or names (matched on the display name)."""
    names = isinstance(value, str) or (isinstance(value, list) and any(isinstance(v, str) for v in value))
    if names and operator not in ("=like", "=ilike"):
        name_operator = {"=": "=", "!=": "!=", "in": "in", "not in": "not in"}.get(operator, operator)
        positive = name_operator.replace("not ", "").replace("!=", "=")
        matching = {
            i
            for i, rec in env.store.table(relation).items()
            if _compare(env.display_name(relation, rec), positive, value)
        }
        negate = operator in NEGATIVE

        def by_name(record: dict[str, Any]) -> bool:
            hit = bool(set(env.ids_of(model, record, name)) & matching)
            return not hit if negate else hit

        return by_name
    if operator in ("any", "not any"):
        sub = compile_domain(env, relation, value)

        def anything(record: dict[str, Any]) -> bool:
            hit = any(sub(r) for i in env.ids_of(model, record, name) if (r := env.store.get(relation, i)))
            return hit if operator == "any" else not hit

        return anything

    def by_id(record: dict[str, Any]) -> bool:
        ids = env.ids_of(model, record, name)
        if operator in ("=", "!=", "<>"):
            if value is False or value is None:
                hit = not ids
            else:
                hit = value in ids
            return hit if operator == "=" else not hit
        if operator in ("in", "not in"):
            wanted = list(value) if isinstance(value, list | tuple) else [value]
            hit = bool(set(ids) & {v for v in wanted if v}) or (not ids and False in wanted)
            return hit if operator == "in" else not hit
        return any(_compare(i, operator, value) for i in ids)

    return by_id


def _pattern(value: str, operator: str) -> re.Pattern[str]:
    """A LIKE pattern as a regular expression (% and _ are wildcards; like/ilike wrap the value in %)."""
    flags = re.IGNORECASE if "ilike" in operator else 0
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
    if operator in ("=like", "=ilike"):
        return re.compile(f"^{body}$", flags | re.DOTALL)
    return re.compile(body, flags | re.DOTALL)  # like wraps the value in % unescaped: % and _ stay wild


def _compare(actual: Any, operator: str, value: Any) -> bool:
    """One comparison with SQL's NULL rules as Odoo's queries have them."""
    empty = actual is None or actual is False or actual == ""
    if operator in ("=", "!=", "<>"):
        if value is False or value is None:
            hit = empty if not isinstance(actual, bool) else actual is False
        elif isinstance(value, bool):
            hit = bool(actual) is value
        else:
            hit = not empty and _same(actual, value)
        return hit if operator == "=" else not hit
    if operator in ("in", "not in"):
        wanted = list(value) if isinstance(value, list | tuple) else [value]
        hit = (not empty and any(_same(actual, v) for v in wanted)) or (empty and False in wanted)
        return hit if operator == "in" else not hit
    if operator in ("like", "ilike", "=like", "=ilike", "not like", "not ilike"):
        if value is False or value is None:
            return empty if operator.startswith("not") else not empty
        hit = not empty and bool(_pattern(str(value), operator.replace("not ", "")).search(str(actual)))
        return not hit if operator.startswith("not") else hit
    if empty or value is None or value is False:
        return False
    try:
        if operator == "<":
            return bool(actual < value)
        if operator == "<=":
            return bool(actual <= value)
        if operator == ">":
            return bool(actual > value)
        return bool(actual >= value)
    except TypeError as error:
        raise ValueFault(f"cannot compare {actual!r} {operator} {value!r}") from error


def _same(actual: Any, value: Any) -> bool:
    """Equality across the JSON types (1 == 1.0; booleans only with booleans)."""
    if isinstance(actual, bool) or isinstance(value, bool):
        return actual is value
    return bool(actual == value)
