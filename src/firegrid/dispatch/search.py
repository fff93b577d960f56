"""Type-ahead search of places for call intake: venues, their buildings and standard
addresses, by name.

The query is normalised (NFKC, spaces, case), the province/city prefix is dropped and a
town named at its start ("东莞市莞城街道富华大厦" → town 莞城街道, text 富华大厦) narrows the
answer to that town first. Candidates come from a character-bigram inverted index (every
substring match holds all the query's bigrams; a near match holds at least half of them)
and are ranked by: named town first, then exact name, prefix, substring, near match, then
distance from the caller's point (when given), then shorter names. The index is built in
memory from the database and rebuilt when it is older than ``max_age_s``.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

PREFIXES = ("中华人民共和国", "中国", "广东省", "广东", "东莞市", "东莞")
KINDS = ("venue", "building", "address")
KIND_RANK = {"venue": 0, "building": 1, "address": 2}
MAX_QUERY = 60
#: candidates scored exactly (string tests); beyond this the nearest/town ones are kept
SCORED_CANDIDATES = 300
NEAR_SEED_CAP = 20_000
EXACT, PREFIX, SUBSTRING, NEAR = 0, 1, 2, 3
TIER_NAMES = ("exact", "prefix", "substring", "near")


_PREFIX_RE = re.compile("^(?:" + "|".join(PREFIXES) + ")+")


def normalise(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).lower()


def strip_prefixes(text: str) -> str:
    """``text`` without a leading province/city (kept when nothing else would remain)."""
    stripped = _PREFIX_RE.sub("", text, count=1)
    return stripped or text


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class PlaceRow:
    kind: str
    id: int
    name: str
    detail: str  # the address, or the venue of a building
    town: str  # town name
    lon: float
    lat: float
    jurisdiction_path: str
    venue_id: int | None = None


@dataclass(frozen=True)
class Hit:
    place: PlaceRow
    tier: int
    town_match: bool
    distance_m: float | None

    def as_dict(self) -> dict[str, Any]:
        p = self.place
        return {
            "kind": p.kind,
            "id": p.id,
            "name": p.name,
            "detail": p.detail,
            "town": p.town,
            "lon": p.lon,
            "lat": p.lat,
            "venue_id": p.venue_id,
            "match": TIER_NAMES[self.tier],
            "town_match": self.town_match,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
        }


class PlaceIndex:
    """The in-memory index of places (immutable once built)."""

    def __init__(self, rows: list[PlaceRow], towns: Iterable[str]) -> None:
        self.rows = rows
        self.towns = sorted({t for t in towns if t}, key=len, reverse=True)
        self.texts = [self._text(r) for r in rows]
        self.lon = np.array([r.lon for r in rows], dtype=np.float64)
        self.lat = np.array([r.lat for r in rows], dtype=np.float64)
        town_ids = {t: i for i, t in enumerate(sorted({r.town for r in rows}))}
        self.town_names = sorted(town_ids, key=lambda t: town_ids[t])
        self.town_of = np.array([town_ids[r.town] for r in rows], dtype=np.int32)
        self._build_postings()
        self.order = sorted(range(len(rows)), key=lambda i: self.texts[i])
        self.sorted_texts = [self.texts[i] for i in self.order]

    def _text(self, row: PlaceRow) -> str:
        text = strip_prefixes(normalise(row.name))
        town = normalise(row.town)
        if town and text.startswith(town) and len(text) > len(town):
            text = text[len(town) :]
        return text

    def __len__(self) -> int:
        return len(self.rows)

    def parse(self, query: str) -> tuple[str, str]:
        """``(town named at the start or "", the text to look for)``."""
        text = strip_prefixes(normalise(query))
        for town in self.towns:
            name = normalise(town)
            if text.startswith(name) and len(text) > len(name):
                return town, text[len(name) :]
        return "", text

    def _build_postings(self) -> None:
        """Bigram -> ids, vectorised: the texts joined by a separator, each adjacent pair of
        code points a key, pairs across the separator dropped, (key, id) made unique."""
        joined = "\x00".join(self.texts) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        row = np.concatenate(([0], np.cumsum(codes == 0)[:-1])).astype(np.int64)
        keys = (codes[:-1] << 21) | codes[1:]
        valid = (codes[:-1] != 0) & (codes[1:] != 0)
        keys, ids = keys[valid], row[:-1][valid]
        order = np.lexsort((ids, keys))
        keys, ids = keys[order], ids[order]
        fresh = np.ones(len(keys), dtype=bool)
        fresh[1:] = (keys[1:] != keys[:-1]) | (ids[1:] != ids[:-1])
        keys, ids = keys[fresh], ids[fresh]
        self.gram_keys, starts = np.unique(keys, return_index=True)
        self.gram_starts = np.append(starts, len(keys))
        self.gram_ids = ids.astype(np.int32)

    def _posting(self, gram: str) -> np.ndarray | None:
        key = (ord(gram[0]) << 21) | ord(gram[1])
        at = int(np.searchsorted(self.gram_keys, key))
        if at >= len(self.gram_keys) or self.gram_keys[at] != key:
            return None
        posting: np.ndarray = self.gram_ids[self.gram_starts[at] : self.gram_starts[at + 1]]
        return posting

    def _candidates(self, text: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids holding every bigram of the query (substring candidates) and, when those are
        fewer than ``limit``, ids holding at least half of them (near matches), with how
        many bigrams each holds. Postings are sorted, so membership is a binary search and
        the work follows the rarest bigrams, not the size of the index."""
        grams = bigrams(text)
        found = [self._posting(g) for g in grams]
        postings = sorted((p for p in found if p is not None), key=len)
        n = len(grams)
        if len(postings) == n:
            full = postings[0]
            for other in postings[1:]:
                full = full[_member(full, other)]
                if len(full) == 0:
                    break
        else:
            full = np.empty(0, dtype=np.int32)
        if len(full) >= limit or not postings:
            return full, np.full(len(full), n, dtype=np.int64)
        # holding >= half the bigrams means holding one of the (n - ceil(n/2) + 1) rarest;
        # seeds stop at NEAR_SEED_CAP ids (near matches among very common bigrams — house
        # numbers in a million addresses — are then found only through the rarer ones)
        need = (n + 1) // 2
        seeds = [postings[0]]
        size = len(postings[0])
        for posting in postings[1 : max(len(postings) - need + 1, 1)]:
            size += len(posting)
            if size > NEAR_SEED_CAP:
                break
            seeds.append(posting)
        candidates = np.unique(np.concatenate(seeds))
        counts = np.zeros(len(candidates), dtype=np.int64)
        for posting in postings:
            counts += _member(candidates, posting)
        keep = counts >= need
        return candidates[keep], counts[keep]

    def _prefix_ids(self, text: str, limit: int) -> np.ndarray:
        start = bisect_left(self.sorted_texts, text)
        found = []
        for k in range(start, min(start + limit, len(self.order))):
            if not self.sorted_texts[k].startswith(text):
                break
            found.append(self.order[k])
        return np.asarray(found, dtype=np.int32)

    def search(
        self,
        query: str,
        *,
        lon: float | None = None,
        lat: float | None = None,
        limit: int = 10,
        kinds: frozenset[str] = frozenset(KINDS),
        scope_path: str = "/",
    ) -> tuple[str, list[Hit]]:
        """The best ``limit`` places for ``query`` and the town read from it."""
        if len(query) > MAX_QUERY:
            raise ValidationFailed(
                f"the query is longer than {MAX_QUERY} characters",
                {"q": query},
                text=TextCode.VALIDATION_STRING_TOO_LONG,
                params={"field": "q", "max_length": MAX_QUERY},
            )
        town, text = self.parse(query)
        if not text:
            return town, []
        prefixed = self._prefix_ids(text, SCORED_CANDIDATES)
        if len(text) == 1:
            ids, counts = prefixed, np.ones(len(prefixed), dtype=np.int64)
        else:
            ids, counts = self._candidates(text, limit)
        if scope_path.count("/") > 2:  # deeper than the city: keep the caller's places
            ids, counts = self._in_scope(ids, counts, scope_path)
            prefixed, _ = self._in_scope(prefixed, prefixed, scope_path)
        if len(ids) == 0 and len(prefixed) == 0:
            return town, []
        town_index = self.town_names.index(town) if town in self.town_names else -1
        if len(ids) > SCORED_CANDIDATES:  # most bigrams, the named town, the nearest first
            distance = self._distance(ids, lon, lat)
            rank = (
                -counts.astype(np.float64) * 1e12
                + (self.town_of[ids] != town_index).astype(np.float64) * 1e9
                + (distance if distance is not None else 0.0)
            )
            ids = ids[np.argpartition(rank, SCORED_CANDIDATES)[:SCORED_CANDIDATES]]
        ids = np.union1d(ids, prefixed).astype(np.int32)
        town_match = self.town_of[ids] == town_index
        distance = self._distance(ids, lon, lat)
        hits = []
        for k, i in enumerate(ids.tolist()):
            row = self.rows[i]
            if row.kind not in kinds:
                continue
            candidate = self.texts[i]
            if candidate == text:
                tier = EXACT
            elif candidate.startswith(text):
                tier = PREFIX
            elif text in candidate:
                tier = SUBSTRING
            else:
                tier = NEAR
            hits.append(
                Hit(
                    row, tier, bool(town_match[k]), None if distance is None else float(distance[k])
                )
            )
        hits.sort(
            key=lambda h: (
                not h.town_match,
                h.tier,
                h.distance_m if h.distance_m is not None else 0.0,
                KIND_RANK[h.place.kind],
                len(h.place.name),
                h.place.id,
            )
        )
        return town, hits[:limit]

    def _in_scope(
        self, ids: np.ndarray, other: np.ndarray, scope_path: str
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows
        keep = np.fromiter(
            (rows[i].jurisdiction_path.startswith(scope_path) for i in ids.tolist()),
            dtype=bool,
            count=len(ids),
        )
        return ids[keep], other[keep]

    def _distance(self, ids: np.ndarray, lon: float | None, lat: float | None) -> np.ndarray | None:
        if lon is None or lat is None:
            return None
        scale = np.cos(np.radians(lat))
        dx = (self.lon[ids] - lon) * scale * 111_320.0
        dy = (self.lat[ids] - lat) * 110_540.0
        return np.asarray(np.hypot(dx, dy))


def _member(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in the sorted array ``sorted_ids``."""
    if len(sorted_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_ids, values)
    at[at == len(sorted_ids)] = 0
    return np.asarray(sorted_ids[at] == values)


def load_places(session: Session) -> tuple[list[PlaceRow], list[str]]:
    """Venues, buildings and standard addresses from the database, with town names."""
    from firegrid.places.models import Building, Jurisdiction, StandardAddress, Venue

    town_rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.name_zh).where(
            Jurisdiction.level == "town", Jurisdiction.deleted_at.is_(None)
        )
    )
    town_names: dict[str, str] = {str(code): str(name) for code, name in town_rows}

    def town_of(path: str) -> str:
        parts = [p for p in path.split("/") if p]
        return town_names.get(parts[1], "") if len(parts) > 1 else ""

    rows: list[PlaceRow] = []
    venues = session.execute(
        select(
            Venue.id, Venue.name, Venue.address, Venue.lon, Venue.lat, Venue.jurisdiction_path
        ).where(Venue.deleted_at.is_(None))
    ).all()
    venue_info = {}
    for vid, name, address, lon, lat, path in venues:
        venue_info[vid] = (name, path)
        rows.append(PlaceRow("venue", vid, name, address, town_of(path), lon, lat, path, vid))
    buildings = session.execute(
        select(Building.id, Building.venue_id, Building.name, Building.lon, Building.lat).where(
            Building.deleted_at.is_(None)
        )
    ).all()
    for bid, vid, name, lon, lat in buildings:
        if vid not in venue_info:
            continue
        venue_name, path = venue_info[vid]
        full = name if name.startswith(venue_name) else f"{venue_name}{name}"
        rows.append(PlaceRow("building", bid, full, venue_name, town_of(path), lon, lat, path, vid))
    addresses = session.execute(
        select(
            StandardAddress.id,
            StandardAddress.full_text,
            StandardAddress.town,
            StandardAddress.lon,
            StandardAddress.lat,
            StandardAddress.jurisdiction_path,
        )
    ).all()
    for aid, text, town, lon, lat, path in addresses:
        rows.append(PlaceRow("address", aid, text, "", town or town_of(path), lon, lat, path))
    return rows, list(town_names.values())


_LOCK = threading.Lock()


class IndexHolder:
    """Where an app keeps its index (``app.state``): built on first use, rebuilt when older
    than ``max_age_s`` so new venues and addresses appear within that time."""

    def __init__(self, max_age_s: float = 300.0) -> None:
        self.max_age_s = max_age_s
        self.built_at = 0.0
        self.index: PlaceIndex | None = None

    def get(self, session: Session) -> PlaceIndex:
        with _LOCK:
            now = time.monotonic()
            if self.index is None or now - self.built_at >= self.max_age_s:
                rows, towns = load_places(session)
                self.index = PlaceIndex(rows, towns)
                self.built_at = now
            return self.index

    def forget(self) -> None:
        with _LOCK:
            self.index = None
