"""Settings are typed and checked when a process starts: a typo refuses to start, by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shelterwatch import config
from shelterwatch.notify.registry import CHANNELS
from shelterwatch.rules.escalation import POLICY_FIELDS
from shelterwatch.vocabulary import Threat

TYPO = "31:operatr_after_s=5"


def test_the_escalation_typo_is_refused_with_one_line_naming_the_setting() -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(escalation_overrides=TYPO)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "SHELTERWATCH_ESCALATION_OVERRIDES: unknown setting 'operatr_after_s'")
    assert "operator_after_s" in message  # what was expected


@pytest.mark.parametrize("name, value, expected", [
    ("escalation_overrides", "31:operator_after_s=-5", "SHELTERWATCH_ESCALATION_OVERRIDES"),
    ("escalation_overrides", "operator_after_s=5", "lacks 'area:'"),
    ("warning_overrides", "31:ballistic=soon", "SHELTERWATCH_WARNING_OVERRIDES"),
    ("notify_channels", "webhook,emial", "SHELTERWATCH_NOTIFY_CHANNELS"),
    ("operator_contacts", "webhook", "SHELTERWATCH_OPERATOR_CONTACTS"),
    ("operator_contacts", "pager=0800", "SHELTERWATCH_OPERATOR_CONTACTS"),
    ("cap_geocodes", "SAME=31", "SHELTERWATCH_CAP_GEOCODES"),
    ("routing_engine", "graphhopper", "SHELTERWATCH_ROUTING_ENGINE"),
])
def test_every_mini_language_is_checked_at_start(name: str, value: str, expected: str) -> None:
    with pytest.raises(config.ConfigError, match=expected):
        config.load(**{name: value})


def test_the_mini_languages_are_read_into_types() -> None:
    settings = config.load(
        escalation_overrides="31:operator_after_s=60; 14:patrol_after_s=30,operator_after_s=900",
        warning_overrides="31:ballistic=90,14:drones=600",
        notify_channels="webhook, email",
        operator_contacts="webhook=http://127.0.0.1:9/desk,email=desk@example.org",
        cap_geocodes="SAME:006109=31",
    )
    assert settings.escalation_overrides["31"].changes() == {"operator_after_s": 60.0}
    assert settings.escalation_overrides["14"].changes() == {"patrol_after_s": 30.0,
                                                             "operator_after_s": 900.0}
    assert settings.warning_overrides == {"31": {Threat.BALLISTIC: 90}, "14": {Threat.DRONES: 600}}
    assert settings.notify_channels == ("webhook", "email")
    assert [(c.channel, c.address) for c in settings.operator_contacts] == [
        ("webhook", "http://127.0.0.1:9/desk"), ("email", "desk@example.org")]
    assert settings.cap_geocodes == {("same", "006109"): "31"}


def test_the_typed_lists_name_what_the_code_knows() -> None:
    assert set(config.EscalationOverride.model_fields) == POLICY_FIELDS
    assert set(config.CHANNEL_NAMES) == set(CHANNELS)


@pytest.mark.slow  # starts the real processes
@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "9"]])
def test_worker_and_server_refuse_to_start_on_the_typo(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "SHELTERWATCH_ESCALATION_OVERRIDES": TYPO,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "shelterwatch.cli.main", *command], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: SHELTERWATCH_ESCALATION_OVERRIDES: unknown setting "
                               "'operatr_after_s'")
    assert not (tmp_path / "never.sqlite3").exists()


def test_comma_lists_are_read_once_into_tuples() -> None:
    settings = config.load(stats_hidden_oblasts="31, 14", log_witnesses="dir:/tmp/w,https://x.example")
    assert settings.stats_hidden_oblasts == ("31", "14")
    assert settings.log_witnesses == ("dir:/tmp/w", "https://x.example")
    with pytest.raises(config.ConfigError, match="SHELTERWATCH_LOG_WITNESSES.*ftp://x"):
        config.load(log_witnesses="ftp://x")
