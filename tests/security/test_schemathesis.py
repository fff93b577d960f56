"""Property-based API tests from the app's own OpenAPI schema (schemathesis, in process).

Every GET operation, and the POST operations that create users and API keys or sign in,
is called with generated inputs as a city administrator and as a town commander. No input
may produce a 5xx, and every documented response must match its schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.accounts.city import bearer, make_user, token_for
from tests.security.conftest import World

pytestmark = pytest.mark.postgres  # uses the database: run on both backends

#: Server-Sent Event streams: fuzzed with ``once`` (they return once caught up); left open
#: they would run until the client gives up (10 s a call: most of this file's time), and
#: the open stream is the live tests' subject (tests/live, tests/web/test_live_e2e.py)
STREAMS = {"/api/v1/live", "/api/v1/alarms/feed"}
FUZZED_POSTS = {"/api/v1/users", "/api/v1/apikeys", "/api/v1/auth/login", "/api/v1/auth/refresh"}


@pytest.fixture(scope="module")
def api_schema(world: World) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", world.app)
    return schema.include(
        lambda ctx: (
            ctx.operation.method.upper() == "GET"
            or (ctx.operation.method.upper() == "POST" and ctx.operation.path in FUZZED_POSTS)
        )
    )


@pytest.fixture(scope="module")
def callers(world: World) -> dict[str, dict[str, str]]:
    city = world.city
    admin = make_user(world.database, "fuzz_admin", "admin", city.code("city", "in"))
    commander = make_user(world.database, "fuzz_commander", "commander", city.code("town", "in"))
    return {
        "city_admin": bearer(token_for(world.database, world.settings, admin)),
        "town_commander": bearer(token_for(world.database, world.settings, commander)),
    }


# Failures found in other contexts' code, reported to their owners. A failure whose text
# contains a key is reported as xfail (with the description) instead of failing the suite;
# delete the entry once fixed. Any other failure fails.
KNOWN_ISSUES: dict[str, str] = {}


def _classify(failures: dict[str, str]) -> None:
    unknown = {
        label: text
        for label, text in failures.items()
        if not any(key in text for key in KNOWN_ISSUES)
    }
    assert not unknown, "\n\n".join(f"{label}\n{text}" for label, text in unknown.items())
    if failures:
        known = sorted({d for k, d in KNOWN_ISSUES.items() for t in failures.values() if k in t})
        pytest.xfail("known issues in other contexts: " + "; ".join(known))


# Examples per operation: ~145 operations x 2 callers must stay within about a minute on
# a shared 2-core machine (16 + 10 s on SQLite, 21 + 16 s on PostgreSQL with the streams
# fuzzed with ``once``; 5 and 3 examples took 90 + 45 s while the streams stayed open);
# derandomised, so a run is reproducible.
EXAMPLES = {"city_admin": 10, "town_commander": 6}


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )


CHECKS = [not_a_server_error, response_schema_conformance]
#: a call's time limit (the two event streams are fuzzed with ``once``, so none streams)
CALL_TIMEOUT_S = 60


@pytest.mark.parametrize("who", ["city_admin", "town_commander"])
def test_no_server_errors_and_responses_match_the_schema(
    api_schema: schemathesis.schemas.BaseSchema, callers: dict[str, dict[str, str]], who: str
):
    headers = callers[who]
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @fuzz_settings(EXAMPLES[who])
        def fuzz(case: schemathesis.Case) -> None:
            if case.operation.path in STREAMS:  # a live stream ends when caught up with once
                case.query = {**(case.query or {}), "once": "true"}
            # the checks are 5xx and the schema, not speed: a loaded CI machine once took
            # longer than the transport's default 10 s for a plain GET (it passed on replay)
            response = case.call(headers=headers, timeout=CALL_TIMEOUT_S)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            # a FlakyFailure (failed once, passed on replay) says why only in its group
            inner = "".join(
                f"\n  caused by {type(e).__name__}: {str(e)[:1500]}"
                for e in getattr(exc, "exceptions", ())
            )
            failures[operation.label] = (
                f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}{inner}"
            )
    _classify(failures)


def _logged_errors(caplog: pytest.LogCaptureFixture) -> str:
    return " ".join(
        f"{type(r.exc_info[1]).__name__}: {r.exc_info[1]}" for r in caplog.records if r.exc_info
    )


@pytest.mark.parametrize("value", ["0", "-1", str(2**31), str(2**63), "99999999999999999999999"])
def test_extreme_ids_never_cause_server_errors(
    world: World,
    callers: dict[str, dict[str, str]],
    value: str,
    caplog: pytest.LogCaptureFixture,
):
    from fastapi.routing import APIRoute, iter_route_contexts
    from fastapi.testclient import TestClient

    client = TestClient(world.app, raise_server_exceptions=False)
    failures: dict[str, str] = {}
    for context in iter_route_contexts(world.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        path = str(context.path)
        params = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        if not params:
            continue
        for name in params:
            path = path.replace(f"{{{name}}}", value)
        caplog.clear()
        response = client.get(path, headers=callers["city_admin"])
        if response.status_code >= 500:
            failures[path] = (
                f"{response.status_code}: {response.text[:300]} {_logged_errors(caplog)}"
            )
        for cursor_route in ("/api/v1/users", "/api/v1/audit"):
            import base64

            cursor = base64.urlsafe_b64encode(f"id:{value}".encode()).decode().rstrip("=")
            listing = client.get(
                cursor_route, params={"cursor": cursor}, headers=callers["city_admin"]
            )
            assert listing.status_code < 500, listing.text
    _classify(failures)
