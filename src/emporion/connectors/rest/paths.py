"""JSON paths and placeholders of a declarative connection, checked while the configuration is read.

A field mapping names a canonical field (`sku`, `sale_price.price`, `custom.color`) and a JSON path
in the shop's record (`$.variants[0].sku`, RFC 9535). Both are checked here, so that a typo is refused
by `emporion check` with its place in the YAML file, never met at the first sync.
"""

from __future__ import annotations

import functools
import re
import string
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any

import jsonpath
from pydantic import AfterValidator, BaseModel

HEADER = "header:"


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
        return name

    return check


JsonPath = Annotated[str, AfterValidator(check_path)]
Template = Annotated[str, AfterValidator(check_template)]


def fields_of(model: type[BaseModel]) -> Any:
    """The key type of a field mapping for `model`: a string checked against its canonical fields."""
    return Annotated[str, AfterValidator(field_checker(model))]


PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
