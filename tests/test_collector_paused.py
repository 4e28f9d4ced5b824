"""A bulk write pauses the cyclic collector and always leaves it as it found it."""

from __future__ import annotations

import gc

import pytest

from shelterwatch import db


def test_the_collector_runs_again_after_a_bulk_write_even_one_that_failed() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), db.collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a row the database refused")
    assert gc.isenabled()


def test_a_pause_inside_a_pause_does_not_restart_the_collector_early() -> None:
    with db.collector_paused():
        with db.collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
