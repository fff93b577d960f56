"""The API docs work without internet access: Swagger UI, ReDoc and their assets come from
firegrid itself, the OpenAPI document declares how to authenticate (so "Authorize" works),
and ``/openapi.json`` and ``/docs`` answer with the API's things, never the console's page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.api.docs import ASSET_FILES, SECURITY_SCHEMES
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.accounts.city import bearer, build_city, make_user, token_for

pytestmark = pytest.mark.postgres  # uses the database fixture: run on both backends


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", html
    )


@pytest.mark.parametrize(
    ("path", "marker"), [("/api/docs", "SwaggerUIBundle"), ("/api/redoc", "<redoc")]
)
def test_docs_pages_load_everything_from_this_server(client: TestClient, path: str, marker: str):
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert marker in page.text
    urls = _urls(page.text)
    assert urls, "the page names its scripts"
    for url in urls:
        assert url.startswith("/"), f"{path} loads {url} from elsewhere"
        assert "//" not in url, url
        fetched = client.get(url)
        assert fetched.status_code == 200, url
    assert "fonts.googleapis" not in page.text
    assert "cdn." not in page.text


def test_every_asset_is_served_with_its_media_type(client: TestClient):
    for name, media_type in ASSET_FILES.items():
        response = client.get(f"/api/docs/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media_type), name
        assert len(response.content) > 1000, name
    assert client.get("/api/docs/assets/../../settings.py").status_code == 404
    assert client.get("/api/docs/assets/unknown.js").status_code == 404


def test_docs_csp_allows_no_outside_source(client: TestClient):
    for path in ("/api/docs", "/api/redoc"):
        csp = client.get(path).headers["content-security-policy"]
        assert "http" not in csp, csp
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_openapi_declares_how_to_authenticate(client: TestClient):
    document = client.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == SECURITY_SCHEMES
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["apiKey"] == {**schemes["apiKey"], "in": "header", "name": "X-API-Key"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    operations = {
        (method.upper(), path): operation
        for path, ops in document["paths"].items()
        for method, operation in ops.items()
    }
    # every authenticated operation accepts any one of the three; public ones none
    alarms = operations[("GET", "/api/v1/alarms")]["security"]
    assert alarms == [{"bearerAuth": []}, {"apiKey": []}, {"sessionCookie": []}]
    for public in (("GET", "/healthz"), ("POST", "/api/v1/auth/login")):
        assert operations[public]["security"] == [], public
    assert all("security" in op for op in operations.values())


def test_authorize_works_with_a_bearer_token(client: TestClient, db: Database, settings: Settings):
    """What Swagger UI sends after "Authorize" (an Authorization header) is accepted."""
    city = build_city(db)
    user = make_user(db, "docs_reader", "admin", city.code("city", "in"))
    assert client.get("/api/v1/alarms").status_code == 401
    answer = client.get("/api/v1/alarms", headers=bearer(token_for(db, settings, user)))
    assert answer.status_code == 200
    assert answer.json()["items"] == []


def test_root_openapi_and_docs_are_the_apis_not_the_console(client: TestClient):
    document = client.get("/openapi.json")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/json"
    assert document.json() == client.get("/api/openapi.json").json()
    for alias, target in (("/docs", "/api/docs"), ("/redoc", "/api/redoc")):
        moved = client.get(alias, follow_redirects=False)
        assert moved.status_code == 307, alias
        assert moved.headers["location"] == target
        assert "<!doctype html><meta charset=utf-8><title>firegrid</title>" not in moved.text
    assert client.get("/docs").url.path == "/api/docs"
