"""The command line, as an operator uses it on a fresh database."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shelterwatch.config import Settings

# Each test runs the command line as a process.
pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shelterwatch.cli.main", *args],
                          capture_output=True, text=True, timeout=60)


def test_token_create_prints_the_token_alone_on_its_last_line(settings: Settings) -> None:
    result = run("token", "create", "--role", "operator", "--name", "Desk 1")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("sw_") and " " not in last


def test_a_failing_command_exits_non_zero_with_a_one_line_reason(settings: Settings) -> None:
    result = run("token", "create", "--role", "mayor", "--name", "x")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "role 'mayor' cannot hold a token" in result.stderr


def test_init_is_idempotent(settings: Settings) -> None:
    result = run("init")
    assert result.returncode == 0, result.stderr
    assert "0 created" in result.stdout and "37 unchanged" in result.stdout


def test_the_program_still_collects_what_its_command_leaves_behind() -> None:
    """The program freezes what importing a command made (`cli.main`); garbage made after
    that must still be collected as the process runs, or a long `serve` or `worker` grows."""
    script = (
        "import weakref\n"
        "from shelterwatch.cli import main as cli\n"
        "cli.load_command('keyholders', freeze=True)\n"
        "class Node: pass\n"
        "node = Node(); node.me = node; gone = weakref.ref(node); del node\n"
        "kept = [[] for _ in range(200_000)]\n"  # enough new objects to set off a collection
        "print('collected' if gone() is None else 'kept')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "collected"
