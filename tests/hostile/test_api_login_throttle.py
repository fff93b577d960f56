"""Sign-in throttling (#24, finding 2: anyone could lock the ``dispatcher`` account for 15
minutes with 5 wrong passwords).

Failures count per (source address, name) and per source address; past the limit that
*address* waits (429, ``Retry-After``), longer after each further failure. The operator
signing in from another address is never affected, and every failed attempt stays in the
audit log.
"""

# ruff: noqa: F811 - the fixtures imported from tests.hostile.api_world are test arguments

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.accounts.errors import LoginThrottled
from firegrid.accounts.models import AuditEntry
from firegrid.accounts.sessions import (
    FIRST_DELAY,
    MAX_DELAY,
    MAX_FAILURES_PER_SOURCE,
    MAX_FAILURES_PER_SOURCE_ACCOUNT,
    ClientInfo,
    delay_after,
    login,
)
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Unauthenticated
from tests.accounts.city import PASSWORD, City, make_user
from tests.hostile.api_world import (  # noqa: F401 - fixtures
    ATTACKER,
    OPERATOR,
    _cheap_password_hashing,
    app,
    city,
    envelope_of,
)

LOGIN = "/api/v1/auth/login"
WRONG = "not-the-password-9"


def _login(client: TestClient, password: str, username: str = "dispatcher"):
    return client.post(LOGIN, json={"username": username, "password": password})


def _failed_attempts(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "auth.login", AuditEntry.outcome != "success")
            )
            or 0
        )


def test_an_anonymous_caller_cannot_lock_the_operator_out(app: FastAPI, db: Database, city: City):
    make_user(db, "dispatcher", "dispatcher", city.code("town", "in"))
    with TestClient(app, client=ATTACKER) as attacker, TestClient(app, client=OPERATOR) as operator:
        for _ in range(MAX_FAILURES_PER_SOURCE_ACCOUNT):
            envelope_of(_login(attacker, WRONG), 401, "unauthenticated")
        # The attacker's address now waits, told how long ...
        waiting = _login(attacker, PASSWORD)
        error = envelope_of(waiting, 429, "too_many_requests")
        assert waiting.headers["retry-after"] == str(error["details"]["retry_after_s"])  # type: ignore[index]
        assert 0 < int(waiting.headers["retry-after"]) <= FIRST_DELAY.total_seconds() + 1
        # ... while the operator at their own desk signs in at once.
        signed_in = _login(operator, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["username"] == "dispatcher"
    # Every failed or refused attempt is audited (5 wrong passwords + 1 throttled).
    assert _failed_attempts(db) == MAX_FAILURES_PER_SOURCE_ACCOUNT + 1


def test_the_wait_grows_after_each_further_failure(db: Database, city: City):
    make_user(db, "dispatcher", "dispatcher", city.code("town", "in"))
    attacker = ClientInfo(ip=ATTACKER[0])
    now = utcnow()
    waits = []
    for attempt in range(MAX_FAILURES_PER_SOURCE_ACCOUNT + 3):
        with db.session() as session, pytest.raises(Unauthenticated):
            login(session, "dispatcher", WRONG, attacker, now=now)
        if attempt + 1 >= MAX_FAILURES_PER_SOURCE_ACCOUNT:
            with db.session() as session, pytest.raises(LoginThrottled) as refused:
                login(session, "dispatcher", PASSWORD, attacker, now=now)
            waits.append(refused.value.details["retry_after_s"])
            now += timedelta(seconds=refused.value.details["retry_after_s"])
    assert waits == [31, 61, 121, 241]  # 30 s, doubling (+1 s rounding up)
    assert delay_after(100, MAX_FAILURES_PER_SOURCE_ACCOUNT) == MAX_DELAY
    # The right password after the wait signs in, and forgets this address's failures.
    with db.session() as session:
        assert login(session, "dispatcher", PASSWORD, attacker, now=now).username == "dispatcher"
    with db.session() as session:
        login(session, "dispatcher", PASSWORD, attacker, now=now)  # not throttled any more


def test_one_address_spraying_many_names_waits(db: Database, city: City):
    make_user(db, "dispatcher", "dispatcher", city.code("town", "in"))
    sprayer, operator = ClientInfo(ip=ATTACKER[0]), ClientInfo(ip=OPERATOR[0])
    now = utcnow()
    for n in range(MAX_FAILURES_PER_SOURCE):
        with db.session() as session, pytest.raises(Unauthenticated):
            login(session, f"guess{n}", WRONG, sprayer, now=now)
    with db.session() as session, pytest.raises(LoginThrottled):
        login(session, "dispatcher", PASSWORD, sprayer, now=now)
    with db.session() as session:
        assert login(session, "dispatcher", PASSWORD, operator, now=now).username == "dispatcher"
