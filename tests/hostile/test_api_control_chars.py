"""NUL and other control characters in input (#24, finding 3: ``GET
/api/v1/audit/export?actor=%00`` answered a truncated 200).

One rule (``firegrid.core.text``) for every query and path parameter and every string of a
JSON body or form: 422 with the error envelope naming the field.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from tests.accounts.city import City
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    admin,
    app,
    city,
    client,
    envelope_of,
)


def _named(response, where: list[object]) -> str:
    error = envelope_of(response, 422, "validation_failed")
    details = error["details"]
    assert isinstance(details, list), error
    assert details, error
    assert details[0]["loc"] == where, details
    assert details[0]["type"] == "control_character"
    return str(details[0]["msg"])


def test_nul_in_audit_export_filter_is_422_naming_it(client: TestClient, admin: dict[str, str]):
    response = client.get("/api/v1/audit/export?actor=%00&format=csv", headers=admin)
    assert "U+0000" in _named(response, ["query", "actor"])
    listing = client.get("/api/v1/audit?action=login%1B%5B2J", headers=admin)  # ESC[2J
    assert "U+001B" in _named(listing, ["query", "action"])


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\ufffe"])
def test_control_characters_in_a_json_body_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], city: City, char: str
):
    body = {
        "username": "newuser",
        "role": "analyst",
        "scope_code": city.code("town", "in"),
        "display_name": f"Ann{char}Lee",
    }
    raw = json.dumps(body)  # ASCII with \u escapes: a lone surrogate travels as JSON allows
    headers = {**admin, "content-type": "application/json"}
    response = client.post("/api/v1/users", content=raw, headers=headers)
    assert f"U+{ord(char):04X}" in _named(response, ["body", "display_name"])
    assert client.get("/api/v1/users?role=analyst", headers=admin).json()["count"] == 0


def test_nested_strings_and_keys_are_checked(client: TestClient, admin: dict[str, str]):
    body = {"name": "k", "role": "integration", "routes": ["/api/v1/venues", "/api/\x00v1"]}
    _named(client.post("/api/v1/apikeys", json=body, headers=admin), ["body", "routes", 1])
    sign_in = {"username": "dispatcher", "password": "x", "mo\x00de": "token"}
    _named(client.post("/api/v1/auth/login", json=sign_in), ["body", "mo\x00de"])


def test_nul_in_sign_in_is_422_not_a_failed_attempt(client: TestClient):
    response = client.post("/api/v1/auth/login", json={"username": "disp\x00", "password": "x"})
    _named(response, ["body", "username"])


def test_path_parameter_and_form_field(client: TestClient, admin: dict[str, str]):
    _named(client.get("/api/v1/exports/ven%00ues", headers=admin), ["path", "kind"])
    upload = client.post(
        "/api/v1/imports/venues",
        files={"file": ("v.csv", b"code,name\n")},
        data={"comment": "bad\x00"},
        headers=admin,
    )
    _named(upload, ["body", "comment"])


def test_line_breaks_stay_allowed_in_free_text_not_in_one_line_values():
    from firegrid.core.text import SafeLine, SafeText, check_line, check_text, find_in

    assert check_text("first line\nsecond\tcolumn\r\n") == "first line\nsecond\tcolumn\r\n"
    assert check_text("消防 🚒") == "消防 🚒"
    with pytest.raises(ValueError, match=r"U\+000A"):
        check_line("a\nb")

    class Form(BaseModel):
        note: SafeText
        code: SafeLine

    assert Form(note="a\nb", code="V-1").note == "a\nb"
    with pytest.raises(ValidationError) as refused:
        Form(note="ok", code="V\x00")
    assert refused.value.errors()[0]["loc"] == ("code",)
    assert find_in({"a": [{"b": "fine"}, {"c": "x\x00"}]})[0] == ("a", 1, "c")
    deep: object = "x\x01"
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    assert find_in(deep)[0] == (0,) * 5000
