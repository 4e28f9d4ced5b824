"""The one verdict every screen shows: under alert or not, which threat, how many seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shelterwatch import config
from shelterwatch.rules.warning import ActiveAlert, WarningConfig, warning_for
from shelterwatch.vocabulary import AlertType, Threat

NOW = datetime(2023, 6, 1, 0, 30, tzinfo=UTC)
PODIL = ["UA80000000000624772", "31"]  # a Kyiv district, then Kyiv city


def alert(id: int, area: str, threat: Threat = Threat.UNKNOWN,
          type: AlertType = AlertType.AIR_RAID, minutes_ago: int = 10,
          ended: datetime | None = None) -> ActiveAlert:
    return ActiveAlert(id=id, area_id=area, type=type, threat=threat,
                       started_at=NOW - timedelta(minutes=minutes_ago), ended_at=ended)


def test_city_alert_covers_a_district_with_default_ballistic_warning() -> None:
    w = warning_for([alert(1, "31", Threat.BALLISTIC)], PODIL, WarningConfig(), NOW)
    assert w.under_alert and w.area_id == "31" and w.warning_s == 120
    assert w.threat is Threat.BALLISTIC


def test_alert_elsewhere_leaves_the_district_calm() -> None:
    assert not warning_for([alert(1, "14")], PODIL, WarningConfig(), NOW).under_alert


def test_most_urgent_alert_wins_when_several_cover_the_place() -> None:
    w = warning_for([alert(1, "31", Threat.DRONES), alert(2, PODIL[0], Threat.BALLISTIC)],
                    PODIL, WarningConfig(), NOW)
    assert (w.alert_id, w.warning_s, w.alert_ids) == (2, 120, (1, 2))


def test_artillery_gives_no_warning_and_area_override_beats_default() -> None:
    assert warning_for([alert(1, "31", type=AlertType.ARTILLERY)], PODIL, WarningConfig(),
                       NOW).warning_s == 0
    overrides = config.load(warning_overrides="31:ballistic=90").warning_overrides
    rule = WarningConfig(overrides=overrides)
    assert warning_for([alert(1, "31", Threat.BALLISTIC)], PODIL, rule, NOW).warning_s == 90


def test_alert_is_over_at_the_second_it_ended_and_not_on_before_it_started() -> None:
    ended = alert(1, "31", ended=NOW)
    assert not warning_for([ended], PODIL, WarningConfig(), NOW).under_alert
    assert warning_for([ended], PODIL, WarningConfig(), NOW - timedelta(seconds=1)).under_alert
    assert not warning_for([alert(2, "31", minutes_ago=-1)], PODIL, WarningConfig(),
                           NOW).under_alert


def test_a_typo_in_the_warning_overrides_is_refused_by_name() -> None:
    with pytest.raises(config.ConfigError, match="SHELTERWATCH_WARNING_OVERRIDES.*balistic"):
        config.load(warning_overrides="31:balistic=90")
