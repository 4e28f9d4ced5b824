"""The baseline for `/v1/nearest` over HTTP: a minimal Starlette app in its own process.

Nothing of the product's app: no FastAPI, no middleware, no log follower, no metrics. It loads
the same shelter index and alert board from the same database once, and answers two routes:

- `/bare/index`: the index query alone (k nearest), ids and distances as JSON — the ceiling;
- `/bare/answer`: the same full answer `/v1/nearest` gives (ranking, reasons, the same JSON
  bytes), so the difference between it and the product is what the product's framework path costs.

    python bench/bare_nearest_app.py PORT      (DATABASE_URL names the database)
"""

from __future__ import annotations

import os
import sys

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.rules.ranking import WalkingModel
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.web.alert_board import AlertBoard
from shelterwatch.web.nearest import Nearest

POOL = Settings().nearest_pool

with db.reading(os.environ["DATABASE_URL"]) as session:
    index, _ = ShelterIndex.load(session)
    board = AlertBoard.load(session, now=utcnow(), config=alerts.warning_config())
nearest = Nearest(index, board, WalkingModel(), pool=POOL)


async def bare_index(request: Request) -> Response:
    q = request.query_params
    hits = index.nearest(float(q["lat"]), float(q["lon"]), POOL)
    return Response(orjson.dumps([{"id": s.id, "distance_m": d} for s, d in hits[:3]]),
                    media_type="application/json")


async def bare_answer(request: Request) -> Response:
    q = request.query_params
    return Response(nearest.body(float(q["lat"]), float(q["lon"]), limit=3),
                    media_type="application/json")


app = Starlette(routes=[Route("/bare/index", bare_index), Route("/bare/answer", bare_answer)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
