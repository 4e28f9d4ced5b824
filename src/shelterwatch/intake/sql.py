"""The statements a batch of observations runs, built once.

Each batch only binds values into these, so no statement is constructed or keyed per report.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from shelterwatch.alerts.models import Alert
from shelterwatch.incidents.models import Incident
from shelterwatch.listed import among
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact, LogHead
from shelterwatch.observations.models import Observation, ShelterStatus, SourceQuarantine
from shelterwatch.rules import status as status_rules
from shelterwatch.shelters.models import Shelter
from shelterwatch.vocabulary import ObservationKind, Role


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


OBSERVATIONS, STATUSES = _table(Observation), _table(ShelterStatus)
_o, _s, _sh = OBSERVATIONS.c, STATUSES.c, _table(Shelter).c
_a, _i, _h = _table(Alert).c, _table(Incident).c, _table(LogHead).c
# The log's lock, and in the same round trip how many of the batch's candidate tracking ids are
# taken already (almost always none; then no second look-up is needed). Should another process
# take one while this waits for the lock, the insert fails on the primary key and the writer
# retries each report alone, with fresh ids.
HEAD = select(_h.seq, _h.hash, select(func.count()).select_from(OBSERVATIONS).where(
    among(_o.id, "ids")).scalar_subquery().label("taken"),
    select(func.coalesce(func.max(_i.id), 0)).scalar_subquery().label("last_incident"),
).where(_h.id == log.HEAD_ID).with_for_update()
SHELTERS = select(_sh.id, _sh.lat, _sh.lon, _sh.area_id).where(
    among(_sh.id, "ids"))
# Alerts not over at `at`, those yet to start included: a remembered list stays right for any
# later time, each batch picking those on at its own time (`_on_at`).
NOT_OVER = select(_a.id, _a.area_id, _a.started_at, _a.ended_at).where(
    or_(_a.ended_at.is_(None), _a.ended_at > bindparam("at")))
OPEN_CASES = select(_table(Incident)).where(
    among(_i.shelter_id, "ids"), _i.resolved_at.is_(None)).order_by(_i.id)
_AUTHORITATIVE = _o.role.in_(  # constants of the vocabulary, written into the statement
    [literal_column(f"'{r.value}'") for r in sorted(status_rules.AUTHORITATIVE)])
_LATER = _o.at > bindparam("at")
# `status_rules.carried` in SQL, loose on ties: per shelter, the authoritative observations at
# the newest time within their time to live, each other reporter's observations at its newest
# time within the horizon (per source too: a quarantine sets one source's aside), and any dated
# after `at` (each its own partition). `carried` then
# breaks equal times by id, in Python, so that no database collation decides which one counts.
_RANKED = select(
    _o.id, _o.shelter_id, _o.kind, _o.role, _o.at, _o.reporter, _o.source, _o.distance_m,
    _o.reason,
    func.rank().over(partition_by=(_o.shelter_id, _LATER, _AUTHORITATIVE,
                                   case((_LATER, _o.id), (_AUTHORITATIVE, literal_column("''")),
                                        else_=_o.reporter),
                                   case((_AUTHORITATIVE, literal_column("''")),
                                        else_=_o.source)),
                     order_by=_o.at.desc()).label("newest"),
).where(among(_o.shelter_id, "ids"),
        or_(_LATER, and_(_AUTHORITATIVE, _o.at >= bindparam("ttl_since")),
            and_(~_AUTHORITATIVE, _o.at >= bindparam("horizon_since")))).subquery()
EVIDENCE = select(*(c for c in _RANKED.c if c.name != "newest")).where(_RANKED.c.newest == 1)
KINDS = {k.value: k for k in ObservationKind}
ROLES = {r.value: r for r in Role}
STATUS_NOW = select(_s.shelter_id, _s.status, _s.reasons, _s.confidence).where(
    among(_s.shelter_id, "ids"))
QUARANTINED = select(_table(SourceQuarantine).c.source).where(
    _table(SourceQuarantine).c.released_at.is_(None))
TAKEN = select(_o.id).where(among(_o.id, "ids"))
INSERT_OBSERVATIONS, INSERT_STATUSES = insert(OBSERVATIONS), insert(STATUSES)
FACTS = insert(_table(Fact))
INSERT_CASES = insert(_table(Incident))
UPDATE_CASE = update(_table(Incident)).where(_i.id == bindparam("b_id")).values(
    {c: bindparam(f"b_{c}") for c in ("me_too", "last_report_at", "resolved_at", "resolution",
                                      "resolved_by", "time_to_open_s")})
UPDATE_STATUS = update(STATUSES).where(_s.shelter_id == bindparam("b_shelter_id")).values(
    {c.name: bindparam(f"b_{c.name}") for c in STATUSES.c if c.name != "shelter_id"})


