"""Every API operation declares what it answers: the OpenAPI document is the contract the
console's generated types, the schemathesis suite and the API docs are built from.

One case per operation (``pytest -v`` lists each route's status). A JSON success response
must have a schema that names its fields (a ``$ref`` to a model, a list of them, or a
scalar); a free-form ``object`` or an empty schema fails. Streaming and file routes are
listed in ``NON_JSON`` and must declare their media type with ``responses=``. A new route
without ``response_model`` fails here until it is typed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from firegrid.api.app import create_app
from firegrid.core.settings import Settings

# Routes that answer a stream or a file, with the media types they must declare.
ATTACHMENT_MEDIA = {"image/png", "image/jpeg", "image/webp", "application/pdf"}
NON_JSON: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/alarms/feed"): {"text/event-stream"},
    ("GET", "/api/v1/live"): {"text/event-stream"},
    ("GET", "/api/v1/audit/export"): {"text/csv", "application/x-ndjson"},
    ("GET", "/api/v1/alarms/export"): {"text/csv"},
    ("GET", "/api/v1/installations/report.csv"): {"text/csv"},
    ("GET", "/metrics"): {"text/plain"},
    ("GET", "/api/v1/risk/runs/{run_id}/report"): {"text/html"},
    ("GET", "/api/v1/incidents/{incident_id}/attachments/{entry_id}"): {
        "image/jpeg",
        "image/png",
        "image/webp",
    },
    ("GET", "/api/v1/inspections/performance.xlsx"): {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    },
    ("GET", "/api/v1/planning/plans/{plan_id}/export"): {
        "application/geo+json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/html",
    },
    ("GET", "/api/v1/preplans/{plan_id}/sheet.html"): {"text/html"},
    ("GET", "/api/v1/preplans/{plan_id}/sheet.pdf"): {"application/pdf"},
    ("GET", "/api/v1/incidents/{incident_id}/preplan-sheet.html"): {"text/html"},
    ("GET", "/api/v1/incidents/{incident_id}/preplan-sheet.pdf"): {"application/pdf"},
    ("GET", "/api/v1/preplans/{plan_id}/attachments/{attachment_id}"): ATTACHMENT_MEDIA,
    ("GET", "/api/v1/crew/vehicles/{vehicle_id}/preplan/attachments/{attachment_id}"): (
        ATTACHMENT_MEDIA
    ),
    ("GET", "/api/v1/exports/{kind}"): {
        "application/geo+json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    app = create_app(Settings(env="test", database_url="sqlite://"))
    return app.openapi()


def _operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    ]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[-1]
    resolved: dict[str, Any] = openapi_document()["components"]["schemas"][name]
    return resolved


def names_its_fields(schema: dict[str, Any]) -> bool:
    """True when ``schema`` says what the response holds (not ``{}`` or a bare object)."""
    schema = _resolve(schema)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            members = [s for s in schema[union] if s.get("type") != "null"]
            return bool(members) and all(names_its_fields(s) for s in members)
    kind = schema.get("type")
    if kind == "array":
        return names_its_fields(schema.get("items", {}))
    if kind == "object":
        return bool(schema.get("properties"))
    return kind in {"string", "integer", "number", "boolean"} or "enum" in schema


def _success_responses(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        code: response for code, response in operation["responses"].items() if code.startswith("2")
    }


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_declares_its_response(method: str, path: str) -> None:
    operation = openapi_document()["paths"][path][method.lower()]
    successes = _success_responses(operation)
    assert successes, f"{method} {path} documents no success response"
    expected_media = NON_JSON.get((method, path))
    if expected_media is not None:
        declared = {
            media.split(";")[0]
            for response in successes.values()
            for media in response.get("content", {})
        }
        missing = expected_media - declared
        assert not missing, f"{method} {path} must declare its media types {sorted(missing)}"
        return
    for code, response in successes.items():
        content = response.get("content", {})
        if code == "204":
            assert not content, f"{method} {path}: a 204 has no body"
            continue
        assert "application/json" in content, f"{method} {path} {code} declares no JSON body"
        schema = content["application/json"].get("schema", {})
        assert names_its_fields(schema), (
            f"{method} {path} {code}: the response schema does not name its fields "
            f"(declare response_model=...): {schema}"
        )


def test_streaming_and_file_routes_exist() -> None:
    """The exemptions name real routes (a renamed route must not keep a stale exemption)."""
    operations = set(_operations())
    assert set(NON_JSON) <= operations, sorted(set(NON_JSON) - operations)


def test_the_checker_refuses_untyped_schemas() -> None:
    """The checker itself: free-form objects and empty schemas fail, models pass."""
    assert not names_its_fields({})
    assert not names_its_fields({"type": "object", "additionalProperties": True})
    assert not names_its_fields({"type": "array", "items": {}})
    assert not names_its_fields({"anyOf": [{"type": "object"}, {"type": "null"}]})
    assert names_its_fields({"type": "object", "properties": {"id": {"type": "integer"}}})
    assert names_its_fields({"type": "array", "items": {"type": "string"}})
