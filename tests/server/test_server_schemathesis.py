"""Schemathesis against the OpenAPI spec on the real app and database: generated requests
(valid and invalid, as an admin) never get a 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from tests.server.conftest import Org


def test_no_server_errors_anywhere(org: Org) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", org.client.app)
    headers = org.auth("admin")
    failures: list[str] = []
    skipped: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except (AssertionError, FailureGroup) as err:
                failures.append(f"{case.operation.label}: {str(err).splitlines()[0]}")

        try:
            run()
        except Unsatisfiable:
            # a path parameter that may hold "/" (NODE/YYYY-MM) cannot be generated into a URL
            skipped.append(operation.label)
    assert not failures, "\n".join(failures[:20])
    assert all("/cycles/{code}" in label for label in skipped), skipped
