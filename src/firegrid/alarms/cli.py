"""``firegrid alarms``: list, stats, run the correlator and timers, test rules on a stream."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    command_group,
    emit,
    fail,
    notice,
    resolve_settings,
    run_service,
    session_scope,
)

alarms_app = command_group("Monitoring centre: alarms, rules, timers.")
rules_app = command_group("Correlation rules.")
alarms_app.add_typer(rules_app, name="rules")
policy_app = command_group(
    "The monitoring-centre policy in force (timers, rules, forwarding map), versioned."
)
alarms_app.add_typer(policy_app, name="policy")


@alarms_app.command("list")
def list_command(
    db: DbOption = None,
    status: Annotated[str | None, typer.Option(help="Only alarms in this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List alarms, newest first."""
    from firegrid.accounts.public import system_principal
    from firegrid.alarms.lifecycle import alarm_dict
    from firegrid.alarms.queries import list_alarms

    with session_scope(db) as session:
        rows = list_alarms(session, system_principal("cli"), status=status, limit=limit)
        items = [alarm_dict(a) for a in rows]
    if as_json:
        emit(items, True)
        return
    for item in items:
        typer.echo(
            f"#{item['alarm_id']} {item['kind']:<11} {item['status']:<12} "
            f"p{item['priority']} {item['venue_name'] or item['venue_id']} "
            f"events={item['event_count']} opened={item['opened_at']}"
            + (" forwarded" if item["forwarded"] else "")
        )


@alarms_app.command("stats")
def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """False-alarm rates, times to acknowledge and verify, top offending devices."""
    from firegrid.accounts.public import system_principal
    from firegrid.alarms.stats import alarm_stats

    with session_scope(db) as session:
        data = alarm_stats(session, system_principal("cli"))
    emit(data, as_json)


@alarms_app.command("run")
def run_command(
    db: DbOption = None,
    timer_interval: Annotated[float, typer.Option(help="Seconds between timer passes.")] = 0.5,
    rules: Annotated[
        Path | None,
        typer.Option(
            help="Pin this process to a policy and rules YAML (a trial); by default it "
            "follows the stored policy in force and picks up every new version."
        ),
    ] = None,
) -> None:
    """Run the correlator (event log consumer), timers and notifications until stopped."""
    from firegrid.alarms.consumer import run_alarm_services
    from firegrid.alarms.rules import load_document
    from firegrid.core.collector import settle_for_service
    from firegrid.core.db import Database
    from firegrid.core.logging import configure_logging
    from firegrid.ops.metrics import serve_metrics

    settings = resolve_settings(db)
    configure_logging(settings.log_level, settings.log_json)
    policy, rule_list = (
        load_document(rules.read_text(encoding="utf-8")) if rules is not None else (None, None)
    )

    notice(
        "alarm services running: correlator, timers and notifications on "
        f"{_redacted(settings.database_url)} "
        f"({'pinned to ' + str(rules) if rules else 'following the stored policy'}); "
        "Ctrl-C stops"
    )

    async def main() -> None:
        database = Database(settings.database_url)
        serve_metrics(
            settings.metrics_listen,
            database,
            event_log=settings.event_log,
            nats_url=settings.nats_url,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        settle_for_service()  # the correlator's ORM rows made thousands of young passes a second
        try:
            await run_alarm_services(
                database,
                settings,
                stop,
                timer_interval_s=timer_interval,
                policy=policy,
                rules=rule_list,
            )
        finally:
            database.dispose()

    run_service(main())


@rules_app.command("test")
def rules_test_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Recorded stream: one DeviceEvent JSON a line.", exists=True, dir_okay=False
        ),
    ],
    rules: Annotated[Path | None, typer.Option(help="Rules YAML (default: shipped).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the rules against a recorded stream and print the resulting alarms."""
    from firegrid.alarms.replay import replay_file

    alarms = replay_file(file, rules_file=rules, db_url=db)
    if as_json:
        typer.echo(json.dumps(alarms, ensure_ascii=False, indent=2, default=str))
        return
    for item in alarms:
        typer.echo(
            f"#{item['alarm_id']} {item['kind']:<11} {item['status']:<12} p{item['priority']} "
            f"venue={item['venue_id']} events={item['event_count']} "
            f"rules={','.join(item['rule_hits']) or '-'}"
        )


# The policy ---------------------------------------------------------------------------------


def _policy_session(db: str | None, work: Any) -> Any:
    """Run ``work(session)`` in one transaction; an invalid policy ends the command with
    its problems in the error (one line; each problem under ``details.problems``)."""
    from firegrid.alarms.policy_doc import problem_lines
    from firegrid.core.errors import ValidationFailed

    try:
        with session_scope(db) as session:
            return work(session)
    except ValidationFailed as exc:
        fail(
            "the policy is refused: " + "; ".join(problem_lines(exc)),
            EXIT_USAGE,
            exc.details,
            error_code=exc.code,
            hint="fix the document and run the command again",
        )


def _print_version(data: dict[str, Any]) -> None:
    typer.echo(
        f"version {data['version']} by {data['created_by']} at {data['created_at']}"
        + (f": {data['cause']}" if data["cause"] else "")
    )
    for change in data.get("changes") or []:
        typer.echo(f"  {change['field']}: {change['before']!r} -> {change['after']!r}")


@policy_app.command("show")
def policy_show_command(
    db: DbOption = None,
    version: Annotated[int | None, typer.Option(help="A stored version (default: newest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the policy in force (or one version) as YAML, or JSON with --json."""
    import yaml

    from firegrid.alarms import policy_store

    def work(session: Any) -> dict[str, Any]:
        stored = (
            policy_store.current(session)
            if version is None
            else policy_store.get_version(session, version)
        )
        return stored.as_dict()

    data = _policy_session(db, work)
    if as_json:
        emit(data, True)
        return
    typer.echo(
        f"# policy version {data['version']} by {data['created_by']} at {data['created_at']}"
    )
    if data["cause"]:
        typer.echo(f"# {data['cause']}")
    typer.echo(yaml.safe_dump(data["document"], allow_unicode=True, sort_keys=False).rstrip())


@policy_app.command("edit")
def policy_edit_command(
    file: Annotated[
        Path, typer.Argument(help="The whole policy document ({policy, rules}), YAML or JSON.")
    ],
    db: DbOption = None,
    cause: Annotated[str, typer.Option(help="Why the policy changes (kept in the history).")] = "",
    base_version: Annotated[
        int | None,
        typer.Option(help="Refuse if the version in force is no longer this one."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate FILE and store it as the next version; prints the version. Every process
    (alarms run, the API) takes it up without restart. A refused document: exit 2, its
    problems in one line (each one under details.problems with --json)."""
    import yaml

    from firegrid.accounts.public import system_principal
    from firegrid.alarms import policy_store

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))  # JSON is YAML too
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", 2, hint="give the path of a YAML or JSON file")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        fail(f"{file} is not valid YAML or JSON{where}: {problem}", 2)

    def work(session: Any) -> dict[str, Any]:
        stored = policy_store.save(
            session,
            system_principal("cli"),
            data,
            cause=cause or f"firegrid alarms policy edit {file.name}",
            base_version=base_version,
        )
        return stored.as_dict()

    result = _policy_session(db, work)
    if as_json:
        emit({k: v for k, v in result.items() if k != "document"}, True)
        return
    _print_version(result)


@policy_app.command("history")
def policy_history_command(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="At most this many versions (newest first).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Versions of the policy, newest first, with author, time, cause and what changed."""
    from firegrid.alarms import policy_store

    items = _policy_session(
        db, lambda session: [v.summary() for v in policy_store.history(session, limit=limit)]
    )
    if as_json:
        emit(items, True)
        return
    for item in items:
        _print_version(item)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
