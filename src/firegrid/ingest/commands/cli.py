"""Commands of the downlink (mounted by :mod:`firegrid.cli`).

- ``firegrid devices check-post --venue CODE | --all``: queue a check post (查岗);
- ``firegrid devices poll DEVICE``: queue a poll (read the transmitter's status);
- ``firegrid devices commands``: list command results;
- ``firegrid gb26875 decode FRAME_HEX`` / ``decode-adu ADU_HEX --direction up|down``: what
  the codec reads in bytes captured on the wire (the field engineer's tool).

The ingest process holding the transmitter's connection sends the command; ``--wait S``
waits up to S seconds for the results.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    command_group,
    fail,
    open_database,
    with_hint,
)
from firegrid.core.cli import emit as emit_readable
from firegrid.core.errors import DomainError

if TYPE_CHECKING:
    from firegrid.core.db import Database

devices_app = command_group(
    "Registered devices: downstream commands (check post, poll).", no_args_is_help=False
)
gb26875_app = command_group("GB/T 26875.3 tools: decode captured frames.", no_args_is_help=False)


@devices_app.callback()
def _devices() -> None:
    """Registered devices: downstream commands (check post, poll)."""


@gb26875_app.callback()
def _gb26875() -> None:
    """GB/T 26875.3 tools: decode captured frames."""


WaitOption = Annotated[
    float, typer.Option("--wait", help="Wait up to this many seconds for the answers.")
]
_FINISHED = {"answered", "timed_out", "failed", "not_connected"}


def _fail(message: str, hint: str = "", details: Any = None) -> NoReturn:
    """Bad input: the CLI contract's error (one line, or the envelope with --json), exit 2."""
    fail(message, EXIT_USAGE, details, hint=hint or None)


def _emit(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if isinstance(data, dict) and "commands" in data and isinstance(data["commands"], list):
        for key, value in data.items():
            if key != "commands":
                typer.echo(f"{key}: {value}")
        for c in data["commands"]:
            typer.echo(
                f"{c['id']:>8}  {c['kind']:<24} {c['status']:<13} device={c['device_code']} "
                f"venue={c['venue_code']}  {json.dumps(c['result'], ensure_ascii=False)}"
            )
        return
    emit_readable(data, False)


def _wait_for(database: Database, ids: list[int], wait_s: float) -> list[dict[str, Any]]:
    from firegrid.accounts.public import system_principal
    from firegrid.ingest.commands.requests import list_commands

    deadline = time.monotonic() + wait_s
    while True:
        with database.session() as session:
            rows = list_commands(session, system_principal(), ids=ids, limit=len(ids) or 1)
        if all(r["status"] in _FINISHED for r in rows) or time.monotonic() >= deadline:
            return rows
        time.sleep(0.2)


@devices_app.command("check-post")
def check_post_command(
    venue: Annotated[
        str | None, typer.Option("--venue", help="The venue's code (its transmitters).")
    ] = None,
    all_venues: Annotated[
        bool, typer.Option("--all", help="Every venue with a transmitter.")
    ] = False,
    reply_window: Annotated[
        int | None,
        typer.Option("--reply-window", help="Seconds the control room has to answer."),
    ] = None,
    wait: WaitOption = 0.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue a check post (查岗) for one venue's transmitters or every venue's."""
    from firegrid.accounts.public import system_principal
    from firegrid.ingest.commands.requests import start_check_post

    if (venue is None) == (not all_venues):
        _fail("give either --venue CODE or --all", "firegrid devices check-post --all")
    with open_database(db) as database:
        try:
            with database.session() as session:
                started = start_check_post(
                    session,
                    system_principal("cli"),
                    venue_code=venue,
                    all_venues=all_venues,
                    reply_window_s=reply_window,
                )
        except DomainError as exc:
            with_hint(exc, "check the venue code, and that its transmitter is registered")
        if wait > 0:
            started["commands"] = _wait_for(database, started["command_ids"], wait)
    _emit(started, as_json)


@devices_app.command("poll")
def poll_command(
    device: Annotated[str, typer.Argument(help="The device: its id, code or external id.")],
    kind: Annotated[
        str, typer.Option("--kind", help="The command (default: read the transmitter status).")
    ] = "read_transmitter_status",
    wait: WaitOption = 0.0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue a poll (巡检) of one transmitter now."""
    from firegrid.accounts.public import system_principal
    from firegrid.ingest.cli import resolve_device
    from firegrid.ingest.commands.requests import command_out, request_command

    with open_database(db) as database:
        try:
            device_id = resolve_device(database, device)
            with database.session() as session:
                row = request_command(session, system_principal("cli"), device_id, kind=kind)
                out: dict[str, Any] = command_out(row)
        except DomainError as exc:
            with_hint(exc, "give a registered GB/T 26875.3 device's id, code or external id")
        if wait > 0:
            out = _wait_for(database, [out["id"]], wait)[0]
    _emit(out, as_json)


@devices_app.command("commands")
def list_command(
    round_id: Annotated[str | None, typer.Option("--round", help="One check-post round.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List downstream commands and their results, newest first."""
    from firegrid.accounts.public import system_principal
    from firegrid.ingest.commands.requests import list_commands

    with open_database(db) as database:
        try:
            with database.session() as session:
                rows = list_commands(
                    session, system_principal(), round_id=round_id, status=status, limit=limit
                )
        except DomainError as exc:
            with_hint(exc, "statuses: queued, sent, answered, timed_out, failed, not_connected")
    _emit({"commands": rows}, as_json)


# ---------------------------------------------------------------------------------------------
# decode


def _hex(value: str, what: str) -> bytes:
    text = "".join(value.split()).removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        _fail(f"{what} is not hex: {exc}", "give the bytes as hex digits, spaces allowed")
        raise


def _plain(value: Any) -> Any:
    """JSON-ready: enums as ints, times ISO, invalid time tags and bytes as hex."""
    import msgspec

    from firegrid.ingest.adapters.gb26875.codec import InvalidTimeTag

    if isinstance(value, InvalidTimeTag):
        return {"invalid_time_tag": value.raw.hex(), "reason": value.reason}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, msgspec.Struct):
        return {name: _plain(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, int):
        return int(value)
    return value


def adu_summary(adu: Any) -> dict[str, Any]:
    """``type_flag``, ``object_count`` and the objects with their fields."""
    from firegrid.ingest.adapters.gb26875.codec import ApplicationData, RawApplicationData
    from firegrid.ingest.adapters.gb26875.exchange import direction_of

    if isinstance(adu, RawApplicationData):
        return {
            "type_flag": adu.type_flag,
            "direction": None,
            "object_count": adu.raw[1] if len(adu.raw) > 1 else None,
            "objects": [],
            "raw_hex": adu.raw.hex(),
            "note": adu.note,
        }
    assert isinstance(adu, ApplicationData)
    return {
        "type_flag": int(adu.type_flag),
        "type": adu.type_flag.name.lower(),
        "direction": direction_of(adu.type_flag),
        "object_count": len(adu.objects),
        "objects": [{"type": type(o).__name__, "fields": _plain(o)} for o in adu.objects],
        **({"extra_bytes": adu.extra_bytes.hex()} if adu.extra_bytes else {}),
    }


@gb26875_app.command("decode")
def decode_command(
    frame_hex: Annotated[str, typer.Argument(metavar="FRAME_HEX", help="One whole frame, hex.")],
    as_json: JsonOption = False,
) -> None:
    """Decode one frame captured on the wire: header, type flag, objects."""
    from firegrid.ingest.adapters.gb26875.codec import (
        Command,
        DecodeError,
        checksum,
        decode_frame,
    )

    data = _hex(frame_hex, "FRAME_HEX")
    try:
        frame = decode_frame(data)
    except DecodeError as exc:
        _fail(f"{exc.kind}: {exc}", "check the frame was captured whole, from '@@' to '##'")
        return
    command = frame.command
    out: dict[str, Any] = {
        "serial": frame.serial,
        "version": list(frame.version),
        "sent_at": _plain(frame.sent_at),
        "source": frame.source,
        "destination": frame.destination,
        "command": int(command),
        "command_name": command.name.lower() if isinstance(command, Command) else "user_defined",
        "adu_length": len(data) - 30,
        "checksum": f"{checksum(data[2:-3]):#04x}",
        **(
            adu_summary(frame.adu)
            if frame.adu is not None
            else {"type_flag": None, "object_count": 0, "objects": []}
        ),
    }
    _emit(out, as_json)


@gb26875_app.command("decode-adu")
def decode_adu_command(
    adu_hex: Annotated[str, typer.Argument(metavar="ADU_HEX", help="The ADU alone, hex.")],
    direction: Annotated[
        str, typer.Option("--direction", help="up (transmitter → centre) or down.")
    ] = "up",
    as_json: JsonOption = False,
) -> None:
    """Decode an application data unit (type flag, count, objects) alone."""
    from firegrid.ingest.adapters.gb26875.codec import DecodeError, decode_application_data

    if direction not in ("up", "down"):
        _fail(f"--direction must be up or down, not {direction!r}", "--direction down")
    data = _hex(adu_hex, "ADU_HEX")
    try:
        adu = decode_application_data(data)
    except DecodeError as exc:
        _fail(str(exc), "check the ADU starts with its type flag and object count")
        return
    out = adu_summary(adu)
    if out["direction"] is not None and out["direction"] != direction:
        other = (
            "downstream (centre → transmitter)"
            if out["direction"] == "down"
            else ("upstream (transmitter → centre)")
        )
        _fail(
            f"type flag {out['type_flag']} is {other}, not --direction {direction}",
            f"--direction {out['direction']}",
        )
    _emit(out, as_json)
