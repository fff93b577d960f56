"""Texts meant for people travel as a stable code plus parameters.

The server keeps its English sentence (``message``, ``cause``, ``reason``) for API users and
logs, and sends next to it a code from :class:`TextCode` and the parameters the sentence was
made of. The console translates the code (``server.<code>`` in web/src/locales/*.json) and
falls back to the English sentence for a code it does not know. Every code the server can
emit is a member of :class:`TextCode`; a test checks that each has a zh-CN and an English
translation, so adding a code means adding its two translations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: what a parameter may be on the wire (the console interpolates them into its sentence)
ParamValue = str | int | float | bool | None
Params = dict[str, ParamValue]


class TextCode(StrEnum):
    """Every code of a server text (dots group them; the console's key is ``server.<code>``)."""

    # --- refused state changes (409) ---------------------------------------------------------
    ALARM_TRANSITION_REFUSED = "alarm.transition_refused"
    ALARM_CLOSED = "alarm.closed"
    ALARM_FORWARD_CONSUMED = "alarm.forward_consumed"
    ALARM_ALREADY_FORWARDED = "alarm.already_forwarded"
    ALARM_CHANGED_MEANWHILE = "alarm.changed_meanwhile"
    ALARM_NOT_CONFIRMED = "alarm.not_confirmed"
    TASK_NOT_OPEN = "task.not_open"
    WORK_ORDER_NOT_OPEN = "work_order.not_open"
    UNIT_TRANSITION_REFUSED = "unit.transition_refused"
    UNIT_STATUS_UNKNOWN = "unit.status_unknown"
    INCIDENT_TRANSITION_REFUSED = "incident.transition_refused"
    INCIDENT_STATUS_UNKNOWN = "incident.status_unknown"
    INCIDENT_CLOSED = "incident.closed"
    INCIDENT_NOT_RUNNING = "incident.not_running"
    INCIDENT_ALREADY_CITY_COMMAND = "incident.already_city_command"
    INCIDENT_DISPATCH_THROUGH_INCIDENT = "incident.dispatch_through_incident"
    INCIDENT_UNITS_NOT_DISPATCHABLE = "incident.units_not_dispatchable"
    INCIDENT_NOBODY_ARRIVED = "incident.nobody_arrived"
    INCIDENT_UNITS_ON_SCENE = "incident.units_on_scene"
    INCIDENT_NOTHING_TO_SEND = "incident.nothing_to_send"
    AID_NO_UNIT = "aid.no_unit"
    CALL_ALREADY_LINKED = "call.already_linked"
    CALL_ENDED = "call.ended"
    AID_ALREADY_ANSWERED = "aid.already_answered"
    LINK_REQUEST_ANSWERED = "link.request_answered"
    DEVICE_ALREADY_ADOPTED = "device.already_adopted"
    DEVICE_CODE_TAKEN = "device.code_taken"
    USERNAME_TAKEN = "account.username_taken"
    DEVICE_EXTERNAL_ID_TAKEN = "device.external_id_taken"
    PREPLAN_VERSION_STATUS = "preplan.version_status"
    PREPLAN_NOT_PUBLISHED = "preplan.not_published"
    POLICY_CHANGED_MEANWHILE = "policy.changed_meanwhile"
    RISK_MODEL_CHANGED = "risk.model_changed"
    JOB_NOT_RETRIABLE = "job.not_retriable"
    RECORD_INCIDENT_OPEN = "record.incident_open"
    PROGRAMME_CODE_TAKEN = "installation.programme_code_taken"
    DEVICE_ALREADY_BOUND = "installation.device_already_bound"
    GRID_EVENT_IN_PROGRESS = "gridlink.event_in_progress"
    INSPECTION_PHOTO_PRESENT = "inspection.photo_present"
    IDEMPOTENCY_KEY_REUSED = "submission.key_reused"
    SUBMISSION_IN_PROGRESS = "submission.in_progress"
    INSPECTION_TASK_NOT_OPEN = "inspection_task.not_open"
    WEBHOOK_NOT_ACTIVE = "webhook.not_active"
    RECORD_LOCKED = "record.locked"
    RECORD_REVIEW_REFUSED = "record.review_refused"
    BULK_TABLES_NOT_EMPTY = "bulk.tables_not_empty"
    # --- alarm transitions: the causes the lifecycle writes (firegrid.alarms.cause_texts) ---
    ALARM_CAUSE_ACKNOWLEDGED = "alarm_cause.acknowledged"
    ALARM_CAUSE_BULK_ACKNOWLEDGED = "alarm_cause.bulk_acknowledged"
    ALARM_CAUSE_VERIFICATION_STARTED = "alarm_cause.verification_started"
    ALARM_CAUSE_CALLING_CONTACT = "alarm_cause.calling_contact"
    ALARM_CAUSE_ONSITE_ASKED = "alarm_cause.onsite_asked"
    ALARM_CAUSE_CLOSED = "alarm_cause.closed"
    ALARM_CAUSE_WORK_ORDER_CLOSED = "alarm_cause.work_order_closed"
    ALARM_CAUSE_DECIDED = "alarm_cause.decided"
    # --- hazards found at inspections ------------------------------------------------------
    HAZARD_CAUSE_FOUND = "hazard_cause.found"
    HAZARD_CAUSE_RECTIFIED = "hazard_cause.rectified"
    HAZARD_CAUSE_RECTIFIED_LATE = "hazard_cause.rectified_late"
    HAZARD_NOT_OPEN = "hazard.not_open"
    HAZARD_NEEDS_EVIDENCE = "hazard.needs_evidence"
    # --- incident timeline: the causes the server writes itself ------------------------------
    TIMELINE_NEW_INCIDENT = "timeline.new_incident"
    TIMELINE_CALL = "timeline.call"
    TIMELINE_FIRST_UNIT_LEFT = "timeline.first_unit_left"
    TIMELINE_FIRST_UNIT_ARRIVED = "timeline.first_unit_arrived"
    TIMELINE_UNIT_STATUS = "timeline.unit_status"
    TIMELINE_DISPATCHED_VIA = "timeline.dispatched_via"
    TIMELINE_RELATED_NEARBY = "timeline.related_nearby"
    TIMELINE_PHOTO = "timeline.photo"
    TIMELINE_AID_KIND = "timeline.aid_kind"
    TIMELINE_AID_ANSWER = "timeline.aid_answer"
    # --- import rows -------------------------------------------------------------------------
    IMPORT_WRONG_CRS = "import.wrong_crs"
    IMPORT_GEOMETRY_TYPE = "import.geometry_type"
    IMPORT_OUTSIDE_JURISDICTION = "import.outside_jurisdiction"
    IMPORT_PROPERTIES_NOT_OBJECT = "import.properties_not_object"
    PLACE_OUTSIDE_CITY = "place.outside_city"
    PLACE_UNKNOWN_CATEGORY = "place.unknown_category"
    PLACE_CODE_TAKEN = "place.code_taken"
    PLACE_UNKNOWN_CODE = "place.unknown_code"
    PLACE_CITY_UNDELETABLE = "place.city_undeletable"
    PLACE_HAS_CHILDREN = "place.has_children"
    PLACE_CITY_EXISTS = "place.city_exists"
    # --- geocoder ----------------------------------------------------------------------------
    GEOCODE_NO_ROAD = "geocode.no_road"
    GEOCODE_LOW_SCORE = "geocode.low_score"
    GEOCODE_NO_CANDIDATES = "geocode.no_candidates"
    # --- area assessment inputs: what a run reports of its sources -------------------------
    RISK_POPULATION_SOURCES = "risk.population_sources"
    # --- request validation (pydantic error types; anything else is validation.invalid) ------
    VALIDATION_INVALID = "validation.invalid"
    VALIDATION_MISSING = "validation.missing"
    VALIDATION_EXTRA_FORBIDDEN = "validation.extra_forbidden"
    VALIDATION_STRING_TOO_SHORT = "validation.string_too_short"
    VALIDATION_STRING_TOO_LONG = "validation.string_too_long"
    VALIDATION_TOO_SHORT = "validation.too_short"
    VALIDATION_TOO_LONG = "validation.too_long"
    VALIDATION_GREATER_THAN = "validation.greater_than"
    VALIDATION_GREATER_THAN_EQUAL = "validation.greater_than_equal"
    VALIDATION_LESS_THAN = "validation.less_than"
    VALIDATION_LESS_THAN_EQUAL = "validation.less_than_equal"
    VALIDATION_INT_PARSING = "validation.int_parsing"
    VALIDATION_FLOAT_PARSING = "validation.float_parsing"
    VALIDATION_BOOL_PARSING = "validation.bool_parsing"
    VALIDATION_DATETIME = "validation.datetime"
    VALIDATION_ENUM = "validation.enum"
    VALIDATION_STRING_TYPE = "validation.string_type"
    VALIDATION_STRING_PATTERN = "validation.string_pattern_mismatch"
    VALIDATION_JSON_INVALID = "validation.json_invalid"
    VALIDATION_OUT_OF_RANGE = "validation.out_of_range"
    VALIDATION_TIMEZONE_NAIVE = "validation.timezone_naive"
    # --- refusals of requests: not found, invalid, not allowed (firegrid.core.errors) ---------
    ENTITY_NOT_FOUND = "entity.not_found"
    ENTITY_NOT_IN_SCOPE = "entity.not_in_scope"
    ENTITY_NONE_YET = "entity.none_yet"
    VALIDATION_UNKNOWN = "validation.unknown"
    VALIDATION_UNKNOWN_VALUE = "validation.unknown_value"
    VALIDATION_RANGE = "validation.range"
    VALIDATION_LENGTH = "validation.length"
    VALIDATION_FORMAT = "validation.format"
    VALIDATION_IN_FUTURE = "validation.in_future"
    VALIDATION_NOT_AFTER = "validation.not_after"
    VALIDATION_EMPTY = "validation.empty"
    VALIDATION_TOO_LARGE = "validation.too_large"
    VALIDATION_BAD_CURSOR = "validation.bad_cursor"
    VALIDATION_LON_LAT_PAIR = "validation.lon_lat_pair"
    VALIDATION_CONTROL_CHARACTER = "validation.control_character"
    VALIDATION_FIELDS = "validation.fields"
    LOCATION_MISSING = "location.missing"
    DOCUMENT_INVALID = "document.invalid"
    DOCUMENT_NOT_YAML = "document.not_yaml"
    FILE_UNREADABLE = "file.unreadable"
    FILE_NOT_FOUND = "file.not_found"
    FILE_NOT_WRITABLE = "file.not_writable"
    FILE_OUTSIDE_AREA = "file.outside_area"
    FILE_LINE_INVALID = "file.line_invalid"
    IMPORT_NOTHING = "import.nothing"
    IMPORT_ROWS_INVALID = "import.rows_invalid"
    IMPORT_NO_HEADER = "import.no_header"
    IMPORT_ENCODING = "import.encoding"
    IMPORT_NOT_UTF8 = "import.not_utf8"
    IMPORT_TOO_MANY_CELLS = "import.too_many_cells"
    IMPORT_NO_STABLE_KEY = "import.no_stable_key"
    IMPORT_DUPLICATE_CODE = "import.duplicate_code"
    IMPORT_FORMAT_UNKNOWN = "import.format_unknown"
    IMPORT_GEOJSON_SHAPE = "import.geojson_shape"
    IMPORT_NOT_IMPORTABLE = "import.not_importable"
    IMPORT_NOT_ZIP = "import.not_zip"
    IMPORT_ARCHIVE_TOO_BIG = "import.archive_too_big"
    AUTH_REQUIRED = "auth.required"
    AUTH_BAD_SCHEME = "auth.bad_scheme"
    AUTH_SESSION_ENDED = "auth.session_ended"
    AUTH_SESSION_INVALID = "auth.session_invalid"
    AUTH_NO_JURISDICTION = "auth.no_jurisdiction"
    AUTH_TOKEN_INVALID = "auth.token_invalid"  # noqa: S105 - a text code, not a secret
    AUTH_TOKEN_EXPIRED = "auth.token_expired"  # noqa: S105 - a text code, not a secret
    AUTH_REFRESH_INVALID = "auth.refresh_invalid"
    AUTH_REFRESH_REUSED = "auth.refresh_reused"
    AUTH_BAD_CREDENTIALS = "auth.bad_credentials"
    AUTH_ACCOUNT_DISABLED = "auth.account_disabled"
    AUTH_WRONG_PASSWORD = "auth.wrong_password"  # noqa: S105 - a text code, not a secret
    AUTH_API_KEY_INVALID = "auth.api_key_invalid"
    AUTH_API_KEY_REVOKED = "auth.api_key_revoked"
    AUTH_API_KEY_EXPIRED = "auth.api_key_expired"
    AUTH_LOGIN_THROTTLED = "auth.login_throttled"
    SIGNATURE_MISSING = "signature.missing"
    SIGNATURE_BAD_TIMESTAMP = "signature.bad_timestamp"
    SIGNATURE_STALE = "signature.stale"
    SIGNATURE_MISMATCH = "signature.mismatch"
    SIGNATURE_REPLAYED = "signature.replayed"
    SIGNATURE_UNKNOWN_PEER = "signature.unknown_peer"
    ACCESS_ROLE = "access.role"
    ACCESS_OUTSIDE_SCOPE = "access.outside_scope"
    ACCESS_CITY_ONLY = "access.city_only"
    ACCESS_SESSION_ONLY = "access.session_only"
    ACCESS_API_KEY_ROUTE = "access.api_key_route"
    ACCESS_CSRF = "access.csrf"
    ACCESS_OWN_ACCOUNT = "access.own_account"
    ACCESS_OWN_VENUE = "access.own_venue"
    ACCESS_PLATFORM_ADMIN = "access.platform_admin"
    ACCESS_COMMAND_LEVEL = "access.command_level"
    ACCOUNT_DEMO_REFUSED = "account.demo_refused"
    ACCOUNT_PASSWORD_POLICY = "account.password_policy"  # noqa: S105 - a text code, not a secret
    ACCOUNT_USERNAME_FORMAT = "account.username_format"
    ACCOUNT_VENUES_FOR_MANAGER = "account.venues_for_manager"
    ACCOUNT_VENUES_OUT_OF_SCOPE = "account.venues_out_of_scope"
    ALARM_RULE_NAME_MISMATCH = "alarm.rule_name_mismatch"
    WORK_ORDER_NEEDS_EVIDENCE = "work_order.needs_evidence"
    AID_OWN_TOWN = "aid.own_town"
    AID_NOT_NEIGHBOUR = "aid.not_neighbour"
    CALL_NEEDS_LOCATION = "call.needs_location"
    CALL_OUTSIDE_JURISDICTION = "call.outside_jurisdiction"
    STATION_NOT_ON_INCIDENT = "station.not_on_incident"
    RESPONSE_PLAN_NONE = "response_plan.none"
    DEVICE_AMBIGUOUS = "device.ambiguous"
    COMMAND_NO_TRANSMITTER = "command.no_transmitter"
    COMMAND_NOT_TRANSMITTER = "command.not_transmitter"
    INGEST_NOT_OBJECTS = "ingest.not_objects"
    INGEST_NOTHING_STORED = "ingest.nothing_stored"
    SERVICE_EVENT_LOG_UNAVAILABLE = "service.event_log_unavailable"
    SERVICE_DEPLOYMENT_MISMATCH = "service.deployment_mismatch"
    GEO_REFUSED = "geo.refused"
    GEO_OFF_NETWORK = "geo.off_network"
    GEO_FACILITY_OFF_ROAD = "geo.facility_off_road"
    GEO_NETWORK_DOES_NOT_COVER = "geo.network_does_not_cover"
    GEO_NOT_DEGREES = "geo.not_degrees"
    GEO_BAD_BOUNDARY = "geo.bad_boundary"
    PLACE_IN_NO_GRID = "place.in_no_grid"
    PLACE_NOT_A_GRID = "place.not_a_grid"
    PLACE_WRONG_PARENT = "place.wrong_parent"
    PLACE_CITY_HAS_NO_PARENT = "place.city_has_no_parent"
    PLACE_BOUNDARY_OUTSIDE_CITY = "place.boundary_outside_city"
    PLACE_CITY_OUTLINE_LEAVES_OUT = "place.city_outline_leaves_out"
    INSPECTION_NO_PLAN_RULE = "inspection.no_plan_rule"
    INSPECTION_NEEDS_HAZARD = "inspection.needs_hazard"
    INSPECTION_NO_HAZARD_EXPECTED = "inspection.no_hazard_expected"
    INSPECTION_GPS_STATUS = "inspection.gps_status"
    INSPECTION_WORKER_NOT_IN_GRID = "inspection.worker_not_in_grid"
    INSTALLATION_DEVICE_ELSEWHERE = "installation.device_elsewhere"
    INSTALLATION_DEVICE_KIND = "installation.device_kind"
    INSTALLATION_OUTSIDE_PERIOD = "installation.outside_period"
    INSTALLATION_OUTSIDE_PROGRAMME = "installation.outside_programme"
    INSTALLATION_VENUE_NOT_IN_GRID = "installation.venue_not_in_grid"
    INTEROP_NO_CENTRE = "interop.no_centre"
    INTEROP_NOT_LOCATED = "interop.not_located"
    INTEROP_INCIDENT_NOT_VISIBLE = "interop.incident_not_visible"
    LINK_PEER_NO_SECRET = "link.peer_no_secret"  # noqa: S105 - a text code, not a secret
    GRID_EVENT_CATEGORY_CHANGED = "gridlink.category_changed"
    GRID_TOWN_NOT_SERVED = "gridlink.town_not_served"
    WEBHOOK_URL_CREDENTIALS = "webhook.url_credentials"
    PLANNING_PARAMS_INVALID = "planning.params_invalid"
    PLANNING_JOB_NO_PLAN = "planning.job_no_plan"
    PLANNING_ONLY_STATION_PLANS = "planning.only_station_plans"
    PLANNING_CALLS_SOURCE = "planning.calls_source"
    PLANNING_TOO_FEW_CANDIDATES = "planning.too_few_candidates"
    PLANNING_NO_FLEET = "planning.no_fleet"
    PLANNING_ORLIB_FORMAT = "planning.orlib_format"
    PLANNING_PROBLEM_INVALID = "planning.problem_invalid"
    PLANNING_INFEASIBLE = "planning.infeasible"
    PREPLAN_NONE_FOR_VENUE = "preplan.none_for_venue"
    PREPLAN_NONE_FOR_INCIDENT = "preplan.none_for_incident"
    PREPLAN_UNIT_NOT_AT_VENUE = "preplan.unit_not_at_venue"
    PREPLAN_NO_VERSION = "preplan.no_version"
    PREPLAN_DOCUMENT_INVALID = "preplan.document_invalid"
    PREPLAN_FONT_MISSING = "preplan.font_missing"
    RISK_CATALOGUE_INVALID = "risk.catalogue_invalid"
    RISK_INCONSISTENT = "risk.inconsistent"
    RISK_MATRIX_INVALID = "risk.matrix_invalid"
    RISK_MODEL_INVALID = "risk.model_invalid"
    RISK_INPUT_INVALID = "risk.input_invalid"
    RISK_NO_AREA_GRADE = "risk.no_area_grade"
    RISK_NO_REPORT = "risk.no_report"
    RISK_RUN_OUT_OF_SCOPE = "risk.run_out_of_scope"
    RISK_VENUE_NOT_IN_RUN = "risk.venue_not_in_run"


@dataclass(frozen=True)
class Text:
    """A sentence for people: its code, its parameters and the English ``message``."""

    code: TextCode
    message: str
    params: Params = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "params": dict(self.params), "message": self.message}


def param(value: Any) -> ParamValue:
    """A parameter as the wire carries it: a scalar, a list joined by commas, else its text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def params_of(values: dict[str, Any] | None) -> Params:
    return {str(k): param(v) for k, v in (values or {}).items()}


#: pydantic's error types -> our code (the ``ctx`` of the error becomes the parameters)
_PYDANTIC: dict[str, TextCode] = {
    "missing": TextCode.VALIDATION_MISSING,
    "extra_forbidden": TextCode.VALIDATION_EXTRA_FORBIDDEN,
    "string_too_short": TextCode.VALIDATION_STRING_TOO_SHORT,
    "string_too_long": TextCode.VALIDATION_STRING_TOO_LONG,
    "too_short": TextCode.VALIDATION_TOO_SHORT,
    "too_long": TextCode.VALIDATION_TOO_LONG,
    "greater_than": TextCode.VALIDATION_GREATER_THAN,
    "greater_than_equal": TextCode.VALIDATION_GREATER_THAN_EQUAL,
    "less_than": TextCode.VALIDATION_LESS_THAN,
    "less_than_equal": TextCode.VALIDATION_LESS_THAN_EQUAL,
    "int_parsing": TextCode.VALIDATION_INT_PARSING,
    "int_type": TextCode.VALIDATION_INT_PARSING,
    "int_from_float": TextCode.VALIDATION_INT_PARSING,
    "float_parsing": TextCode.VALIDATION_FLOAT_PARSING,
    "float_type": TextCode.VALIDATION_FLOAT_PARSING,
    "bool_parsing": TextCode.VALIDATION_BOOL_PARSING,
    "bool_type": TextCode.VALIDATION_BOOL_PARSING,
    "datetime_parsing": TextCode.VALIDATION_DATETIME,
    "datetime_from_date_parsing": TextCode.VALIDATION_DATETIME,
    "datetime_type": TextCode.VALIDATION_DATETIME,
    "timezone_aware": TextCode.VALIDATION_TIMEZONE_NAIVE,
    "enum": TextCode.VALIDATION_ENUM,
    "literal_error": TextCode.VALIDATION_ENUM,
    "string_type": TextCode.VALIDATION_STRING_TYPE,
    "string_pattern_mismatch": TextCode.VALIDATION_STRING_PATTERN,
    "json_invalid": TextCode.VALIDATION_JSON_INVALID,
}


def validation_text(error: dict[str, Any]) -> Text:
    """The code and parameters of one pydantic error (``field`` names where it is)."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    params: Params = {"field": ".".join(loc)}
    params.update(params_of(error.get("ctx")))
    code = _PYDANTIC.get(str(error.get("type", "")), TextCode.VALIDATION_INVALID)
    return Text(code, str(error.get("msg", "")), params)
