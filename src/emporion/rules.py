"""Field rules: how one field gets its value (copy, constant, template, expression, value map, rounding).

Flows map canonical records with them, and connectors that read rows (SQL tables, files) map columns
to canonical fields with the same rules, so a merchant learns one way to say "this field comes from".
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emporion.connectors.base import Permanent

_JINJA = SandboxedEnvironment()  # templates and expressions are compiled here once, to check their syntax


class FieldRule(BaseModel):
    """How one target field gets its value: a source, then an optional value map, then rounding."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(None, alias="from", description="copy this source field (dotted path)")
    constant: Any = None
    template: str | None = Field(None, description="Jinja2 template over the record, e.g. '{{ name }}'")
    expression: str | None = Field(None, description="Jinja2 expression, e.g. list_price * decimal('1.19')")
    map: dict[str, Any] | None = Field(None, description="value map, applied to each item of a list")
    default: Any = Field(None, description="value for what the map does not list (else kept as it is)")
    strict: bool = Field(False, description="a value the map does not list is an error (dead letter)")
    round: int | None = Field(None, ge=0, le=6, description="decimal places, half up")

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [
            name
            for name, value in (
                ("from", self.from_),
                ("template", self.template),
                ("expression", self.expression),
            )
            if value is not None
        ]
        if "constant" in self.model_fields_set:
            sources.append("constant")
        if len(sources) > 1:
            raise ValueError(f"give one of from, constant, template, expression (got {', '.join(sources)})")
        if not sources and self.map is None and self.round is None:
            raise ValueError("a rule needs a source (from, constant, template, expression), a map or round")
        return self

    @field_validator("template")
    @classmethod
    def _template_parses(cls, value: str | None) -> str | None:
        return check_template(value)

    @field_validator("expression")
    @classmethod
    def _expression_parses(cls, value: str | None) -> str | None:
        return check_expression(value)


def check_template(text: str | None) -> str | None:
    """`text` when it is a Jinja2 template that compiles; else its syntax error and line, as a ValueError."""
    if text is not None:
        _jinja_syntax(lambda: _JINJA.from_string(text), "template")
    return text


def check_expression(text: str | None) -> str | None:
    """`text` when it is a Jinja2 expression that parses; else the syntax error as a ValueError."""
    if text is not None:
        _jinja_syntax(lambda: _JINJA.compile_expression(text), "expression")
    return text


def _jinja_syntax(parse: Callable[[], object], what: str) -> None:
    try:
        parse()
    except TemplateSyntaxError as error:
        line = f" at line {error.lineno} of the {what}" if what == "template" else ""
        raise ValueError(f"not a valid Jinja2 {what}{line}: {error.message}") from None


_MISSING = object()


def decimal_of(value: Any) -> Decimal:
    """`value` as a Decimal (numbers through their text, so 0.1 stays 0.1)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.globals.update(decimal=decimal_of, str=str, int=int, min=min, max=max, len=len)
    return env


ENVIRONMENT = _environment()


def get_path(data: dict[str, Any], path: str) -> Any:
    """Read a dotted path (`custom.brand`) from a record's data; _MISSING when absent."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Write a dotted path, creating intermediate mappings (`custom.brand`)."""
    *parents, last = path.split(".")
    holder = data
    for part in parents:
        holder = holder.setdefault(part, {})
    holder[last] = value


class RuleEvaluator:
    """Compiles a flow's rules once and applies them to records."""

    def __init__(self, rules: dict[str, FieldRule]) -> None:
        self.rules = rules
        self._templates = {f: ENVIRONMENT.from_string(r.template) for f, r in rules.items() if r.template}
        self._expressions = {
            f: ENVIRONMENT.compile_expression(r.expression) for f, r in rules.items() if r.expression
        }

    def apply(self, data: dict[str, Any], record_name: str, context: dict[str, Any] | None = None) -> None:
        """Apply every rule to `data` in place; the rules see the values before any rule ran."""
        source = dict(data) if context is None else {**context, **data}
        for field, rule in self.rules.items():
            try:
                value = self._value(field, rule, source, data)
            except Permanent as error:
                raise Permanent(
                    error.reason, record=error.record or record_name, field=error.field or field
                ) from None
            except (TemplateError, TypeError, ValueError, ArithmeticError, InvalidOperation) as error:
                raise Permanent(f"mapping rule failed: {error}", record=record_name, field=field) from None
            set_path(data, field, value)

    def _value(self, field: str, rule: FieldRule, source: dict[str, Any], data: dict[str, Any]) -> Any:
        if rule.from_ is not None:
            value = get_path(source, rule.from_)
            if value is _MISSING:
                raise Permanent(f"source field {rule.from_!r} does not exist", field=field)
        elif "constant" in rule.model_fields_set:
            value = rule.constant
        elif field in self._templates:
            value = self._templates[field].render(source)
        elif field in self._expressions:
            value = self._expressions[field](**source)
        else:
            value = get_path(data, field)
            value = None if value is _MISSING else value
        if rule.map is not None:
            value = (
                [self._mapped(rule, item, field) for item in value]
                if isinstance(value, list)
                else (self._mapped(rule, value, field))
            )
        if rule.round is not None and value is not None:
            value = decimal_of(value).quantize(Decimal(1).scaleb(-rule.round), rounding=ROUND_HALF_UP)
        return value

    @staticmethod
    def _mapped(rule: FieldRule, value: Any, field: str) -> Any:
        table = rule.map or {}
        if str(value) in table:
            return table[str(value)]
        if rule.strict:
            raise Permanent(f"value {value!r} is not in the value map", field=field)
        return rule.default if "default" in rule.model_fields_set else value
