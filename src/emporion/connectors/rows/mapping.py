"""One source's rows as canonical fields: its `columns` compiled once, then applied to every row.

A column entry is a column's name (copied) or a field rule (`emporion.rules.FieldRule`) evaluated over
the row: the row's columns are the rule's variables (`{{ Bezeichnung }}`, `VK_Brutto / decimal('1.19')`),
and `row` is the whole row, for column names that are no identifiers (`row['VK Brutto']`). A canonical
field the mapping does not name copies the column of the same name when the row has one. Values stay
as the row holds them: `rows.assemble` types them, with the source's parsing options.

Column names are matched exactly, then ignoring case (PostgreSQL folds unquoted names to lower case,
MS SQL keeps them as declared), so `ArtNr` in the configuration finds `artnr` in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import meta, nodes

from emporion.connectors.base import Permanent
from emporion.connectors.rows.settings import RowSource
from emporion.connectors.rows.values import DEFAULT_PARSING, Parsing, to_bool, to_decimal, to_text
from emporion.rules import ENVIRONMENT, FieldRule, RuleEvaluator, get_path, set_path

_HELPERS = frozenset(ENVIRONMENT.globals) | {"row", "number", "yes", "text"}


class RowMapper:
    """Maps one source's rows to canonical fields (raw values), and says which columns it reads."""

    def __init__(
        self, source: RowSource, fields: Sequence[str], *, parsing: Parsing = DEFAULT_PARSING
    ) -> None:
        self.source = source
        self.parsing = parsing
        self._copies: dict[str, str] = {}  # canonical path -> column
        rules: dict[str, FieldRule] = {}
        for path, column in source.columns.items():
            if isinstance(column, FieldRule):
                rules[path] = column
            else:
                self._copies[path] = column
        self._defaults = [field for field in fields if field not in source.columns]
        self._rules = rules
        self._evaluator = RuleEvaluator(rules) if rules else None
        self._bare = [path for path, rule in rules.items() if _reads_itself(rule)]
        self._spellings: dict[tuple[tuple[str, ...], str], Any] = {}
        self._helpers: dict[str, Any] = {
            "number": lambda value: to_decimal(value, parsing),
            "yes": to_bool,
            "text": to_text,
        }

    def key(self, row: Mapping[str, Any], record: str | None = None) -> str:
        """The row's key as text; a missing or empty key is a Permanent error naming the key column."""
        column = self.source.key
        value = self._column(row, column)
        if value is _ABSENT:
            raise Permanent(f"the key column {column} is missing", record=record, field=column)
        try:
            text = to_text(value)
        except ValueError as error:
            raise Permanent(f"the key is unusable: {error}", record=record, field=column) from None
        if not text:
            raise Permanent("the key is empty", record=record, field=column)
        return text

    def fields(self, row: Mapping[str, Any], record: str) -> dict[str, Any]:
        """The row's canonical fields (nested by dotted path: `custom.brand` -> {"custom": {"brand"}})."""
        data: dict[str, Any] = {}
        for field in self._defaults:
            value = self._column(row, field)
            if value is not _ABSENT:
                set_path(data, field, value)
        for path, column in self._copies.items():
            value = self._column(row, column)
            if value is _ABSENT:
                raise Permanent(f"column {column} is missing (for field {path})", record=record, field=column)
            set_path(data, path, value)
        if self._evaluator is not None:
            evaluated = self._evaluated(row, record)
            for path in self._rules:
                set_path(data, path, get_path(evaluated, path))
        return data

    def _evaluated(self, row: Mapping[str, Any], record: str) -> dict[str, Any]:
        """The rules' fields: each rule sees the row's columns (a rule without a source, its own column)."""
        assert self._evaluator is not None
        values: dict[str, Any] = {}
        for path in self._bare:
            value = self._column(row, path)
            set_path(values, path, None if value is _ABSENT else value)
        context = {**self._helpers, **row, "row": row}
        self._evaluator.apply(values, record, context=context)
        return values

    def _column(self, row: Mapping[str, Any], column: str) -> Any:
        """The row's value of `column` (exact name first, then ignoring case); _ABSENT when it has none."""
        if column in row:
            return row[column]
        names = tuple(row)
        spelled = self._spellings.get((names, column), _ABSENT)
        if spelled is _ABSENT:
            folded = column.casefold()
            matches = [name for name in names if name.casefold() == folded]
            spelled = matches[0] if len(matches) == 1 else None
            if len(self._spellings) > 1000:  # rows of one source share one shape; stay bounded regardless
                self._spellings.clear()
            self._spellings[(names, column)] = spelled
        return _ABSENT if spelled is None else row[spelled]

    def columns(self) -> set[str]:
        """Every column the mapping needs: the key, copied columns and the variables of rules."""
        needed = {self.source.key, *self._copies.values()}
        for path, rule in self._rules.items():
            if rule.from_ is not None:
                needed.add(rule.from_.split(".")[0])
            elif rule.template is not None:
                needed |= _variables(ENVIRONMENT.parse(rule.template))
            elif rule.expression is not None:
                needed |= _variables(ENVIRONMENT.parse("{{ (" + rule.expression + ") }}"))
            elif _reads_itself(rule):
                needed.add(path)
        return needed

    def optional_columns(self) -> set[str]:
        """Columns copied when the row has them: canonical fields the mapping does not name."""
        return set(self._defaults)


_ABSENT = object()


def _reads_itself(rule: FieldRule) -> bool:
    """A rule with no source (only a map or rounding) works on the column of its field's name."""
    return (
        rule.from_ is None
        and rule.template is None
        and rule.expression is None
        and "constant" not in rule.model_fields_set
    )


def _variables(template: nodes.Template) -> set[str]:
    """The columns a rule's template or expression reads: its free names, helpers left out, and
    `row['...']` subscripts."""
    names = set(meta.find_undeclared_variables(template)) - _HELPERS
    for item in template.find_all(nodes.Getitem):
        if (
            isinstance(item.node, nodes.Name)
            and item.node.name == "row"
            and isinstance(item.arg, nodes.Const)
        ):
            names.add(str(item.arg.value))
    return names
