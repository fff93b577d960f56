"""What is wrong with a value, as a short code the console translates (``problem.<code>``).

A refusal whose sentence has a ``{problem}`` (``document.invalid``, ``file.line_invalid``,
``geo.bad_boundary``, ``planning.params_invalid``) or an ``{error}`` (``geo.refused``) carries
a :class:`Problem` there, never an English phrase; the problem's own parameters (``ge``,
``max_length``, ``expected`` …) sit beside it in the same flat parameters. A third-party
parser's message that no code says (a pydantic custom validator, a CSV dialect error, a
shapely exception) travels as ``detail``: the console shows it verbatim, apart from the
translated sentence. The English sentence stays in the error's ``message``.

pydantic errors map by their ``type`` (:func:`pydantic_problem`, also used for the request
validation errors of the API), jsonschema errors by their ``validator``
(:func:`jsonschema_problem`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any, Protocol

from firegrid.core.texts import Params, Text, TextCode, params_of

#: the longest third-party message kept as ``detail``
DETAIL_MAX_CHARS = 300


class Problem(StrEnum):
    """Every code a ``problem`` (or ``error``) parameter may hold."""

    # --- a value (pydantic's and jsonschema's kinds; each is also ``validation.<code>``) ---
    INVALID = "invalid"
    MISSING = "missing"
    EXTRA_FORBIDDEN = "extra_forbidden"
    STRING_TOO_SHORT = "string_too_short"
    STRING_TOO_LONG = "string_too_long"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    GREATER_THAN = "greater_than"
    GREATER_THAN_EQUAL = "greater_than_equal"
    LESS_THAN = "less_than"
    LESS_THAN_EQUAL = "less_than_equal"
    INT_PARSING = "int_parsing"
    FLOAT_PARSING = "float_parsing"
    BOOL_PARSING = "bool_parsing"
    DATETIME = "datetime"
    ENUM = "enum"
    STRING_TYPE = "string_type"
    STRING_PATTERN_MISMATCH = "string_pattern_mismatch"
    JSON_INVALID = "json_invalid"
    TIMEZONE_NAIVE = "timezone_naive"
    CONTROL_CHARACTER = "control_character"
    # --- a value, further kinds (no request-validation sentence of their own) --------------
    WRONG_TYPE = "wrong_type"
    NOT_LIST = "not_list"
    NOT_MAPPING = "not_mapping"
    NOT_JSON_OBJECT = "not_json_object"
    FORMAT = "format"
    NOT_UNIQUE = "not_unique"
    UNKNOWN_VALUE = "unknown_value"
    DUPLICATE = "duplicate"
    ONE_OF_FIELDS = "one_of_fields"
    NEEDS_ONE = "needs_one"
    INTERVAL = "interval"
    NOT_HTTP_URL = "not_http_url"
    NOT_SLUG = "not_slug"
    # --- files and documents ---------------------------------------------------------------
    FIELDS_MISSING = "fields_missing"
    LON_LAT_ADDRESS_MISSING = "lon_lat_address_missing"
    CSV_MALFORMED = "csv_malformed"
    NOT_GEOJSON = "not_geojson"
    NOT_GEOMETRY = "not_geometry"
    NOT_POLYGON = "not_polygon"
    SELF_INTERSECTION = "self_intersection"
    GRADES_EXACTLY = "grades_exactly"
    LAST_RULE_MATCHES_ALL = "last_rule_matches_all"
    MISSING_DEFAULT = "missing_default"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_INCIDENT_TYPE = "unknown_incident_type"
    TIMER_ORDER = "timer_order"
    DUPLICATE_RULE = "duplicate_rule"
    # --- a row of an imported file (``import.row_problem``: its ``field`` and this) -------
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    PERSONAL_DATA = "personal_data"
    NOT_DEGREES = "not_degrees"
    UNKNOWN_CODE = "unknown_code"
    DUPLICATE_CODE = "duplicate_code"
    CODE_STORED = "code_stored"
    CODE_OUTSIDE_SCOPE = "code_outside_scope"
    RESIDENTS_EXCEED = "residents_exceed"
    WORKER_NOT_IN_VENUE_GRID = "worker_not_in_venue_grid"
    RECTIFIED_AT_NEEDED = "rectified_at_needed"
    RECTIFIED_AT_UNEXPECTED = "rectified_at_unexpected"
    NOT_FEATURE = "not_feature"
    RING_NOT_CLOSED = "ring_not_closed"
    # --- the travel-time engine (firegrid.geo.errors: each GeoError's ``code``) ------------
    GEO_ERROR = "geo_error"
    INVALID_COORDINATES = "invalid_coordinates"
    POINT_OFF_NETWORK = "point_off_network"
    UNKNOWN_FACILITY = "unknown_facility"
    UNKNOWN_NODE = "unknown_node"
    INVALID_TIME_BAND = "invalid_time_band"
    NO_DRIVABLE_ROADS = "no_drivable_roads"
    INVALID_NETWORK = "invalid_network"
    NO_ROUTE = "no_route"
    NO_REACHABLE_FACILITY = "no_reachable_facility"


def detail(message: object) -> str:
    """A third-party message as ``detail``: its first line, at most ``DETAIL_MAX_CHARS``."""
    text = str(message).strip()
    return (text.splitlines()[0] if text else "")[:DETAIL_MAX_CHARS]


@dataclass(frozen=True)
class Found:
    """One problem of a value: where (``field``), what (``problem``) and its parameters."""

    field: str
    problem: Problem
    message: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:  # lists and other values as the wire carries them
        object.__setattr__(self, "params", params_of(dict(self.params)))

    def as_params(self) -> Params:
        """The flat parameters of a sentence with ``{field}`` and ``{problem}``."""
        return {"field": self.field, "problem": self.problem, **params_of(dict(self.params))}

    def as_dict(self) -> dict[str, Any]:
        """One entry of a refusal's ``details.problems``."""
        return {
            "field": self.field,
            "code": self.problem.value,
            "params": dict(self.params),
            "message": self.message,
        }


def row_text(found: Found) -> Text:
    """A problem of one row of an imported file: ``import.row_problem`` naming its column."""
    return Text(TextCode.IMPORT_ROW_PROBLEM, found.message, found.as_params())


def row_error(line: int | None, column: str | None, text: Text) -> dict[str, Any]:
    """One bad row of an imported file (``details.errors[]`` of ``import.rows_invalid``):
    where, the English ``reason`` (the CLI's) and its ``code``/``params`` (the console's)."""
    return {
        "line": line,
        "column": column,
        "reason": text.message,
        "code": text.code.value,
        "params": dict(text.params),
    }


def first_of(found: Sequence[Found]) -> Params:
    """The parameters of the first problem, and how many more there are (``more``)."""
    return {**found[0].as_params(), "more": len(found) - 1}


# --- pydantic ---------------------------------------------------------------------------------

#: pydantic's error ``type`` -> our code; its ``ctx`` become the parameters
PYDANTIC_TYPES: dict[str, Problem] = {
    "missing": Problem.MISSING,
    "extra_forbidden": Problem.EXTRA_FORBIDDEN,
    "string_too_short": Problem.STRING_TOO_SHORT,
    "string_too_long": Problem.STRING_TOO_LONG,
    "too_short": Problem.TOO_SHORT,
    "too_long": Problem.TOO_LONG,
    "greater_than": Problem.GREATER_THAN,
    "greater_than_equal": Problem.GREATER_THAN_EQUAL,
    "less_than": Problem.LESS_THAN,
    "less_than_equal": Problem.LESS_THAN_EQUAL,
    "int_parsing": Problem.INT_PARSING,
    "int_type": Problem.INT_PARSING,
    "int_from_float": Problem.INT_PARSING,
    "float_parsing": Problem.FLOAT_PARSING,
    "float_type": Problem.FLOAT_PARSING,
    "bool_parsing": Problem.BOOL_PARSING,
    "bool_type": Problem.BOOL_PARSING,
    "datetime_parsing": Problem.DATETIME,
    "datetime_from_date_parsing": Problem.DATETIME,
    "datetime_type": Problem.DATETIME,
    "timezone_aware": Problem.TIMEZONE_NAIVE,
    "enum": Problem.ENUM,
    "literal_error": Problem.ENUM,
    "string_type": Problem.STRING_TYPE,
    "string_pattern_mismatch": Problem.STRING_PATTERN_MISMATCH,
    "json_invalid": Problem.JSON_INVALID,
    "control_character": Problem.CONTROL_CHARACTER,
    "list_type": Problem.NOT_LIST,
    "dict_type": Problem.NOT_MAPPING,
    "model_type": Problem.NOT_MAPPING,
    "model_attributes_type": Problem.NOT_MAPPING,
}
#: the parts of a request's ``loc`` that say where, not which field
_LOC_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def _field_of(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc if part not in _LOC_SOURCES)


def pydantic_problem(error: Mapping[str, Any], *, field_prefix: str = "") -> Found:
    """One error of pydantic's ``ValidationError.errors()`` (or of FastAPI's request
    validation) as a problem; a type without a code keeps pydantic's ``msg`` as ``detail``."""
    where = _field_of(error.get("loc", ()))
    where = ".".join(part for part in (field_prefix, where) if part)
    message = str(error.get("msg", ""))
    problem = PYDANTIC_TYPES.get(str(error.get("type", "")))
    if problem is None:
        return Found(where, Problem.INVALID, message, {"detail": detail(message)})
    ctx = dict(error.get("ctx") or {})
    why = ctx.pop("error", None)  # pydantic's English reason (``input is too short``)
    if why is not None and str(why):
        ctx["detail"] = detail(why)
    if problem is Problem.ENUM and isinstance(ctx.get("expected"), str):
        ctx["expected"] = ctx["expected"].replace("' or '", "', '")  # pydantic's English "or"
    return Found(where, problem, message, params_of(ctx))


def validation_text(error: Mapping[str, Any]) -> Text:
    """One error of a refused request: ``validation.<problem>`` naming its ``field``."""
    found = pydantic_problem(error)
    try:
        code = TextCode(f"validation.{found.problem.value}")
    except ValueError:
        code = TextCode.VALIDATION_INVALID
    return Text(code, found.message, {"field": found.field, **found.params})


def pydantic_problems(
    errors: Iterable[Mapping[str, Any]], *, field_prefix: str = ""
) -> list[Found]:
    return [pydantic_problem(e, field_prefix=field_prefix) for e in errors]


# --- jsonschema -------------------------------------------------------------------------------


class SchemaError(Protocol):
    """What :func:`jsonschema_problem` reads of a ``jsonschema.ValidationError``."""

    @property
    def message(self) -> str: ...
    @property
    def validator(self) -> Any: ...
    @property
    def validator_value(self) -> Any: ...
    @property
    def absolute_path(self) -> Any: ...
    @property
    def instance(self) -> Any: ...


#: jsonschema's ``validator`` -> our code, and the parameter its ``validator_value`` becomes
JSONSCHEMA_VALIDATORS: dict[str, tuple[Problem, str | None]] = {
    "required": (Problem.MISSING, None),
    "type": (Problem.WRONG_TYPE, "expected"),
    "enum": (Problem.ENUM, "expected"),
    "const": (Problem.ENUM, "expected"),
    "pattern": (Problem.STRING_PATTERN_MISMATCH, "pattern"),
    "format": (Problem.FORMAT, "expected"),
    "maxLength": (Problem.STRING_TOO_LONG, "max_length"),
    "minLength": (Problem.STRING_TOO_SHORT, "min_length"),
    "maxItems": (Problem.TOO_LONG, "max_length"),
    "minItems": (Problem.TOO_SHORT, "min_length"),
    "minimum": (Problem.GREATER_THAN_EQUAL, "ge"),
    "maximum": (Problem.LESS_THAN_EQUAL, "le"),
    "exclusiveMinimum": (Problem.GREATER_THAN, "gt"),
    "exclusiveMaximum": (Problem.LESS_THAN, "lt"),
    "additionalProperties": (Problem.EXTRA_FORBIDDEN, None),
    "uniqueItems": (Problem.NOT_UNIQUE, None),
}


def _missing_property(error: SchemaError) -> str | None:
    """The property a ``required`` error names (jsonschema says it only in its message)."""
    names = error.validator_value if isinstance(error.validator_value, list) else []
    present = error.instance if isinstance(error.instance, dict) else {}
    absent = [str(n) for n in names if n not in present]
    return absent[0] if absent else None


def jsonschema_problem(error: SchemaError) -> Found:
    """One jsonschema error as a problem at its JSON pointer (``field``: ``/a/0/b``); a
    validator without a code (``oneOf``, ``not`` …) keeps jsonschema's message as ``detail``."""
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    message = error.message[:DETAIL_MAX_CHARS]
    mapped = JSONSCHEMA_VALIDATORS.get(str(error.validator))
    if mapped is None:
        return Found(where, Problem.INVALID, message, {"detail": detail(message)})
    problem, name = mapped
    if problem is Problem.MISSING:
        missing = _missing_property(error)
        if missing is not None:
            where = where.rstrip("/") + "/" + missing
    if problem is Problem.EXTRA_FORBIDDEN and isinstance(error.instance, dict):
        schema = getattr(error, "schema", None)
        declared = schema.get("properties", {}) if isinstance(schema, dict) else {}
        extra = sorted(str(k) for k in error.instance if k not in declared)
        if extra:
            where = where.rstrip("/") + "/" + extra[0]
    params = params_of({name: error.validator_value}) if name else {}
    return Found(where, problem, message, params)
