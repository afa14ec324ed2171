"""How a command ends when something fails: one line that names the system, what failed and what to do,
and an exit code a script can act on; the traceback only with `--debug` (and in the JSON log).

Exit codes (the same for every command):
  0  done, and clean
  1  the work finished but is not clean (failed checks, drift, dead letters, records not linked)
  2  the configuration, the command line or the state database needs a person
  3  a connected system cannot be reached or cannot be used now (refused connection, timeout, TLS,
     maintenance mode, an answer that is not its API)
  4  a connected system refused the credentials or lacks a permission
  5  emporion failed unexpectedly (`--debug` shows the traceback: please report it)
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.markup import escape

from emporion.connectors.base import AuthError, ConnectorError, Retryable
from emporion.connectors.circuit import redact

OK, NOT_CLEAN, USAGE, UNREACHABLE, REFUSED, INTERNAL = 0, 1, 2, 3, 4, 5
EXIT_CODES = (
    "Exit codes: 0 done and clean; 1 finished but not clean (failed checks, drift, dead letters); "
    "2 the configuration, command line or state database needs fixing; 3 a connected system cannot be "
    "reached or used now (down, timeout, TLS, maintenance); 4 a connected system refused the "
    "credentials or a permission; 5 an unexpected error (--debug shows the traceback)."
)
MESSAGE_LENGTH = 400  # characters of a system's own message kept in the line


@dataclass
class Options:
    """What the global options and the loaded configuration say about reporting failures."""

    debug: bool = False  # `--debug`: print the traceback after the line
    json_log: bool = False  # `logging.format: json`: the traceback also goes to the log, as one event
    config: str | None = None  # the configuration file, for the `emporion check -c ...` hint


options = Options()


class ConnectionFailed(Exception):
    """A failure that happened inside one connection's connector (`connection`, None when the frames do
    not tell which), or a typed connector error: `error` is what was raised."""

    def __init__(self, connection: str | None, error: BaseException) -> None:
        super().__init__(f"connection {connection!r}: {error}")
        self.connection = connection
        self.error = error


class StateUnusable(Exception):
    """The state database cannot be opened or created (e.g. its folder cannot be made)."""


@dataclass(frozen=True)
class Failure:
    """What a failed command prints (Rich markup, one line) and the exit code it ends with."""

    line: str
    code: int


def leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside `error`: itself, or every exception its groups hold (depth first)."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaves(inner)
    else:
        yield error


def connection_of(error: BaseException, named: Callable[[object], str | None]) -> str | None:
    """The connection in whose code `error` was raised: the innermost frame whose `self` is a connector
    (`named` gives a frame owner's connection name, or None), searched in the inner exceptions of a
    group first (a task's traceback starts at the task), then along the group's own frames."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := connection_of(inner, named)) is not None:
                return found
    frames: list[TracebackType] = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    for frame in reversed(frames):  # innermost first
        owner = frame.tb_frame.f_locals.get("self")
        if owner is not None and (name := named(owner)) is not None:
            return name
    if error.__cause__ is not None and error.__cause__ is not error:
        return connection_of(error.__cause__, named)
    return None


def _text(error: BaseException) -> str:
    """An error's own message in one line, credentials in URLs removed, length bounded."""
    text = " ".join(str(error).split()) or type(error).__name__
    text = redact(text)
    return text if len(text) <= MESSAGE_LENGTH else text[: MESSAGE_LENGTH - 3] + "..."


def _check_hint() -> str:
    where = f" -c {options.config}" if options.config else ""
    return f"`emporion check{where}` tests each connection"


def _connection_failure(name: str | None, error: BaseException) -> Failure:
    """The line for a failure inside connection `name` (None: one whose name the frames did not tell)."""
    subject = f"connection {name!r}" if name else "a connection"
    typed = next((e for e in leaves(error) if isinstance(e, ConnectorError)), None)
    if typed is None:
        leaf = next(leaves(error))
        what = f"{type(leaf).__name__}: {_text(leaf)}"
        return Failure(
            f"[red]{escape(subject)} gave an answer emporion cannot use[/] ({escape(what)}); "
            f"is its url right? {_check_hint()}; --debug shows the traceback",
            UNREACHABLE,
        )
    return _connector_failure(subject, typed)


def _connector_failure(subject: str, error: ConnectorError) -> Failure:
    """The line for a typed connector error, `subject` naming the connection when it is known."""
    message = escape(_text(error))
    subject = escape(subject)
    if isinstance(error, AuthError):
        return Failure(
            f"[red]{subject} refused the credentials or a permission[/]: {message}. Correct the "
            f"connection's credentials or their permissions: {_check_hint()}",
            REFUSED,
        )
    if isinstance(error, Retryable):
        return Failure(
            f"[red]{subject} cannot be reached or is unavailable[/]: {message}. Try again later, or "
            f"check that the system runs and that the connection's url is right: {_check_hint()}",
            UNREACHABLE,
        )
    return Failure(f"[red]{subject} failed[/]: {message}. {_check_hint()}", UNREACHABLE)


def state_database_problem(error: BaseException) -> str | None:
    """The driver's one-line reason when `error` (or one it groups) is the state database failing to
    connect, open or work, else None. Programming errors (bad SQL, constraint violations) are not."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(error, StateUnusable):
        return _text(error)
    if isinstance(error, OperationalError | InterfaceError):
        reason = str(error.orig or error).strip().splitlines() or ["unknown error"]
        return redact(reason[0][:300])
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := state_database_problem(inner)) is not None:
                return found
    return None


def explain(error: BaseException) -> Failure:
    """The one line and the exit code for a command that failed with `error`."""
    if isinstance(error, ConnectionFailed):
        return _connection_failure(error.connection, error.error)
    if (problem := state_database_problem(error)) is not None:
        return Failure(f"[red]the state database cannot be used[/]: {escape(problem)}", USAGE)
    typed = next((e for e in leaves(error) if isinstance(e, ConnectorError)), None)
    if typed is not None:
        return _connector_failure("a connection", typed)
    leaf = next(leaves(error))
    what = escape(f"{type(leaf).__name__}: {_text(leaf)}")
    return Failure(
        f"[red]emporion failed unexpectedly[/]: {what} (run again with --debug for the traceback, "
        "and please report it)",
        INTERNAL,
    )


def report(err: Console, error: BaseException) -> int:
    """Print the failure's line (after the traceback, with --debug), log it when the log is JSON; its code."""
    failure = explain(error)
    cause = error.error if isinstance(error, ConnectionFailed) else error
    if options.debug:
        text = "".join(traceback.format_exception(cause))
        err.print(text, markup=False, highlight=False, end="", soft_wrap=True)  # as Python prints it
    if options.json_log:
        from rich.text import Text

        from emporion.logs import get_logger

        plain = Text.from_markup(failure.line).plain
        log = get_logger("emporion.cli")
        log.error("command failed", reason=plain, exit_code=failure.code, exc_info=cause)
    err.print(failure.line, soft_wrap=True, highlight=False)
    return failure.code
