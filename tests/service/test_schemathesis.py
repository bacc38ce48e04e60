"""Schemathesis over the OpenAPI schema, in-process (ASGI): for every operation, generated requests (valid and
invalid) never get a 5xx, and every response matches the schema it documents. Examples per operation are kept
few (NERASENSE_SCHEMATHESIS_EXAMPLES, default 8) so that CI stays short; the run is derandomized."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.service.conftest import Service

schemathesis = pytest.importorskip("schemathesis")
EXAMPLES = int(os.environ.get("NERASENSE_SCHEMATHESIS_EXAMPLES", "8"))


def test_schema_holds_under_generated_requests(service: Service) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    headers = service.headers("root")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                if case.headers and "Authorization" in case.headers:
                    case.headers.pop("Authorization")
                case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

            try:
                started = time.perf_counter()
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters): the positive run covers it
                continue
            except Exception as exc:  # collect every operation's failure, then fail once
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {str(exc)[:600]}")
            finally:
                print(f"{op.method.upper()} {op.path} {mode.value}: {time.perf_counter() - started:.1f} s")
    try:
        from schemathesis.python.asgi import shutdown_lifespans

        shutdown_lifespans()
    except ImportError:
        pass
    assert not failures, "\n\n".join(failures)
