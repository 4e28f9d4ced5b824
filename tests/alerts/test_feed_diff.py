"""A feed's list of active alerts becomes starts and ends, and repeats change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from shelterwatch.rules.alert_feed import FeedAlert, reconcile
from shelterwatch.vocabulary import AlertType, Threat

T = datetime(2023, 5, 31, 23, 49, 31, tzinfo=UTC)


def feed(ref: str, area: str) -> FeedAlert:
    return FeedAlert(ref, area, AlertType.AIR_RAID, Threat.UNKNOWN, T)


def test_new_alerts_start_and_vanished_ones_end() -> None:
    diff = reconcile([("a", "14", AlertType.AIR_RAID)], [feed("b", "31")])
    assert [a.area_id for a in diff.starts] == ["31"] and diff.ends == ("a",)


def test_same_snapshot_twice_changes_nothing() -> None:
    diff = reconcile([("b", "31", AlertType.AIR_RAID)], [feed("b", "31")])
    assert diff.starts == () and diff.ends == ()


def test_push_and_poll_naming_one_alert_differently_agree() -> None:
    diff = reconcile([("31:AIR:push", "31", AlertType.AIR_RAID)], [feed("31:AIR:poll", "31")])
    assert diff.starts == () and diff.ends == ()
