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
