"""The causes the alarm lifecycle writes on a transition, as text codes for the console.

A transition keeps its cause as English text (``alarm_transitions.cause``, also read by
people in logs and exports). The sentences the lifecycle writes follow a few fixed shapes
(see :mod:`firegrid.alarms.verification`, :mod:`~firegrid.alarms.lifecycle`,
:mod:`~firegrid.alarms.listing`, :mod:`~firegrid.alarms.workorders`); :func:`cause_text`
recognises them and returns their code and parameters. A person's note appended to a cause
is carried as the ``note`` parameter, in their own words. A cause of another shape has no
code, and the console shows it as written.
"""

from __future__ import annotations

import re

from firegrid.core.texts import Params, Text, TextCode

_NOTE = r"(?:: (?P<note>.*))?"
_SHAPES: tuple[tuple[re.Pattern[str], TextCode], ...] = (
    (re.compile(r"acknowledged by the operator"), TextCode.ALARM_CAUSE_ACKNOWLEDGED),
    (re.compile(r"acknowledged in bulk by the operator"), TextCode.ALARM_CAUSE_BULK_ACKNOWLEDGED),
    (re.compile(r"verification started" + _NOTE), TextCode.ALARM_CAUSE_VERIFICATION_STARTED),
    (re.compile(r"calling the venue contact"), TextCode.ALARM_CAUSE_CALLING_CONTACT),
    (re.compile(r"on-site check asked of the grid worker"), TextCode.ALARM_CAUSE_ONSITE_ASKED),
    (re.compile(r"closed" + _NOTE), TextCode.ALARM_CAUSE_CLOSED),
    (
        re.compile(r"work order (?P<order_id>\d+) closed by (?P<actor>.+)"),
        TextCode.ALARM_CAUSE_WORK_ORDER_CLOSED,
    ),
    (
        re.compile(
            r"(?P<method>\w+) by (?P<actor>.+?): (?P<outcome>fire|false_alarm|fault)"
            r"(?: \((?P<reason>\w+)\))?" + _NOTE
        ),
        TextCode.ALARM_CAUSE_DECIDED,
    ),
)


def cause_text(cause: str) -> Text | None:
    """The code and parameters of a cause the lifecycle wrote, or ``None``."""
    for pattern, code in _SHAPES:
        match = pattern.fullmatch(cause)
        if match is not None:
            params: Params = {k: v for k, v in match.groupdict().items() if v is not None}
            params.setdefault("note", "")
            if code is TextCode.ALARM_CAUSE_DECIDED:
                params.setdefault("reason", "")
            return Text(code, cause, params)
    return None
