"""What every command shares: settings, a one-line reason and a non-zero exit on failure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from shelterwatch.errors import ShelterwatchError

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console


def __getattr__(name: str) -> Any:
    """`console` and `err_console`, rich Consoles made when a module first imports them.

    Importing rich and measuring the terminal is ~15 ms of a command's start; a command whose
    module prints one plain line (`typer.echo`) and imports these only where it uses them
    does not pay it."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    """The module's `name` console, made once."""
    made: Console | None = globals().get(name)
    if made is None:
        from rich.console import Console

        made = globals()[name] = Console(stderr=name == "err_console")
    return made


F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    _console("err_console").print(f"[bold red]error:[/] {message}", highlight=False,
                                  soft_wrap=True)
    return typer.Exit(code)


def one_line_errors(func: F) -> F:
    """Turn expected failures into `error: <reason>` and exit 1, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ShelterwatchError, ValueError) as exc:  # a mapping file's MappingError too
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        except FileNotFoundError as exc:
            raise fail(f"no such file: {exc.filename}") from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise fail(f"database: {reason}") from None

    return wrapper  # type: ignore[return-value]
