"""Schemathesis against /openapi.json on a live server: no 5xx, no answer the document omits.

Every operation in the document is fuzzed with inputs drawn from its own schema, once without a
token and once with an operator's; then schemathesis' state machine follows the document's
OpenAPI links (a report → its case page and its shelter, a token → its revocation, an alert → its
end, …) for a bounded number of short scenarios, with real shelter ids in the bodies so that
creations succeed and their links are walked. Each answer is checked: not a server error, a
documented status code, content type and headers, a body that matches the documented schema.
The operator's token must survive the run, so the per-operation run leaves revoking tokens out
with it, and the scenarios revoke only tokens they created (the role guard and scope tests
cover the rest); `/v1/stream` never ends, so it is left out too (test_stream.py). Bounded (a
few examples per operation, a dozen scenarios) so the run takes about a minute and a half on two
cores. No 5xx is allowed: coverage is built ahead of requests and answers 202 "computing"
meanwhile, and the pack (built lazily here, no `SHELTERWATCH_PACK_DIR`) makes its first
request wait for its first build.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.auth.models import Token
from shelterwatch.config import Settings
from shelterwatch.openapi import LINKS
from shelterwatch.shelters.models import Shelter
from tests.reports.helpers import token
from tests.support.server import LiveServer

EXAMPLES = int(os.environ.get("SHELTERWATCH_FUZZ_EXAMPLES", "8"))
SCENARIOS = int(os.environ.get("SHELTERWATCH_FUZZ_SCENARIOS", "3"))  # per starting write
STEPS = 5  # calls per scenario at most
REVOKE = "/v1/tokens/{token_id}/revoke"
# Where scenarios start: the writes a resident, a patrol and the desk make in the first minutes
# (audits' and campaigns' large bodies are fuzzed per operation above).
LIMITS_RAISED = {f"SHELTERWATCH_{name.upper()}": "100000" for name in (
    "shelters_per_network_per_hour", "shelters_per_device_per_hour",
    "shelters_per_network_issued_per_hour", "reports_per_device_per_hour")}
SCENARIO_STARTS = ("/v1/reports", "/v1/checks", "/v1/tokens", "/v1/alerts", "/v1/doors")
NEVER_ENDS = {("GET", "/v1/stream")}
KEEPS_THE_TOKEN = {("POST", "/v1/tokens/{token_id}/revoke")}
# Every check on what came back. Not `positive_data_acceptance`: rules across fields that a JSON
# schema cannot state (lat comes with lon, the shelter must exist, an alert must be on) rightly
# answer 422 or 404 to some schema-valid requests, and those answers are documented.


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 5xx is a defect: none is documented, none is allowed."""
    if response.status_code < 500:
        return None
    raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, ignored_auth]


def _fuzz(base_url: str, headers: dict[str, str], skip: set[tuple[str, str]]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: dict[str, str] = {}
    tried: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in skip:
            continue
        try:
            _fuzzer(operation, name, base_url, headers, failures, tried)()
        except (Exception, BaseExceptionGroup) as exc:
            failures.setdefault(name, f"{name}: {str(exc)[:900]}")
        if name not in tried:
            failures.setdefault(name, f"{name}: no request was made")
    return list(failures.values())


def _fuzzer(operation: Any, name: str, base_url: str, headers: dict[str, str],
            failures: dict[str, str], tried: set[str]) -> Callable[[], None]:
    """One operation's hypothesis test: each failure is noted (the first kept) and re-raised
    so that hypothesis shrinks it."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        tried.add(name)
        try:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=20)
        except BaseException as exc:
            failures.setdefault(name, f"{name}: {str(exc)[:900]}")
            raise

    return cast(Callable[[], None], run)


def _warm(base_url: str) -> None:
    """Coverage is built when the server starts (202 "computing" meanwhile, as documented); the
    fuzzing starts once Kyiv's is there, so its figures are fuzzed and not only the 202."""
    deadline = time.monotonic() + 120
    while httpx.get(f"{base_url}/v1/coverage", timeout=30).status_code == 202:
        assert time.monotonic() < deadline, "coverage was not computed within two minutes"
        time.sleep(0.5)


def _stateful(base_url: str, headers: dict[str, str], own_token: int,
              shelters: list[int], seen: set[tuple[str, str, int]]) -> list[str]:
    """Scenarios along the OpenAPI links, one state machine per starting write (schemathesis
    starts only from writes whose inputs some operation produces, and nothing produces a
    shelter: they come from imports). A drawn shelter id is swapped for a real one (chosen by
    the drawn value, so a scenario replays) so that reports, checks and doors are created and
    their links followed; the fuzzer's own token is never revoked."""
    failures = []
    for start in SCENARIO_STARTS:
        linked = sorted({start, *(target for (_, path, _), links in LINKS.items()
                                  if path == start for _, target, _ in links.values())})
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json").include(path=linked)
        machine = cast(Any, schema.as_state_machine())

        class Scenarios(machine):  # type: ignore[misc, valid-type]
            def before_call(self, case: schemathesis.Case) -> None:
                if case.operation.path == REVOKE:
                    assume((case.path_parameters or {}).get("token_id") != own_token)
                body = case.body
                if isinstance(body, dict) and isinstance(body.get("shelter_id"), int):
                    body["shelter_id"] = shelters[body["shelter_id"] % len(shelters)]

            def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
                return {"base_url": base_url, "headers": headers, "timeout": 20}

            def after_call(self, response: Any, case: schemathesis.Case) -> None:
                seen.add((case.operation.method.upper(), case.operation.path,
                          response.status_code))

            def validate_response(self, response: Any, case: schemathesis.Case,
                                  additional_checks: Any = None, **kwargs: Any) -> None:
                case.validate_response(response, checks=CHECKS,
                                       transport_kwargs=kwargs or None)

        try:
            Scenarios.run(settings=settings(
                max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                database=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck)))
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"stateful from {start}: {str(exc)[:1500]}")
    return failures


@pytest.mark.slow
def test_fuzzing_every_operation_finds_no_5xx_and_no_undocumented_answer(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    # The anonymous spread limits (5 shelters an hour from one network) would refuse the
    # scenarios' reports after the per-operation run's; they have tests of their own.
    server = live_server(SHELTERWATCH_COVERAGE_AREAS="*", **LIMITS_RAISED)
    _warm(server.url)
    operator = token(kyiv_settings.database_url, "operator")
    failures = _fuzz(server.url, {}, NEVER_ENDS)
    as_operator = {"Authorization": f"Bearer {operator}"}
    failures += _fuzz(server.url, as_operator, NEVER_ENDS | KEEPS_THE_TOKEN)
    with db.reading(kyiv_settings.database_url) as s:
        own = s.scalar(select(func.max(Token.id)).where(Token.role == "operator"))
        shelters = list(s.scalars(select(Shelter.id).order_by(Shelter.id).limit(50)))
    assert own is not None and shelters
    seen: set[tuple[str, str, int]] = set()
    failures += _stateful(server.url, as_operator, int(own), shelters, seen)
    assert not failures, "\n".join(failures)
    if os.environ.get("SHELTERWATCH_FUZZ_SHOW"):
        print(sorted(seen))
    # The links were walked: something a scenario created answered at its linked operation,
    # not only random ids' 404s.
    targets = {target for links in LINKS.values() for _, target, _ in links.values()}
    assert {path for _, path, code in seen if path in targets and code < 300}, sorted(seen)
    assert httpx.get(f"{server.url}/v1/incidents", headers=as_operator,
                     timeout=20).status_code == 200  # the fuzzer's token survived
