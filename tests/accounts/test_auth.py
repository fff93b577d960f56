"""Sign-in, access tokens, refresh rotation, sign-out, throttling, cookie sessions and CSRF."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.accounts.errors import LoginThrottled
from firegrid.accounts.models import AuditEntry, AuthSession, LoginThrottle, User
from firegrid.accounts.sessions import (
    FIRST_DELAY,
    ClientInfo,
    login,
    start_token_session,
)
from firegrid.accounts.tokens import issue_access_token
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Unauthenticated
from firegrid.core.settings import Settings
from tests.accounts.city import PASSWORD, City, bearer, make_user, token_for

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def _login(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, json={"username": username, "password": password, **extra})


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {
        "code",
        "message",
        "details",
        "message_code",
        "message_params",
    }
    assert body["error"]["code"] == code
    return body["error"]


def _audit(db: Database, **where: object) -> list[AuditEntry]:
    with db.session() as session:
        query = select(AuditEntry)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(session.scalars(query.order_by(AuditEntry.id)).all())


def test_login_returns_tokens_and_me_reports_scope(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "commander", city.code("town", "in"))
    response = _login(client, "Alice ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    assert "password_hash" not in response.text
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["scope_path"] == city.paths["town:in"]
    assert me.json()["role"] == "commander"
    assert "places:read" in me.json()["permissions"]


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_failed_login_is_401_with_one_message_and_audited(
    client: TestClient, db: Database, city: City, username: str
):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    response = _login(client, username, "wrong-password-1")
    error = _assert_envelope(response, 401, "unauthenticated")
    assert error["message"] == "wrong username or password"
    entries = _audit(db, action="auth.login", outcome="failure")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_username == username
    assert entry.status == 401
    assert entry.client_ip == "testclient"
    assert entry.request_id == response.headers["x-request-id"]
    assert entry.at.tzinfo is not None


def test_successful_login_is_audited(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    response = _login(client, "alice")
    assert response.status_code == 200
    [entry] = _audit(db, action="auth.login")
    assert entry.outcome == "success"
    assert entry.actor_subject.startswith("user:")
    assert entry.actor_role == "dispatcher"
    assert entry.user_agent == "testclient"


def test_missing_malformed_and_foreign_tokens_are_401(client: TestClient, settings: Settings):
    _assert_envelope(client.get(ME), 401, "unauthenticated")
    _assert_envelope(client.get(ME, headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    _assert_envelope(client.get(ME, headers=bearer("not-a-jwt")), 401, "unauthenticated")
    forged = jwt.encode(
        {"sub": "user:1", "sid": "x", "exp": 9999999999, "iat": 1, "iss": "firegrid"},
        "another-key-another-key-another-key",
        algorithm="HS256",
    )
    _assert_envelope(client.get(ME, headers=bearer(forged)), 401, "unauthenticated")
    unsigned = jwt.encode({"sub": "user:1", "sid": "x"}, None, algorithm="none")
    _assert_envelope(client.get(ME, headers=bearer(unsigned)), 401, "unauthenticated")


def test_expired_access_token_is_refused(
    client: TestClient, db: Database, settings: Settings, city: City
):
    user_id = make_user(db, "alice", "dispatcher", city.code("town", "in"))
    with db.session() as session:
        user = session.get(User, user_id)
        pair = start_token_session(session, settings, user)
    past = utcnow() - timedelta(seconds=settings.access_token_ttl_s + 5)
    expired, _ = issue_access_token(
        settings, subject=f"user:{user_id}", session_id=pair.session_id, role="dispatcher", now=past
    )
    error = _assert_envelope(client.get(ME, headers=bearer(expired)), 401, "unauthenticated")
    assert error["details"]["reason"] == "expired"
    assert client.get(ME, headers=bearer(pair.access_token)).status_code == 200


def test_one_second_ttl_expires(db: Database, city: City, tmp_path):
    from firegrid.api.app import create_app

    short = Settings(env="test", database_url=db.url, access_token_ttl_s=1, data_dir=tmp_path)
    user_id = make_user(db, "alice", "dispatcher", city.code("town", "in"))
    with db.session() as session:
        user = session.get(User, user_id)
        issued = utcnow() - timedelta(seconds=2)
        pair = start_token_session(session, short, user, now=issued)
    with TestClient(create_app(short, db)) as client:
        response = client.get(ME, headers=bearer(pair.access_token))
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reason"] == "expired"


def test_refresh_rotates_and_reuse_revokes_the_session(
    client: TestClient, db: Database, city: City
):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    first = _login(client, "alice").json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert client.get(ME, headers=bearer(second_body["access_token"])).status_code == 200

    # The old refresh token is replayed (stolen): the whole session is revoked.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    error = _assert_envelope(replay, 401, "unauthenticated")
    assert error["details"]["reason"] == "reused"
    assert client.get(ME, headers=bearer(second_body["access_token"])).status_code == 401
    again = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second_body["refresh_token"]}
    )
    assert again.status_code == 401
    with db.session() as session:
        [auth] = session.scalars(select(AuthSession)).all()
        assert auth.revoked_reason == "refresh_reuse"
    assert _audit(db, action="auth.refresh_reuse")


def test_unknown_refresh_token_is_401(client: TestClient):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    _assert_envelope(response, 401, "unauthenticated")


def test_logout_revokes_access_and_refresh_immediately(
    client: TestClient, db: Database, city: City
):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    tokens = _login(client, "alice").json()
    other = _login(client, "alice").json()
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code
        == 204
    )
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    # Another session of the same user is untouched.
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200
    assert _audit(db, action="auth.logout", status=204)


def test_throttled_after_five_failures(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    for _ in range(4):
        assert _login(client, "alice", "wrong-password-1").status_code == 401
    fifth = _login(client, "alice", "wrong-password-1")
    assert fifth.status_code == 401
    waiting = _login(client, "alice")  # even the right password waits, from this address
    error = _assert_envelope(waiting, 429, "too_many_requests")
    assert 0 < error["details"]["retry_after_s"] <= FIRST_DELAY.total_seconds() + 1
    assert waiting.headers["retry-after"] == str(error["details"]["retry_after_s"])
    assert _audit(db, action="auth.login", outcome="throttled")
    # Unknown names are throttled the same way (no user enumeration through throttling).
    for _ in range(5):
        _login(client, "ghost", "wrong-password-1")
    _assert_envelope(_login(client, "ghost", "wrong-password-1"), 429, "too_many_requests")


def test_throttle_expires(db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    start = utcnow()
    client = ClientInfo(ip="198.51.100.4")
    for _ in range(5):
        with db.session() as session, pytest.raises(Unauthenticated):
            login(session, "alice", "wrong-password-1", client, now=start)
    with db.session() as session, pytest.raises(LoginThrottled):
        login(session, "alice", PASSWORD, client, now=start + FIRST_DELAY / 2)
    with db.session() as session:
        later = start + FIRST_DELAY + timedelta(seconds=1)
        user = login(session, "alice", PASSWORD, client, now=later)
        assert user.username == "alice"
    with db.session() as session:
        throttle = session.get(LoginThrottle, "user:alice|ip:198.51.100.4")
        assert throttle is not None
        assert throttle.locked_until is None
        assert throttle.failures == 0


def test_reset_password_unlocks_and_signs_out(client: TestClient, db: Database, city: City):
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    session_tokens = _login(client, "alice").json()
    for _ in range(5):
        _login(client, "alice", "wrong-password-1")
    assert _login(client, "alice").status_code == 429
    with db.session() as session:
        alice = session.scalars(select(User).where(User.username == "alice")).one()
    response = client.post(
        f"/api/v1/users/{alice.id}/reset-password",
        json={"password": "brand-new-pass-7"},
        headers=bearer(token_for(db, client.app.state.settings, admin)),
    )
    assert response.status_code == 200, response.text
    assert response.json()["password"] is None
    assert client.get(ME, headers=bearer(session_tokens["access_token"])).status_code == 401
    assert _login(client, "alice", "brand-new-pass-7").status_code == 200


def test_disabled_user_cannot_sign_in_and_loses_sessions(
    client: TestClient, db: Database, city: City
):
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    alice = make_user(db, "alice", "dispatcher", city.code("town", "in"))
    tokens = _login(client, "alice").json()
    admin_headers = bearer(token_for(db, client.app.state.settings, admin))
    response = client.patch(
        f"/api/v1/users/{alice}", json={"disabled": True}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 401
    assert _login(client, "alice").json()["error"]["message"] == "this account is disabled"


def test_role_change_applies_to_live_tokens(client: TestClient, db: Database, city: City):
    admin = make_user(db, "root", "admin", city.code("city", "in"))
    alice = make_user(db, "alice", "analyst", city.code("town", "in"))
    token = _login(client, "alice").json()["access_token"]
    assert client.get("/api/v1/venues", headers=bearer(token)).status_code == 200
    admin_headers = bearer(token_for(db, client.app.state.settings, admin))
    client.patch(f"/api/v1/users/{alice}", json={"role": "police_liaison"}, headers=admin_headers)
    assert client.get("/api/v1/venues", headers=bearer(token)).status_code == 403


def test_change_own_password(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    first = _login(client, "alice").json()
    second = _login(client, "alice").json()
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope-nope-1", "new_password": "another-pass-9"},
        headers=bearer(first["access_token"]),
    )
    assert wrong.status_code == 401
    weak = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short1"},
        headers=bearer(first["access_token"]),
    )
    _assert_envelope(weak, 422, "validation_failed")
    ok = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another-pass-9"},
        headers=bearer(first["access_token"]),
    )
    assert ok.status_code == 204
    assert client.get(ME, headers=bearer(first["access_token"])).status_code == 200
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 401
    assert _login(client, "alice", "another-pass-9").status_code == 200


# Console sessions and CSRF -----------------------------------------------------------------


def test_cookie_login_sets_httponly_strict_cookies(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    response = _login(client, "alice", mode="cookie")
    assert response.status_code == 200, response.text
    assert "access_token" not in response.json()
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("firegrid_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("firegrid_csrf="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=strict" in session_cookie or "SameSite=Strict" in session_cookie
    assert "HttpOnly" not in csrf_cookie
    assert "samesite=strict" in csrf_cookie.lower()
    assert response.json()["csrf_token"] == client.cookies.get("firegrid_csrf")
    me = client.get(ME)
    assert me.status_code == 200
    assert me.json()["auth_method"] == "cookie"


def test_cookie_session_needs_csrf_header_for_state_changes(
    client: TestClient, db: Database, city: City
):
    make_user(db, "root", "admin", city.code("city", "in"))
    csrf = _login(client, "root", mode="cookie").json()["csrf_token"]
    body = {"username": "newbie", "role": "analyst", "scope_code": city.code("town", "in")}
    missing = client.post("/api/v1/users", json=body)
    assert _assert_envelope(missing, 403, "forbidden")["details"]["reason"] == "csrf"
    wrong = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "forged"})
    _assert_envelope(wrong, 403, "forbidden")
    ok = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    # Refused attempts were audited too.
    refused = _audit(db, path="/api/v1/users", status=403)
    assert len(refused) == 2
    assert all(entry.actor_username == "root" for entry in refused)


def test_csrf_token_of_another_session_is_refused(client: TestClient, db: Database, city: City):
    make_user(db, "root", "admin", city.code("city", "in"))
    other = TestClient(client.app)
    other_csrf = _login(other, "root", mode="cookie").json()["csrf_token"]
    _login(client, "root", mode="cookie")
    client.cookies.set("firegrid_csrf", other_csrf)
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": other_csrf})
    _assert_envelope(response, 403, "forbidden")


def test_cookie_logout_clears_cookies_and_revokes(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    csrf = _login(client, "alice", mode="cookie").json()["csrf_token"]
    stolen = client.cookies.get("firegrid_session")
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert any("firegrid_session=" in c for c in response.headers.get_list("set-cookie"))
    client.cookies.set("firegrid_session", stolen)
    replay = client.get(ME)
    _assert_envelope(replay, 401, "unauthenticated")


def test_tampered_session_cookie_is_401(client: TestClient, db: Database, city: City):
    make_user(db, "alice", "dispatcher", city.code("town", "in"))
    _login(client, "alice", mode="cookie")
    sid = client.cookies.get("firegrid_session").split(".")[0]
    client.cookies.set("firegrid_session", f"{sid}.guessed-secret")
    _assert_envelope(client.get(ME), 401, "unauthenticated")
