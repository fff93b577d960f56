"""Resolve a free-text Chinese address to a standard address (标准地址) and a point.

The text is normalised (full-width digits, province/city prefixes, spaces), split into
components (town, village, road, number, building, unit, room) and matched against the
standard address register. Each candidate is scored by the components that agree and by
text similarity; below :data:`MIN_SCORE` the answer is *no match* — the geocoder never
guesses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from firegrid.core.texts import TextCode
from firegrid.places.models import StandardAddress

MIN_SCORE = 0.75
MAX_CANDIDATES = 200

_PREFIXES = ("中华人民共和国", "中国", "广东省", "广东", "东莞市", "东莞")
_COMPONENT_PATTERNS: dict[str, str] = {
    "town": r"(?P<town>[\u4e00-\u9fff]{1,8}?(?:街道|镇|园区|新区))",
    "village": r"(?P<village>[\u4e00-\u9fff0-9]{1,10}?(?:社区|村))",
    # The longest road name ending before a house number (so 厚街中路 is not cut at 街);
    # a bare road name (e.g. at a junction) falls back to the shortest match below.
    "road": (
        r"(?P<road>(?:(?![与和及])[\u4e00-\u9fff0-9]){1,12}(?:大道|路|街|巷|道))"
        r"(?=\d|$|与|和|交|口|旁|附近)"
    ),
    "number": r"(?P<number>\d+(?:-\d+)?)号",
    "building": r"(?P<building>[0-9A-Za-z]+)(?:栋|座|幢)",
    "unit": r"(?P<unit>\d+)单元",
    "room": r"(?P<room>\d+)(?:室|房)",
}
_BARE_ROAD = r"(?P<road>[\u4e00-\u9fff0-9]{1,12}?(?:大道|路|街|巷|道))"
_WEIGHTS = {
    "road": 0.35,
    "number": 0.25,
    "town": 0.1,
    "village": 0.1,
    "building": 0.1,
    "unit": 0.05,
    "room": 0.05,
}


@dataclass(frozen=True)
class AddressComponents:
    town: str = ""
    village: str = ""
    road: str = ""
    number: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""


@dataclass(frozen=True)
class GeocodeResult:
    """The answer: a matched standard address with its score, or no match."""

    query: str
    matched: bool
    score: float
    components: AddressComponents
    address_code: str | None = None
    full_text: str | None = None
    lon: float | None = None
    lat: float | None = None
    jurisdiction_path: str | None = None
    reason: str | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    reason_code: TextCode | None = None  # ``reason`` as a text code for the console

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), drop spaces and the province/city prefixes."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                changed = True
    return text


def parse(text: str) -> AddressComponents:
    """Split a normalised address into components, left to right."""
    rest = normalise(text)
    found: dict[str, str] = {}
    for key, pattern in _COMPONENT_PATTERNS.items():
        match = re.search(pattern, rest)
        if match is None and key == "road":
            match = re.search(_BARE_ROAD, rest)
        if match:
            found[key] = match.group(key)
            rest = rest[: match.start()] + rest[match.end() :]
    return AddressComponents(**found)


def _component_score(query: AddressComponents, candidate: StandardAddress) -> float:
    score = 0.0
    total = 0.0
    for key, weight in _WEIGHTS.items():
        wanted = getattr(query, key)
        if not wanted:
            continue
        total += weight
        have = getattr(candidate, key) or ""
        if key in {"town", "village"}:
            if have and (wanted in have or have in wanted):
                score += weight
        elif have == wanted:
            score += weight
    return score / total if total else 0.0


def _lookups(query: AddressComponents) -> list[list[ColumnElement[bool]]]:
    """The SQL conditions to try, most specific first; each is served by the register's
    (road, number, building, unit, room) index or a prefix of it.

    1. every component the text gives (no building/unit/room when it gives none);
    2. road, number, town and village;
    3. road, number, building, unit and room — a town or village the parser did not read
       the way the register spells it (松山湖 has no 镇) still finds the entry;
    4. road and number; 5. the road alone.
    """
    a = StandardAddress
    road = [a.road == query.road]
    places = [getattr(a, k) == getattr(query, k) for k in ("town", "village") if getattr(query, k)]
    if not query.number:
        return [road + places, road] if places else [road]
    number = [*road, a.number == query.number]
    parts = [getattr(a, k) == getattr(query, k) for k in ("building", "unit", "room")]
    tries = [[*number, *places, *parts]]
    if places:
        tries += [[*number, *places], [*number, *parts]]
    tries += [number, road]
    return tries


def _candidates(session: Session, query: AddressComponents, scope_path: str) -> list[Any]:
    """Register entries worth scoring: those of the first lookup that finds any (at most
    :data:`MAX_CANDIDATES`), so a 6.21 M register costs a few index probes, never a scan."""
    in_scope = StandardAddress.jurisdiction_path.startswith(scope_path, autoescape=True)
    for conditions in _lookups(query):
        found = list(
            session.scalars(
                select(StandardAddress).where(*conditions, in_scope).limit(MAX_CANDIDATES)
            ).all()
        )
        if found:
            return found
    return []


def _alternative(score: float, address: StandardAddress) -> dict[str, Any]:
    """A standard address offered instead of (or beside) the match: where it is, so the
    dispatcher can take it with one click."""
    return {
        "code": address.code,
        "full_text": address.full_text,
        "score": round(score, 3),
        "lon": address.lon,
        "lat": address.lat,
    }


def geocode(session: Session, text: str, *, limit: int = 5, scope_path: str = "/") -> GeocodeResult:
    """Resolve ``text`` against the register; ``matched`` is False when nothing scores enough.

    Only addresses under ``scope_path`` are candidates, so nothing outside a caller's
    jurisdiction is returned or hinted at.
    """
    query = parse(text)
    normalised = normalise(text)
    if not query.road:
        return GeocodeResult(
            text,
            False,
            0.0,
            query,
            reason="no road name found in the address text",
            reason_code=TextCode.GEOCODE_NO_ROAD,
        )
    candidates = _candidates(session, query, scope_path)
    scored: list[tuple[float, StandardAddress]] = []
    components: dict[str, float] = {}
    for candidate in candidates:
        similarity = SequenceMatcher(None, normalised, normalise(candidate.full_text)).ratio()
        components[candidate.code] = _component_score(query, candidate)
        scored.append((0.7 * components[candidate.code] + 0.3 * similarity, candidate))
    scored.sort(key=lambda item: (-item[0], item[1].code))
    alternatives = [_alternative(s, c) for s, c in scored[1:limit]]
    if not scored or scored[0][0] < MIN_SCORE:
        best = round(scored[0][0], 3) if scored else 0.0
        return GeocodeResult(
            text,
            False,
            best,
            query,
            reason="no standard address scores high enough" if scored else "no candidates",
            alternatives=alternatives,
            reason_code=TextCode.GEOCODE_LOW_SCORE if scored else TextCode.GEOCODE_NO_CANDIDATES,
        )
    if len(scored) > 1 and components[scored[1][1].code] >= components[scored[0][1].code]:
        # two entries agree with every component the text gives (e.g. the same road and
        # number in two villages, and the text names no village): text similarity alone
        # (a shorter village name) would decide, so the geocoder does not pick one
        return GeocodeResult(
            text,
            False,
            round(scored[0][0], 3),
            query,
            reason="ambiguous: several standard addresses fit equally; add the village",
            alternatives=[_alternative(s, c) for s, c in scored[:limit]],
            reason_code=TextCode.GEOCODE_AMBIGUOUS,
        )
    score, best_address = scored[0]
    return GeocodeResult(
        text,
        True,
        round(score, 3),
        query,
        address_code=best_address.code,
        full_text=best_address.full_text,
        lon=best_address.lon,
        lat=best_address.lat,
        jurisdiction_path=best_address.jurisdiction_path,
        alternatives=alternatives,
    )
