"""Checks that cannot fail stay out of the suite: a browser wait that is always true, and a
property test that skips an example by returning before it asserted anything (use `assume`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).parent


def _modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(TESTS).as_posix(), ast.parse(path.read_text("utf-8")))
            for path in sorted(TESTS.rglob("*.py"))]


def _is_given(decorator: ast.expr) -> bool:
    call = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(call, ast.Name) and call.id == "given") or (
        isinstance(call, ast.Attribute) and call.attr == "given")


def _silent_returns(body: list[ast.stmt], asserted: bool = False) -> list[int]:
    """Lines of a bare `return` reached in a block before any assertion in it or above it."""
    found = []
    for stmt in body:
        if isinstance(stmt, ast.Assert) or (isinstance(stmt, ast.With) and any(
                "raises" in ast.unparse(item.context_expr) for item in stmt.items)):
            asserted = True
        elif isinstance(stmt, ast.Return) and stmt.value is None and not asserted:
            found.append(stmt.lineno)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt) and not (
                    isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)):
                found += _silent_returns(inner, asserted)
    return found


def test_no_property_test_returns_before_it_asserts() -> None:
    found = [f"{name}:{line} {fn.name}"
             for name, tree in _modules() for fn in ast.walk(tree)
             if isinstance(fn, ast.FunctionDef) and any(_is_given(d) for d in fn.decorator_list)
             for line in _silent_returns(fn.body)]
    assert found == [], "skip an example with hypothesis.assume, not a bare return"


def test_the_scan_sees_a_silent_return() -> None:
    sample = ast.parse("def f(x):\n    if x < 0:\n        return\n    assert x >= 0\n")
    function = sample.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert _silent_returns(function.body) == [3]


def test_no_browser_wait_is_always_true() -> None:
    always = re.compile(r"wait_for_function\([^)]*\|\|\s*true", re.S)
    found = [path.relative_to(TESTS).as_posix() for path in sorted(TESTS.rglob("*.py"))
             if path.name != "test_honest_checks.py" and always.search(path.read_text("utf-8"))]
    assert found == []
