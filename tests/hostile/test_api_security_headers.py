"""Security headers (#24, finding 5: the console sent none).

Every response carries a Content-Security-Policy (the console: its own files only, no
inline script or style; the API: nothing at all; the docs page: Swagger UI's CDN and
FastAPI's inline start-up script by hash), ``frame-ancestors 'none'``, ``nosniff``, a
Referrer-Policy and the other headers of :mod:`firegrid.api.headers`. The built console has
no inline script or style, and it runs in Chromium under the policy without a violation.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.core.db import Database
from tests.accounts.city import PASSWORD, City, make_user
from tests.alarms.live import live_server
from tests.conftest import service_missing
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    _cheap_password_hashing,
    admin,
    app,
    city,
    client,
)

STATIC = Path(__file__).resolve().parents[2] / "src" / "firegrid" / "web" / "static"
CHROMIUM = os.environ.get("FIREGRID_CHROMIUM", "/usr/bin/chromium")
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def _policy(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"no CSP on {response.request.url}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _common(response: Any) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert "geolocation=(self)" in response.headers["permissions-policy"]


def test_console_pages_forbid_inline_code_and_framing(client: TestClient):
    for path in ("/", "/monitor", "/console-config.js"):
        response = client.get(path)
        assert response.status_code == 200
        _common(response)
        csp = _policy(response)
        assert csp["script-src"] == ["'self'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
        assert not any("'unsafe-eval'" in values for values in csp.values())


def test_api_answers_carry_a_deny_all_policy(client: TestClient, admin: dict[str, str]):
    for response in (
        client.get("/api/v1/auth/me"),  # 401
        client.get("/api/v1/auth/me", headers=admin),
        client.get("/healthz"),
        client.post("/api/v1/auth/login", content=b"x" * (2 * 1024 * 1024)),  # 413
    ):
        _common(response)
        csp = _policy(response)
        assert csp["default-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_https_requests_get_hsts(app: FastAPI):
    with TestClient(app, base_url="https://firegrid.example") as secure:
        assert secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_api_docs_still_work_with_their_inline_script_allowed_by_hash(client: TestClient):
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    _common(docs)
    csp = _policy(docs)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", docs.text, re.DOTALL)
    assert inline, "FastAPI's docs page has its start-up script inline"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert client.get("/api/openapi.json").status_code == 200


def test_built_console_has_no_inline_script_or_style():
    html = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts), scripts
    assert "<style" not in html
    assert " style=" not in html
    for bundle in (STATIC / "assets").glob("*.js"):
        text = bundle.read_text()
        assert 'style="' not in text, bundle.name
        assert 'style=\\"' not in text, bundle.name


@pytest.mark.browser
def test_console_runs_in_chromium_under_the_policy(app: FastAPI, db: Database, city: City):
    """Sign in through the login page, open the map; no CSP violation, the legend coloured."""
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    make_user(db, "monitor", "monitor_operator", city.code("city", "in"))
    errors: list[str] = []
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(locale="zh-CN")
            page.set_default_timeout(15000)
            page.add_init_script(
                "window.__csp = []; document.addEventListener('securitypolicyviolation',"
                " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"pageerror {exc}"))
            response = page.goto(base + "/")
            assert response is not None
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            page.fill("#username", "monitor")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_selector(".topbar")
            page.wait_for_selector(".map-legend .swatch")
            colour = page.evaluate(
                "getComputedStyle(document.querySelector('.map-legend .swatch')).backgroundColor"
            )
            assert colour == "rgb(215, 25, 28)"  # set through element.style: allowed
            assert page.evaluate("window.__csp") == []
            assert errors == []
            # The policy is live: an inline style attribute is refused and reported.
            page.evaluate(
                "document.body.insertAdjacentHTML('beforeend', '<b style=\"color:red\">x</b>')"
            )
            page.wait_for_function("window.__csp.length > 0")
            assert page.evaluate("window.__csp")[0].startswith("style-src")
        finally:
            browser.close()
