"""The console's generated types are current: ``web/src/generated/`` equals what
``python -m firegrid.api.openapi_dump`` writes for the app as it is (run ``make openapi``
after changing a route or a response model, and commit the result)."""

from __future__ import annotations

from pathlib import Path

from firegrid.api.openapi_dump import render_all, stale_files, ts_type
from firegrid.dispatch.incident_schemas import IncidentType
from firegrid.dispatch.plans import INCIDENT_TYPES
from tests.api.test_openapi_contract import openapi_document

GENERATED = Path(__file__).resolve().parents[2] / "web" / "src" / "generated"


def test_generated_console_types_are_current():
    stale = stale_files(GENERATED, render_all(openapi_document()))
    assert not stale, f"{stale} in web/src/generated are not current: run `make openapi`"


def test_the_generated_files_name_the_enums_the_console_uses():
    files = render_all(openapi_document())
    types, enums = files["api.d.ts"], files["enums.ts"]
    assert 'export type FalseReason = "test" | "maintenance"' in types
    assert "export const IncidentTypeValues: readonly IncidentType[]" in enums
    # the live drift of issue 21: the escalation level is a string, never a number
    assert 'escalation_level: "" | "village" | "town" | "city";' in types


def test_incident_types_of_the_api_are_the_plans_types():
    assert tuple(t.value for t in IncidentType) == INCIDENT_TYPES


def test_schema_to_typescript():
    assert ts_type({"$ref": "#/components/schemas/Page_VenueOut_"}) == "Page_VenueOut_"
    assert ts_type({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "string | null"
    assert ts_type({"type": "array", "items": {"enum": ["a", "b"]}}) == '("a" | "b")[]'
    assert ts_type({"type": "object", "additionalProperties": {"type": "integer"}}) == (
        "Record<string, number>"
    )
    assert ts_type({"type": "object"}) == "Record<string, unknown>"
    assert ts_type({}) == "unknown"
    assert ts_type({"const": "Feature"}) == '"Feature"'
    body = ts_type(
        {
            "type": "object",
            "properties": {"from": {"type": "string"}, "last-seen": {"type": "number"}},
            "required": ["from"],
        }
    )
    assert body == '{\n  from: string;\n  "last-seen"?: number;\n}'
