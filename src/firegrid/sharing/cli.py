"""``firegrid sharing webhooks add|list|show|remove|retry|run``: webhook subscriptions from
the command line (the operator acts as a system administrator of the scope it names)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    emit,
    fail,
    open_database,
    resolve_settings,
)
from firegrid.links.commands import run_worker

sharing_app = command_group("Sharing with other departments: webhook subscriptions.")
webhooks_app = command_group(
    "Webhooks: signed deliveries of the change feed to a subscriber's URL."
)
sharing_app.add_typer(webhooks_app, name="webhooks")


def _operator(scope: str, session: Any) -> Any:
    """The operator as an administrator of jurisdiction ``scope`` (the whole city when
    empty)."""
    from firegrid.accounts.public import Principal
    from firegrid.places.public import Jurisdiction

    if not scope:
        return Principal("system:cli", "cli", "admin", "/", "", auth_method="system")
    row = session.scalars(select(Jurisdiction).where(Jurisdiction.code == scope)).first()
    if row is None:
        fail(
            f"no jurisdiction with code {scope!r}",
            EXIT_USAGE,
            hint="give a town, village or grid code (firegrid places tree lists them)",
        )
    return Principal("system:cli", "cli", "admin", row.path, row.code, auth_method="system")


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['id']}: {row['name']} → {row['url']} [{','.join(row['kinds'])}] "
        f"scope {row['scope_path']} {row['status']}"
    )


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The subscriber's http(s) URL.")],
    name: Annotated[str, typer.Option(help="What the subscription is called.")] = "",
    kinds: Annotated[
        str, typer.Option(help="Comma-separated feed kinds (venue,hazard,inspection,incident).")
    ] = "",
    scope: Annotated[str, typer.Option(help="Jurisdiction code it may see (default: city).")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a subscription; prints its secret once (the subscriber verifies with it)."""
    from firegrid.sharing import webhooks as wh

    settings = resolve_settings(db)
    with open_database(db) as database, database.session() as session:
        row, secret = wh.create_subscription(
            session,
            _operator(scope, session),
            settings,
            name=name or url,
            url=url,
            kinds=kinds.split(","),
        )
        result = {**wh.subscription_dict(row), "secret": secret}
    emit(result, as_json)


@webhooks_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include removed ones.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscriptions, with their delivery backlog and dead letters."""
    from firegrid.sharing import webhooks as wh

    with open_database(db) as database, database.session() as session:
        rows = wh.scoped_subscriptions(session, _operator("", session), include_removed=all_)
        items = [wh.subscription_dict(r) for r in rows]
    emit(items, as_json, lambda data: "\n".join(_line(r) for r in data) or "no subscriptions")


@webhooks_app.command("show")
def show(
    subscription_id: Annotated[int, typer.Argument(help="Id of the subscription.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A subscription and the health of its deliveries (backlog, last ack, failures)."""
    from firegrid.links.health import peer_health
    from firegrid.sharing import webhooks as wh

    settings = resolve_settings(db)
    with open_database(db) as database, database.session() as session:
        row = wh.get_subscription(session, _operator("", session), subscription_id)
        config = wh.webhook_config(settings, [row])
        result = {
            **wh.subscription_dict(row),
            "health": peer_health(session, config, wh.peer_id(row.id)),
        }
    emit(result, as_json)


@webhooks_app.command("remove")
def remove(
    subscription_id: Annotated[int, typer.Argument(help="Id of the subscription.")],
    cause: Annotated[str, typer.Option(help="Why it is removed (recorded).")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop a subscription (its waiting deliveries become dead letters)."""
    from firegrid.sharing import webhooks as wh

    with open_database(db) as database, database.session() as session:
        operator = _operator("", session)
        row = wh.get_subscription(session, operator, subscription_id)
        result = wh.subscription_dict(
            wh.remove_subscription(session, operator, row, cause or "removed at the CLI")
        )
    emit(result, as_json)


@webhooks_app.command("retry")
def retry(
    subscription_id: Annotated[int, typer.Argument(help="Id of the subscription.")],
    delivery: Annotated[
        int | None, typer.Option(help="Id of one dead delivery (default: all of them).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send dead deliveries again, with the same delivery ids."""
    from firegrid.links.outbox import message_dict
    from firegrid.sharing import webhooks as wh

    with open_database(db) as database, database.session() as session:
        operator = _operator("", session)
        row = wh.get_subscription(session, operator, subscription_id)
        ids = (
            [delivery]
            if delivery is not None
            else [m.id for m in wh.dead_deliveries(session, row.id, 10_000)]
        )
        retried = [message_dict(wh.retry_delivery(session, operator, row, i)) for i in ids]
    emit({"retried": len(retried), "items": retried}, as_json)


@webhooks_app.command("run")
def run(db: DbOption = None, quiet: QuietOption = False) -> None:
    """Relay shared changes to the subscribers and deliver them, until stopped."""
    from firegrid.sharing.webhook_worker import run_webhooks

    run_worker(db, run_webhooks, "delivering webhooks", quiet=quiet)
