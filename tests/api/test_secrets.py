"""No default secret reaches the world: `init` generates one, serving beyond loopback needs one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shelterwatch.config import Settings, get_settings
from tests.cli.test_cli import run


def test_init_generates_a_private_random_secret_once_and_every_process_uses_it(
        settings: Settings) -> None:
    path = Path(settings.secret_key_file)
    assert not path.exists() and settings.secret_is_placeholder
    result = run("init")
    assert result.returncode == 0, result.stderr
    assert "generated a random secret" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret) >= 32
    get_settings.cache_clear()
    assert get_settings().secret_key == secret
    assert run("init").returncode == 0
    assert path.read_text().strip() == secret  # kept, never rotated behind the operator's back


def test_a_configured_secret_wins_and_no_file_is_written(settings: Settings) -> None:
    env_secret = "a-configured-production-secret-of-some-length"
    os.environ["SHELTERWATCH_SECRET_KEY"] = env_secret
    try:
        assert run("init").returncode == 0
        assert not Path(settings.secret_key_file).exists()
    finally:
        del os.environ["SHELTERWATCH_SECRET_KEY"]


def test_serving_beyond_loopback_on_a_placeholder_secret_refuses_to_start(
        settings: Settings) -> None:
    result = run("serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 1
    assert "refusing to serve on 0.0.0.0 with a placeholder secret" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    Settings(secret_key="x" * 40).check_secrets_for_host("0.0.0.0")  # a real secret: allowed
    Settings().check_secrets_for_host("127.0.0.1")  # the placeholder stays on this machine
