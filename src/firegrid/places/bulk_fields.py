"""The columns of a bulk-data file: how each cell is read and checked.

Hand-written parsers rather than a pydantic model per row: a 6.21 M-row register is read in
minutes only if a row costs microseconds. Each parser takes the cell text (``None`` when
empty) and returns the value or raises :class:`CellError` with a reason for the row report: a
:class:`~firegrid.core.problems.Problem` code and its parameters (the console's sentence) and
the English message (the CLI's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from firegrid.core.problems import Found, Problem
from firegrid.core.text import check_line, check_text


class CellError(ValueError):
    """What is wrong with one cell (the reason shown with its line and column): the English
    message, and the same as a problem code with its parameters."""

    def __init__(self, message: str, problem: Problem, **params: Any) -> None:
        super().__init__(message)
        self.problem = problem
        self.params = params

    def found(self, column: str) -> Found:
        """The problem at ``column`` (a row of the import's report)."""
        return Found(column, self.problem, str(self), self.params)


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its name, parser and whether it must be filled."""

    name: str
    parse: Parser
    required: bool = False
    default: Any = None


def text(max_length: int, *, multiline: bool = False) -> Parser:
    check = check_text if multiline else check_line

    def parse(value: Any) -> str:
        if value is None:
            return ""
        cell: str = value if isinstance(value, str) else str(value)
        if len(cell) > max_length:
            raise CellError(
                f"longer than {max_length} characters",
                Problem.STRING_TOO_LONG,
                max_length=max_length,
            )
        if cell.isprintable():  # the usual case, in C; the rule's own check otherwise
            return cell
        try:
            return check(cell)
        except ValueError as exc:
            raise CellError(str(exc), Problem.CONTROL_CHARACTER) from None

    return parse


def integer(minimum: int = 0, maximum: int = 2_147_483_647) -> Parser:
    def parse(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            whole = value
        else:
            try:
                whole = int(str(value))
            except ValueError:
                try:
                    as_float = float(str(value))
                except ValueError:
                    raise _not_whole(value) from None
                if not as_float.is_integer():
                    raise _not_whole(value) from None
                whole = int(as_float)
        if whole < minimum:
            raise CellError(
                f"{whole} is below the minimum {minimum}",
                Problem.GREATER_THAN_EQUAL,
                ge=minimum,
                value=whole,
            )
        if whole > maximum:
            raise CellError(
                f"{whole} is above the maximum {maximum}",
                Problem.LESS_THAN_EQUAL,
                le=maximum,
                value=whole,
            )
        return whole

    return parse


def _not_whole(value: Any) -> CellError:
    return CellError(f"{value!r} is not a whole number", Problem.INT_PARSING, value=str(value))


def number(minimum: float, maximum: float, *, degrees: bool = False) -> Parser:
    """A number in ``minimum…maximum``; ``degrees``: a coordinate, whose value out of range
    means a file in a projected CRS (said so)."""

    def parse(value: Any) -> float | None:
        if value is None:
            return None
        try:
            if isinstance(value, bool):  # a spreadsheet's TRUE is not 1
                raise TypeError
            result = float(value)
        except (TypeError, ValueError):
            raise CellError(
                f"{value!r} is not a number", Problem.FLOAT_PARSING, value=str(value)
            ) from None
        if not math.isfinite(result):  # "nan" and "inf" parse as floats; neither is a value
            raise CellError(
                f"{value!r} is not a finite number", Problem.FLOAT_PARSING, value=str(value)
            )
        if degrees and not minimum <= result <= maximum:
            raise CellError(
                f"{result} is outside {minimum}…{maximum}: not in degrees — wrong CRS "
                "(is the file projected?)",
                Problem.NOT_DEGREES,
                value=result,
            )
        if result < minimum:
            raise CellError(
                f"{result} is below the minimum {minimum}",
                Problem.GREATER_THAN_EQUAL,
                ge=minimum,
                value=result,
            )
        if result > maximum:
            raise CellError(
                f"{result} is above the maximum {maximum}",
                Problem.LESS_THAN_EQUAL,
                le=maximum,
                value=result,
            )
        return result

    return parse


def longitude() -> Parser:
    return number(-180.0, 180.0, degrees=True)


def latitude() -> Parser:
    return number(-90.0, 90.0, degrees=True)


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset (a time without one is ambiguous and refused)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise CellError(
                f"{value!r} is not an ISO 8601 time", Problem.DATETIME, value=str(value)
            ) from None
    if parsed.tzinfo is None:
        raise CellError(
            f"{value!r} has no UTC offset: write e.g. 2026-11-03T09:30:00+08:00",
            Problem.TIMEZONE_NAIVE,
            value=str(value),
        )
    return parsed


def day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CellError(
            f"{value!r} is not a date (YYYY-MM-DD)",
            Problem.FORMAT,
            expected="YYYY-MM-DD",
            value=str(value),
        ) from None


def choice(*options: str) -> Parser:
    def parse(value: Any) -> str | None:
        if value is None:
            return None
        if str(value) not in options:
            raise CellError(
                f"{value!r} is not one of: {', '.join(options)}",
                Problem.ENUM,
                expected=", ".join(options),
                value=str(value),
            )
        return str(value)

    return parse


_code = text(40)


def code_text(value: Any) -> str:
    """A stable external key: one line, 1–40 characters (numbers read from xlsx as text)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(_code(value))


#: header words that reveal personal data; the population register holds counts only
PERSONAL_WORDS = (
    "name",
    "姓名",
    "名字",
    "id_number",
    "idnumber",
    "id_no",
    "id_card",
    "idcard",
    "身份证",
    "证件",
    "passport",
    "护照",
    "phone",
    "mobile",
    "电话",
    "手机",
    "birth",
    "出生",
    "生日",
    "gender",
    "sex",
    "性别",
    "email",
    "邮箱",
)


def personal_column(name: str) -> bool:
    """Does the column name look like a personal field (name, ID number, phone, …)?"""
    lowered = name.strip().lower().replace(" ", "_").replace("-", "_")
    return lowered.startswith("tel") or any(word in lowered for word in PERSONAL_WORDS)
