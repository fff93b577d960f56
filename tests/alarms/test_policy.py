"""The monitoring-centre policy as versioned data: seed, validation, history, API, CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.accounts.models import AuditEntry
from firegrid.accounts.principal import system_principal
from firegrid.alarms import policy_store
from firegrid.alarms.cli import alarms_app
from firegrid.alarms.policy_doc import PolicyDocument, validate_document
from firegrid.alarms.rules import default_document
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.settings import Settings
from tests.accounts.city import City, bearer, make_user, token_for
from tests.alarms.conftest import FrozenClock, Site

runner = CliRunner()
TYPES = {"building_fire", "hazmat_fire", "hazmat", "vehicle_fire"}


def shipped() -> dict[str, Any]:
    return PolicyDocument(*default_document()).as_data()


def problems_of(data: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        validate_document(data, incident_types=kw.pop("types", TYPES), **kw)
    return {p["field"]: p["code"] for p in info.value.details["problems"]}


# Validation (pure) ------------------------------------------------------------------------


def test_shipped_document_is_valid_and_forwards_chemical_plants_as_hazmat_fire() -> None:
    document = validate_document(shipped(), incident_types=TYPES)
    assert document.policy.incident_kind_for("chemical_plant") == "hazmat_fire"
    assert document.policy.task_due_s < document.policy.shortest_verify_timeout()[1]


def test_timer_order_refused_unless_the_task_holds_the_auto_forward() -> None:
    data = shipped()
    data["policy"]["task_due_s"] = 900
    with pytest.raises(ValidationFailed) as info:
        validate_document(data, incident_types=TYPES)
    (problem,) = info.value.details["problems"]
    assert problem["field"] == "policy.task_due_s"
    assert problem["code"] == "timer_order"
    assert problem["params"]["auto_forward_s"] == 120
    assert "task_pauses_auto_forward" in problem["message"]
    data["policy"]["task_pauses_auto_forward"] = True
    assert validate_document(data, incident_types=TYPES).policy.task_due_s == 900


def test_every_problem_is_named_by_its_field() -> None:
    data = shipped()
    data["policy"]["incident_kind"]["chemical_plant"] = "chemical_fire"
    data["policy"]["bogus_s"] = 1
    data["policy"]["verify_timeout_s"]["hospitl"] = 60
    data["rules"][0]["when"]["count"]["at_least"] = 0
    data["extra"] = {}
    assert problems_of(data, categories=policy_store.venue_categories()) == {
        "extra": "unknown_key",
        "policy.bogus_s": "unknown_key",
        "policy.verify_timeout_s.hospitl": "unknown_category",
        # 60 s (even of a misspelt category) is shorter than the 90 s task
        "policy.task_due_s": "timer_order",
        "policy.incident_kind.chemical_plant": "unknown_incident_type",
        # a value out of its bounds: pydantic's kind of error, as a shared problem code
        "rules[0].when.count.at_least": "greater_than_equal",
    }


def test_unknown_incident_type_is_refused_not_mapped() -> None:
    data = shipped()
    data["policy"]["incident_kind"]["default"] = "fire"
    assert problems_of(data) == {"policy.incident_kind.default": "unknown_incident_type"}
    data = shipped()
    del data["policy"]["incident_kind"]["default"]
    assert problems_of(data) == {"policy.incident_kind": "missing_default"}
    data = shipped()
    data["policy"]["acknowledge_timeout_s"] = -5
    data["policy"]["work_order_due_s"]["fault"] = 0
    assert problems_of(data) == {
        "policy.acknowledge_timeout_s": "greater_than",
        "policy.work_order_due_s.fault": "greater_than",
    }
    assert problems_of({"policy": shipped()["policy"]}) == {"rules": "missing"}


# The store -------------------------------------------------------------------------------


def test_seed_edit_history_and_audit(db: Database, city: City) -> None:
    with db.session() as session:
        first = policy_store.current(session)
        assert (first.version, first.created_by) == (1, policy_store.SEED_AUTHOR)
        assert first.document.as_data() == shipped()
    data = shipped()
    data["policy"]["acknowledge_timeout_s"] = 45
    with db.session() as session:
        stored = policy_store.save(
            session, system_principal("test"), data, cause="faster escalation", base_version=1
        )
    assert stored.version == 2
    assert stored.changes == (
        {"field": "policy.acknowledge_timeout_s", "before": 60.0, "after": 45.0},
    )
    with db.session() as session:
        assert policy_store.current(session).document.policy.acknowledge_timeout_s == 45
        history = policy_store.history(session)
        assert [(v.version, v.cause) for v in history] == [
            (2, "faster escalation"),
            (1, policy_store.SEED_CAUSE),
        ]
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "alarm_policy.edit")
        ).one()
        assert entry.resource_id == "2"
        assert entry.before is not None
        assert entry.after is not None
        assert entry.before["document"]["policy"]["acknowledge_timeout_s"] == 60
        assert entry.after["document"]["policy"]["acknowledge_timeout_s"] == 45
        # an edit of a stale version is refused, never silently overwrites
        with pytest.raises(Conflict):
            policy_store.save(session, system_principal("test"), data, cause="x", base_version=1)
        # a refused document stores nothing
        bad = copy.deepcopy(data)
        bad["policy"]["task_due_s"] = 900
        with pytest.raises(ValidationFailed):
            policy_store.save(session, system_principal("test"), bad, cause="x")
    with db.session() as session:
        assert policy_store.current(session).version == 2


# The API ---------------------------------------------------------------------------------


def _header(db: Database, settings: Settings, name: str, role: str, scope: str) -> dict[str, str]:
    return bearer(token_for(db, settings, make_user(db, name, role, scope)))


def test_api_supervisor_edits_and_everyone_else_is_refused(
    db: Database, settings: Settings, city: City, client: TestClient, site: Site
) -> None:
    supervisor = _header(db, settings, "supervisor1", "monitor_supervisor", city.code("city", "in"))
    town_supervisor = _header(
        db, settings, "supervisor_town", "monitor_supervisor", city.code("town", "in")
    )
    operator = _header(db, settings, "operator1", "monitor_operator", city.code("town", "in"))
    current = client.get("/api/v1/alarms/policy", headers=operator)
    assert current.status_code == 200
    assert current.json()["version"] == 1
    document = current.json()["document"]
    document["policy"]["task_due_s"] = 60
    body = {"document": document, "cause": "grid workers report faster", "base_version": 1}
    assert (
        client.post("/api/v1/alarms/policy/versions", json=body, headers=operator).status_code
        == 403
    )
    refused = client.post("/api/v1/alarms/policy/versions", json=body, headers=town_supervisor)
    assert refused.status_code == 403
    stored = client.post("/api/v1/alarms/policy/versions", json=body, headers=supervisor)
    assert stored.status_code == 201, stored.text
    assert stored.json()["version"] == 2
    assert stored.json()["created_by"] == "supervisor1"
    assert stored.json()["changes"] == [
        {"field": "policy.task_due_s", "before": 90.0, "after": 60.0}
    ]
    # stale base version: 409; invalid document: 422 with every problem by field
    again = client.post("/api/v1/alarms/policy/versions", json=body, headers=supervisor)
    assert again.status_code == 409
    document["policy"]["task_due_s"] = 600
    document["policy"]["incident_kind"]["chemical_plant"] = "explosion"
    bad = client.post(
        "/api/v1/alarms/policy/versions",
        json={"document": document, "cause": "x", "base_version": 2},
        headers=supervisor,
    )
    assert bad.status_code == 422
    fields = {p["field"]: p["code"] for p in bad.json()["error"]["details"]["problems"]}
    assert fields == {
        "policy.task_due_s": "timer_order",
        "policy.incident_kind.chemical_plant": "unknown_incident_type",
    }
    history = client.get("/api/v1/alarms/policy/versions", headers=operator).json()
    assert [v["version"] for v in history["items"]] == [2, 1]
    one = client.get("/api/v1/alarms/policy/versions/1", headers=operator).json()
    assert one["document"]["policy"]["task_due_s"] == 90
    assert client.get("/api/v1/alarms/policy/versions/9", headers=operator).status_code == 404


def test_api_process_uses_the_new_version_at_the_next_request(
    db: Database,
    settings: Settings,
    city: City,
    client: TestClient,
    site: Site,
    clock: FrozenClock,
) -> None:
    """The API process follows the stored policy: a task asked after an edit made by
    another process (the CLI) is due after the new task_due_s."""
    from firegrid.alarms.directory import DatabaseDirectory
    from firegrid.alarms.service import Correlator
    from firegrid.ingest.events import EventKind as K
    from tests.alarms.conftest import feed_events

    operator = _header(db, settings, "operator2", "monitor_operator", city.code("town", "in"))
    correlator = Correlator(DatabaseDirectory(), clock=clock)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    alarms = client.get("/api/v1/alarms", headers=operator).json()["items"]
    alarm_id = alarms[0]["alarm_id"]
    data = shipped()
    data["policy"]["task_due_s"] = 45
    with db.session() as session:  # as another process would
        policy_store.save(session, system_principal("cli"), data, cause="test")
    task = client.post(f"/api/v1/alarms/{alarm_id}/tasks", json={"note": ""}, headers=operator)
    assert task.status_code == 201, task.text
    from datetime import datetime

    created = datetime.fromisoformat(task.json()["created_at"])
    due = datetime.fromisoformat(task.json()["due_at"])
    assert (due - created).total_seconds() == 45


# The CLI ---------------------------------------------------------------------------------


def test_cli_show_edit_history(db: Database, city: City, tmp_path: Path) -> None:
    shown = runner.invoke(alarms_app, ["policy", "show", "--db", db.url, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["version"] == 1
    document = data["document"]
    document["policy"]["fold_window_s"] = 90
    good = tmp_path / "policy.yaml"
    good.write_text(yaml.safe_dump(document, allow_unicode=True))
    edited = runner.invoke(
        alarms_app, ["policy", "edit", str(good), "--db", db.url, "--cause", "shorter window"]
    )
    assert edited.exit_code == 0, edited.output
    assert edited.output.startswith("version 2 by cli")
    document["policy"]["task_due_s"] = 900
    document["policy"]["incident_kind"]["chemical_plant"] = "hazmat_fir"
    document["policy"]["typo_s"] = 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    refused = runner.invoke(alarms_app, ["policy", "edit", str(bad), "--db", db.url])
    assert refused.exit_code == 2
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    (line,) = refused.stderr.strip().splitlines()  # the CLI contract: one line
    assert line.startswith("error: the policy is refused: policy.typo_s: ")
    assert "Traceback" not in refused.output
    as_json = runner.invoke(alarms_app, ["policy", "edit", str(bad), "--db", db.url, "--json"])
    assert as_json.exit_code == 2
    problems = json.loads(as_json.stdout)["error"]["details"]["problems"]
    assert [problem["field"] for problem in problems] == [
        "policy.typo_s",
        "policy.task_due_s",
        "policy.incident_kind.chemical_plant",
    ]
    missing = runner.invoke(
        alarms_app, ["policy", "edit", str(tmp_path / "no.yaml"), "--db", db.url]
    )
    assert missing.exit_code == 2
    assert len(missing.stderr.strip().splitlines()) == 1
    history = runner.invoke(alarms_app, ["policy", "history", "--db", db.url, "--json"])
    assert history.exit_code == 0
    items = json.loads(history.output)
    assert [(i["version"], i["cause"]) for i in items] == [
        (2, "shorter window"),
        (1, policy_store.SEED_CAUSE),
    ]
    assert items[0]["changes"] == [
        {"field": "policy.fold_window_s", "before": 120.0, "after": 90.0}
    ]
