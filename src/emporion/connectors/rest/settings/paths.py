"""JSON paths and placeholders of a declarative connection, checked while the configuration is read.

A field mapping names a canonical field (`sku`, `sale_price.price`, `custom.color`) and a JSON path
in the shop's record (`$.variants[0].sku`, RFC 9535). Both are checked here, so that a typo is refused
by `emporion check` with its place in the YAML file, never met at the first sync. A singular path
(names and indexes only) is also a place to write: `put_at` builds a body along its steps.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any

import jsonpath
from pydantic import AfterValidator, BaseModel

from emporion.model import Image, StockLevel

HEADER = "header:"
WHOLE_LISTS = (Image, StockLevel)  # lists of models read whole: [{url, alt}], [{warehouse, quantity}]


@functools.lru_cache(maxsize=4096)
def compiled(path: str) -> jsonpath.JSONPath | jsonpath.CompoundJSONPath:
    """The compiled JSON path (cached: a mapping reads the same paths for every record)."""
    return jsonpath.compile(path)


def check_path(path: str | None) -> str | None:
    """A JSON path (or `header:<name>` where an answer's header is meant), refused if it cannot parse."""
    if path is None or path.startswith(HEADER):
        return path
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path: it starts with $ (e.g. $.sku)")
    try:
        compiled(path)
    except jsonpath.JSONPathError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path!r} is not a valid JSON path: {reason}") from None
    return path


def check_template(text: str) -> str:
    """A string with `{placeholders}`, refused if its braces do not pair."""
    try:
        list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"{text!r} has unpaired braces: {error}") from None
    return text


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`Address | None` -> Address), if any."""
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _listed_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a `list[Model]` annotation, if it is one."""
    if typing.get_origin(annotation) is not list:
        return None
    (item,) = typing.get_args(annotation)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _is_mapping(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict


def field_checker(model: type[BaseModel]) -> Callable[[str], str]:
    """A validator of canonical field paths of `model`: `name`, `part.name`, `dictfield.<any key>`."""

    def check(name: str) -> str:
        current: type[BaseModel] | None = model
        parts = name.split(".")
        for index, part in enumerate(parts):
            fields = current.model_fields if current is not None else {}
            if part not in fields:
                known = ", ".join(sorted(fields))
                where = ".".join(parts[:index]) or model.__name__
                raise ValueError(f"{name!r}: {where} has no field {part!r} (it has: {known})")
            annotation = fields[part].annotation
            if _is_mapping(annotation):
                if index == len(parts) - 1:
                    raise ValueError(f"{name!r} is a set of named values: name one ({part}.<name>)")
                return name  # custom.<name>, price_lists.<name>, attributes.<name>
            current = _model_of(annotation)
            if current is None and index < len(parts) - 1:
                raise ValueError(f"{name!r}: {part!r} has no fields of its own")
        if current is not None:
            raise ValueError(f"{name!r} is a group of fields: map each of them ({name}.<field>)")
        if _listed_model(annotation) not in (None, *WHOLE_LISTS):
            raise ValueError(
                f"{name!r} is a list of records: it is described by its own list ({name}: items, fields)"
            )
        return name

    return check


JsonPath = Annotated[str, AfterValidator(check_path)]
Template = Annotated[str, AfterValidator(check_template)]


def fields_of(model: type[BaseModel]) -> Any:
    """The key type of a field mapping for `model`: a string checked against its canonical fields."""
    return Annotated[str, AfterValidator(field_checker(model))]


PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")


Step = str | int


@functools.lru_cache(maxsize=4096)
def singular_steps(path: str) -> tuple[Step, ...] | None:
    """The names and indexes of a singular JSON path (`$.a.b[0]` -> ('a', 'b', 0)), else None.

    Only child segments with one name or one non-negative index are singular in this sense: they
    name one place that a body can be built to hold (RFC 9535 singular queries, without `[-1]`).
    """
    from jsonpath.path import JSONPath as Compiled
    from jsonpath.segments import JSONPathChildSegment
    from jsonpath.selectors import IndexSelector, NameSelector

    query = compiled(path)
    if not isinstance(query, Compiled):
        return None
    steps: list[Step] = []
    for segment in query.segments:
        if not isinstance(segment, JSONPathChildSegment) or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if isinstance(selector, NameSelector):
            steps.append(selector.name)
        elif isinstance(selector, IndexSelector) and selector.index >= 0:
            steps.append(selector.index)
        else:
            return None
    return tuple(steps)


def check_singular(path: str) -> str:
    """A JSON path that names one place (a field written to the shop), refused otherwise."""
    if singular_steps(path) is None:
        raise ValueError(
            f"{path!r} names no single place, so it cannot be written: use names and indexes only"
            " (e.g. $.prices[0].amount), or give the field a path in `write_fields`"
        )
    return path


def put_at(body: dict[str, Any], steps: tuple[Step, ...], value: Any) -> None:
    """Set `value` at `steps` in `body`, making the objects and lists on the way (`$` merges an object)."""
    if not steps:
        if isinstance(value, dict):
            body.update(value)
        return
    current: Any = body
    for step, following in itertools.pairwise(steps):
        current = _slot(current, step, {} if isinstance(following, str) else [])
    _place(current, steps[-1], value)


def _slot(current: Any, step: Step, empty: dict[str, Any] | list[Any]) -> Any:
    """The container at `step` in `current`, made (as `empty`) where there is none of its kind."""
    existing = _place(current, step, None, keep=True)
    if type(existing) is not type(empty):
        _place(current, step, empty)
        return empty
    return existing


def _place(current: Any, step: Step, value: Any, keep: bool = False) -> Any:
    """Set (or with `keep`, read) one step: a name in an object, an index in a list (padded with null)."""
    if isinstance(step, int):
        if not isinstance(current, list):
            raise ValueError(f"cannot index [{step}] into an object")
        current.extend([None] * (step + 1 - len(current)))
        if not keep:
            current[step] = value
        return current[step]
    if not keep:
        current[step] = value
    return current.get(step)
