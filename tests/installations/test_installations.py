"""Installation programmes: record installations, bind connected devices (refusing an
unknown or foreign one), figures by town/village and month on a hand-built set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firegrid.accounts.principal import system_principal
from firegrid.api.app import create_app
from firegrid.cli import app as cli_app
from firegrid.core.clock import CHINA_TZ
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.installations import service
from tests.accounts.city import (
    City,
    add_grid,
    bearer,
    build_city,
    make_user,
    token_for,
    use_cheap_hasher,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True, scope="module")
def _cheap() -> None:
    use_cheap_hasher()


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


@pytest.fixture
def client(settings: Settings, db: Database, city: City) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def _local(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=CHINA_TZ)


def _programme(db: Database, city: City, code: str = "SA-2026") -> int:
    with db.session() as session:
        row = service.create_programme(
            session,
            system_principal("tests"),
            code=code,
            name="2026 独立式感烟报警器 (synthetic)",
            scope_code=city.code("town", "in"),
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            target_count=100,
        )
        return row.id


def test_record_and_bind_a_connected_device(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    programme_id = _programme(db, city)
    worker = bearer(
        token_for(db, settings, make_user(db, "installer", "grid_worker", city.code("town", "in")))
    )
    url = f"/api/v1/installations/programmes/{programme_id}/installations"
    base = {
        "device_type": "smoke_alarm",
        "unit_kind": "room",
        "installed_at": _local(2026, 11, 3).isoformat(),
        "installer": "李师傅",
        "grid_code": city.code("grid", "in"),
        "household": "3栋 201",
    }
    r = client.post(url, json={**base, "device_id": city.id("device", "in")}, headers=worker)
    assert r.status_code == 201, r.text
    assert r.json()["device_id"] == city.id("device", "in")
    assert r.json()["jurisdiction_path"] == city.paths["grid:in"]
    # the same device twice: refused
    r = client.post(url, json={**base, "device_id": city.id("device", "in")}, headers=worker)
    assert r.status_code == 409, r.text

    # unknown, and another town's device: the same "not a registered device" answer
    for device_id in (999_999, city.id("device", "out")):
        r = client.post(url, json={**base, "device_id": device_id}, headers=worker)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["reason"] == "unknown_device"
    # a device of the same town but another grid: foreign
    with db.session() as session:
        other_grid = add_grid(session, city, "in")
        other_code = other_grid.code
    r = client.post(
        url,
        json={**base, "grid_code": other_code, "device_id": city.id("device", "in")},
        headers=worker,
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["reason"] == "foreign_device"
    # a sprinkler does not bind to a smoke alarm
    r = client.post(
        url,
        json={**base, "device_type": "simple_sprinkler", "device_id": city.id("device", "in")},
        headers=worker,
    )
    assert r.status_code == 422, r.text
    # outside the programme's dates, and a household without its room or address
    r = client.post(url, json={**base, "installed_at": "2025-06-01T10:00:00+08:00"}, headers=worker)
    assert r.status_code == 422
    assert "outside programme" in r.json()["error"]["message"]
    r = client.post(url, json={**base, "household": ""}, headers=worker)
    assert r.status_code == 422
    # a grid worker may not create programmes; the list shows the installed count
    r = client.post(
        "/api/v1/installations/programmes",
        json={
            "code": "X",
            "name": "x",
            "scope_code": city.code("town", "in"),
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        headers=worker,
    )
    assert r.status_code == 403
    r = client.get("/api/v1/installations/programmes", headers=worker)
    assert [(p["code"], p["installed"]) for p in r.json()["items"]] == [("SA-2026", 1)]


def test_figures_by_town_village_and_month(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    operator = system_principal("tests")
    with db.session() as session:
        programmes = {}
        for side in ("in", "out"):
            programmes[side] = service.create_programme(
                session,
                operator,
                code=f"P-{side}",
                name=side,
                scope_code=city.code("town", side),
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
            )
        hand_built = [
            # side, device type, unit kind, local date, bound device
            ("in", "smoke_alarm", "household", (2026, 10, 31), False),
            ("in", "smoke_alarm", "room", (2026, 11, 1), True),
            ("in", "smoke_alarm", "household", (2026, 11, 30), False),
            ("in", "simple_sprinkler", "venue", (2026, 11, 15), False),
            ("out", "smoke_alarm", "household", (2026, 11, 2), False),
            ("out", "smoke_alarm", "household", (2026, 12, 1), False),
        ]
        for side, kind, unit, day, bound in hand_built:
            service.record_installation(
                session,
                operator,
                programmes[side],
                service.InstallationSpec(
                    device_type=kind,
                    unit_kind=unit,
                    installed_at=_local(*day),
                    installer="tests",
                    household="1-101" if unit != "venue" else "",
                    venue_id=city.id("venue", side) if unit == "venue" else None,
                    grid_code=None if unit == "venue" else city.code("grid", side),
                    device_id=city.id("device", side) if bound else None,
                ),
            )
    # 2026-11-01 00:30 local is November, though it is still October in UTC
    with db.session() as session:
        service.record_installation(
            session,
            operator,
            programmes["in"],
            service.InstallationSpec(
                device_type="smoke_alarm",
                unit_kind="household",
                installed_at=datetime(2026, 11, 1, 0, 30, tzinfo=CHINA_TZ),
                installer="tests",
                household="1-102",
                grid_code=city.code("grid", "in"),
            ),
        )
        rows = service.report(session, operator, service.parse_period("2026-11"), "town")
    by_town = {r["unit"]: r for r in rows}
    town_in, town_out = city.code("town", "in"), city.code("town", "out")
    assert set(by_town) == {town_in, town_out}
    assert (by_town[town_in]["smoke_alarms"], by_town[town_in]["simple_sprinklers"]) == (3, 1)
    assert by_town[town_in]["connected"] == 1
    assert (by_town[town_in]["households"], by_town[town_in]["venues"]) == (3, 1)
    assert by_town[town_out]["total"] == 1

    admin_user = make_user(db, "inst_admin", "admin", city.code("town", "in"))
    headers = bearer(token_for(db, settings, admin_user))
    r = client.get(
        "/api/v1/installations/report",
        params={"period": "2026", "level": "village"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()
    # scoped to the in-town: October and November of its village, nothing of the out-town
    assert [(row["unit"], row["period"], row["total"]) for row in data["items"]] == [
        (city.code("village", "in"), "2026-10", 1),
        (city.code("village", "in"), "2026-11", 4),
    ]
    assert data["totals"]["total"] == 5
    r = client.get(
        "/api/v1/installations/report.csv", params={"period": "2026-11"}, headers=headers
    )
    assert r.status_code == 200
    assert r.text.startswith("\ufeffperiod,level,unit")
    assert len(r.text.strip().splitlines()) == 2
    for period in ("2026-13", "0000", "9999-12"):
        bad = client.get("/api/v1/installations/report", params={"period": period}, headers=headers)
        assert bad.status_code == 422, (period, bad.text)


def test_cli_report(db: Database, settings: Settings, city: City, database_url: str) -> None:
    programme_id = _programme(db, city)
    with db.session() as session:
        programme = service.get_programme(session, system_principal("t"), programme_id)
        service.record_installation(
            session,
            system_principal("t"),
            programme,
            service.InstallationSpec(
                device_type="smoke_alarm",
                unit_kind="household",
                installed_at=_local(2026, 11, 5),
                installer="t",
                household="2-301",
                grid_code=city.code("grid", "in"),
            ),
        )
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["installations", "report", "--period", "2026-11", "--db", database_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"smoke_alarms": 1' in result.output
    result = runner.invoke(
        cli_app,
        [
            "installations",
            "report",
            "--period",
            "2026-11",
            "--level",
            "street",
            "--db",
            database_url,
            "--json",
        ],
    )
    assert result.exit_code == 2, result.output


def test_demo_installations_count_the_seeds_year(db: Database, city: City) -> None:
    from firegrid.installations.demo import SMOKE_ALARMS_PER_YEAR, generate_installations

    figures = generate_installations(db, 7)
    assert figures["smoke_alarms"] == SMOKE_ALARMS_PER_YEAR == 3_156
    with db.session() as session:
        rows = service.report(
            session,
            system_principal("t"),
            service.parse_period(str(datetime.now(CHINA_TZ).year)),
            "town",
        )
        total = service.list_installations(session, system_principal("t"), limit=10_000)
    assert len(total) == 3_156 + figures["simple_sprinklers"]
    assert sum(r["smoke_alarms"] for r in rows) <= 3_156
