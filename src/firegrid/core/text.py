"""Text that may enter the platform: no NUL or other control characters.

One rule for every string a caller sends (API body strings, query and path parameters,
imported cells): C0 control characters other than tab, line feed and carriage return, DEL,
C1 control characters, lone UTF-16 surrogates and the non-characters U+FFFE/U+FFFF are
refused. They have no place in names, codes or notes, PostgreSQL cannot store NUL at all
(a NUL reached the database as a 500, or as a truncated streamed export), and the others
hide text from operators reading logs or exports.

:data:`SafeText` is the pydantic type of a free-text field; :func:`find_control` tells a
caller which character is wrong and where, so the error names it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_SINGLE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)  # also tab, CR and LF: for codes, names and query parameters


def find_control(value: str, *, single_line: bool = False) -> tuple[int, str] | None:
    """``(index, "U+0000")`` of the first forbidden character of ``value``, or ``None``."""
    match = (_FORBIDDEN_SINGLE_LINE if single_line else _FORBIDDEN).search(value)
    if match is None:
        return None
    return match.start(), f"U+{ord(match.group()):04X}"


def control_message(found: tuple[int, str]) -> str:
    index, codepoint = found
    return f"control character {codepoint} at position {index} is not allowed"


def check_text(value: str) -> str:
    """Return ``value`` or raise ``ValueError`` naming the forbidden character."""
    found = find_control(value)
    if found is not None:
        raise ValueError(control_message(found))
    return value


def check_line(value: str) -> str:
    """Like :func:`check_text`, and also refuses tab, CR and LF (one-line values)."""
    found = find_control(value, single_line=True)
    if found is not None:
        raise ValueError(control_message(found))
    return value


SafeText = Annotated[str, AfterValidator(check_text)]
"""A free-text string (notes, descriptions): line breaks and tabs allowed."""

SafeLine = Annotated[str, AfterValidator(check_line)]
"""A one-line string (names, codes, filters): no control character at all."""


def find_in(value: Any) -> tuple[tuple[str | int, ...], str]:
    """The path and message of the first forbidden character in a JSON value, or ``((), "")``.

    Walks objects (keys and values) and arrays without recursion (a deeply nested document
    cannot exhaust the stack), so a caller can name the field.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            found = find_control(item)
            if found is not None:
                return path, control_message(found)
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                found_key = find_control(str(key), single_line=True)
                if found_key is not None:
                    return (*path, str(key)), "field name: " + control_message(found_key)
                stack.append(((*path, str(key)), child))
        elif isinstance(item, list):
            items = reversed(list(enumerate(item)))
            stack.extend(((*path, index), child) for index, child in items)
    return (), ""


# Spreadsheet formulas (OWASP "CSV injection") ------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """Quote text a spreadsheet would run as a formula (``=HYPERLINK(...)`` → ``'=HYP...``).

    Text starting with ``= + - @``, tab or CR gets a leading ``'``. Text that already
    starts with quotes followed by one of those gets one more, so :func:`restore_formula`
    gives back exactly the original either way.
    """
    if value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore_formula(value: str) -> str:
    """Undo :func:`neutralise_formula` (an import of an export gets the original text)."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value
