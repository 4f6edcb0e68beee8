"""The contract: schemathesis generates requests from the served OpenAPI document (valid and
invalid ones) and runs every check it has on the answers (``--checks all``: no server error,
every status, header and body as documented, invalid data refused, valid data accepted,
authentication enforced …), authenticated, on the suite's database (SQLite, and PostgreSQL
with TEST_DATABASE_URL). Bounded and seeded, so a run takes the same few seconds each time."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

#: Examples per operation and mode: enough to walk every parameter, few enough for CI.
MAX_EXAMPLES = 10


@pytest.fixture
def contract_headers(make, cast, ticket_in, token_for):
    """A dispatcher's token (it sees every ticket and may act on most), over some tickets."""
    ticket_in("submitted")
    ticket_in("in_progress")
    make.category(name="政策咨询测试")
    return token_for(cast.dispatcher)


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_api_keeps_its_contract(app, contract_headers):
    load_all_checks()
    checks = CHECKS.get_all()
    operations = _operations(app)
    assert len(operations) >= 15
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck), database=None)
            def check(case):
                case.call_and_validate(headers=contract_headers, checks=checks)

            try:
                check()
            except Exception as error:  # every operation's failures, not only the first
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
