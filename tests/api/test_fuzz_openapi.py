"""Schemathesis against /openapi.json on a live server: no 5xx, no answer the document omits.

Every operation in the document is fuzzed with inputs drawn from its own schema, once without a
token and once with an operator's, and each answer is checked: not a server error, a documented
status code, content type and headers, a body that matches the documented schema. The operator's
token must survive the run, so revoking tokens is left out of the fuzzing with it (the role guard
and scope tests cover it); `/v1/stream` never ends, so it is left out too (test_stream.py).
Bounded (a few examples per operation) so the run adds about a minute on two cores. The one 5xx
allowed is the offline pack's documented warm-up (503 with Retry-After until the worker publishes
it); coverage is built ahead of requests and answers 202 "computing" meanwhile, never 5xx.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shelterwatch.config import Settings
from tests.reports.helpers import token
from tests.support.server import LiveServer

EXAMPLES = int(os.environ.get("SHELTERWATCH_FUZZ_EXAMPLES", "8"))
NEVER_ENDS = {("GET", "/v1/stream")}
KEEPS_THE_TOKEN = {("POST", "/v1/tokens/{token_id}/revoke")}
# Every check on what came back. Not `positive_data_acceptance`: rules across fields that a JSON
# schema cannot state (lat comes with lon, the shelter must exist, an alert must be on) rightly
# answer 422 or 404 to some schema-valid requests, and those answers are documented.
WARMING = ("/v1/pack",)  # published by the worker; 503 with Retry-After until then


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 5xx is a defect, but for the documented warm-up: a 503 with Retry-After until the
    first pack is published, which the client is told to retry."""
    if response.status_code < 500:
        return None
    headers = {k.lower() for k in response.headers}
    if (response.status_code == 503 and "retry-after" in headers
            and case.operation.path.startswith(WARMING)):
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


@pytest.mark.slow
def test_fuzzing_every_operation_finds_no_5xx_and_no_undocumented_answer(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    server = live_server(SHELTERWATCH_COVERAGE_AREAS="*")
    _warm(server.url)
    operator = token(kyiv_settings.database_url, "operator")
    failures = _fuzz(server.url, {}, NEVER_ENDS)
    failures += _fuzz(server.url, {"Authorization": f"Bearer {operator}"},
                      NEVER_ENDS | KEEPS_THE_TOKEN)
    assert not failures, "\n".join(failures)
