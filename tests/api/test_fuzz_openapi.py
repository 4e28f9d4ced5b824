"""Schemathesis against /openapi.json on a live server: no 5xx, no answer the document omits.

Every operation in the document is fuzzed with inputs drawn from its own schema, once without a
token and once with an operator's, and each answer is checked: not a server error, a documented
status code, content type and headers, a body that matches the documented schema. The operator's
token must survive the run, so revoking tokens is left out of the fuzzing with it (the role guard
and scope tests cover it); `/v1/stream` never ends, so it is left out too (test_stream.py).
Bounded (a few examples per operation) so the run adds about a minute on two cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
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
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, ignored_auth]


def _fuzz(base_url: str, headers: dict[str, str], skip: set[tuple[str, str]]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in skip:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case, name: str = name) -> None:
            try:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS,
                                       timeout=20)
            except BaseException as exc:  # every operation's first failure, reported together
                failures.setdefault(name, f"{name}: {str(exc)[:900]}")
                raise

        try:
            run()
        except Exception:
            pass
        except BaseExceptionGroup:
            pass
    return list(failures.values())


@pytest.mark.slow
def test_fuzzing_every_operation_finds_no_5xx_and_no_undocumented_answer(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    operator = token(kyiv_settings.database_url, "operator")
    failures = _fuzz(server.url, {}, NEVER_ENDS)
    failures += _fuzz(server.url, {"Authorization": f"Bearer {operator}"},
                      NEVER_ENDS | KEEPS_THE_TOKEN)
    assert not failures, "\n".join(failures)
