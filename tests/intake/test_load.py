"""The writer's evidence query loads exactly what the status rule uses, on the real database.

Phones in a burst report the same door again and again; the batch reads only each reporter's newest
report, the newest authoritative word and anything dated ahead of its clock (`status.carried`).
Whatever is stored — equal times, several roles, reports beyond the horizon or from the future —
the query yields what `carried` picks from all of a shelter's observations.

Runs on the database lane of the run: SQLite by default, PostgreSQL with SHELTERWATCH_PG=1.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import delete, insert, select

from shelterwatch.clock import utcnow
from shelterwatch.intake import load
from shelterwatch.observations import service as observations
from shelterwatch.observations.models import Observation
from shelterwatch.rules import status as status_rules
from shelterwatch.vocabulary import ObservationKind, Role


def test_a_burst_of_repeated_reports_loads_only_what_decides_each_doors_status(session) -> None:
    rnd = random.Random(2024)
    now = utcnow().replace(microsecond=0)
    reporters = ["", "d:aa", "d:bb", "d:cc", "token-k", "token-p"]
    for round_ in range(25):
        session.execute(delete(Observation))
        rows = []
        for n in range(rnd.randint(0, 40)):
            rows.append({
                "id": f"T{round_:02d}{n:03d}", "shelter_id": rnd.choice([1, 2, 3]),
                "kind": rnd.choice(list(ObservationKind)).value,
                "role": rnd.choice(list(Role)).value, "reporter": rnd.choice(reporters),
                "distance_m": rnd.choice([None, 10.0, 900.0]),
                "reason": rnd.choice(["", "flooded"]),
                # whole quarter hours: equal times are common; some beyond 6 h, 12 h, or ahead
                "at": now - timedelta(minutes=15 * rnd.randint(-2, 52)),
                "alert_id": None, "incident_id": None, "routed_to": None, "seq": n + 1})
        if rows:
            session.execute(insert(Observation), rows)
        session.flush()
        loaded = load.evidence(session.connection(), [1, 2, 3], now)
        for shelter_id in (1, 2, 3):
            stored = [observations.to_evidence(o) for o in session.execute(
                select(Observation).where(Observation.shelter_id == shelter_id)).scalars()]
            assert loaded.get(shelter_id, []) == status_rules.carried(stored, now=now), (
                round_, shelter_id)
            every = observations.evidence(session, shelter_id=shelter_id, now=now)
            assert (status_rules.derive(loaded.get(shelter_id, []), now=now)
                    == status_rules.derive(every, now=now))
