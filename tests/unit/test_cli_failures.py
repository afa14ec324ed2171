"""How a failed command is worded and which exit code it gets, from the exceptions themselves."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from emporion.cli.failures import (
    INTERNAL,
    REFUSED,
    UNREACHABLE,
    USAGE,
    ConnectionFailed,
    StateUnusable,
    connection_of,
    explain,
    options,
    report,
)
from emporion.connectors.base import AuthError, Permanent, Retryable


class Named:
    """An object with a connection's name whose methods raise, as a connector's do."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, error: Exception) -> None:
        raise error

    def call(self, other: Named, error: Exception) -> None:
        other.fail(error)


def raised(owner: Named, error: Exception, through: Named | None = None) -> BaseException:
    """`error` as raised inside `owner.fail` (called from `through.call` when given)."""
    try:
        if through is None:
            owner.fail(error)
        else:
            through.call(owner, error)
    except Exception as caught:
        return caught
    raise AssertionError("did not raise")


def test_the_innermost_connection_frame_names_the_failure() -> None:
    erp, shop = Named("erp"), Named("shop")
    error = raised(shop, Retryable("down"), through=erp)
    named = {id(erp): "erp", id(shop): "shop"}
    assert connection_of(error, lambda owner: named.get(id(owner))) == "shop"
    assert connection_of(error, lambda owner: "erp" if owner is erp else None) == "erp"
    assert connection_of(error, lambda owner: None) is None


def test_a_task_groups_inner_traceback_is_searched_first() -> None:
    shop = Named("shop")
    inner = raised(shop, AuthError("bad key"))
    group = ExceptionGroup("tasks", [ValueError("other"), inner])
    assert connection_of(group, lambda owner: "shop" if owner is shop else None) == "shop"


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (Retryable("GET products timed out"), UNREACHABLE, "'shop' cannot be reached or is unavailable"),
        (AuthError("key refused"), REFUSED, "'shop' refused the credentials or a permission"),
        (Permanent("not a list"), UNREACHABLE, "'shop' failed"),
        (ValueError("Expecting value"), UNREACHABLE, "'shop' gave an answer emporion cannot use"),
    ],
)
def test_a_connection_failure_is_one_line_with_its_code(error: Exception, code: int, words: str) -> None:
    failure = explain(ConnectionFailed("shop", ExceptionGroup("tasks", [error])))
    assert failure.code == code and words in failure.line and "\n" not in failure.line


def test_state_and_unexpected_failures() -> None:
    state = explain(StateUnusable("Not a directory: /srv/a-file/state"))
    assert state.code == USAGE and "the state database cannot be used" in state.line
    bug = explain(KeyError("price"))
    assert bug.code == INTERNAL and "--debug" in bug.line and "KeyError" in bug.line


def test_credentials_in_a_url_never_reach_the_line() -> None:
    failure = explain(ConnectionFailed("erp", Retryable("cannot reach http://admin:hunter22@erp:8000")))
    assert "hunter22" not in failure.line and "***@erp:8000" in failure.line


def test_debug_prints_the_traceback_then_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    error = raised(Named("shop"), Retryable("refused"))
    for debug in (False, True):
        monkeypatch.setattr(options, "debug", debug)
        out = io.StringIO()
        code = report(Console(file=out, width=80), ConnectionFailed("shop", error))
        text = out.getvalue()
        assert code == UNREACHABLE
        assert ("Traceback (most recent call last)" in text) is debug
        assert text.strip().splitlines()[-1].startswith("connection 'shop' cannot be reached")
