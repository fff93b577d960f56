"""Type-ahead search of places in call intake: town read from the query, then exact,
prefix, substring and near matches, then distance."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.search import PlaceIndex, load_places
from firegrid.places.models import Building, Jurisdiction, Venue
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers

pytestmark = pytest.mark.postgres

#: (code, name, town key, lon offset from the town's west edge)
VENUES = [
    ("FH-W", "富华大厦", "west", 0.05),
    ("FH-E", "富华大厦", "east", 0.05),
    ("FH-M", "富华大厦商场", "middle", 0.05),
    ("HF-M", "华富大厦", "middle", 0.02),
    ("XF-W", "新富华酒店", "west", 0.08),
]
TOWN_X = {"west": 113.0, "middle": 113.1, "east": 113.2}


def add_venues(db: Database, dcity: DCity) -> dict[str, int]:
    ids = {}
    with db.session() as session:
        for code, name, town, dx in VENUES:
            grid_path = dcity.paths[f"grid:{town}:n"]
            grid = session.query(Jurisdiction).filter(Jurisdiction.path == grid_path).one()
            venue = Venue(
                code=code,
                name=name,
                address=f"{name}地址",
                jurisdiction_id=grid.id,
                jurisdiction_path=grid_path,
                category="high_rise_office",
                lon=TOWN_X[town] + dx,
                lat=23.07,
            )
            session.add(venue)
            session.flush()
            ids[code] = venue.id
        session.add(Building(venue_id=ids["FH-W"], name="B座", lon=113.05, lat=23.07))
    return ids


def index_of(db: Database) -> PlaceIndex:
    with db.session() as session:
        return PlaceIndex(*load_places(session))


def test_the_town_in_the_query_and_the_exact_name_come_first(db: Database, dcity: DCity) -> None:
    ids = add_venues(db, dcity)
    index = index_of(db)
    town, hits = index.search("东莞市西镇富华大厦")
    assert town == "西镇"
    assert hits[0].place.id == ids["FH-W"]
    assert hits[0].as_dict()["match"] == "exact"
    # then the west's building of that venue (prefix), then the other towns by match
    assert hits[1].place.kind == "building"
    assert hits[1].place.name == "富华大厦B座"
    assert [(h.place.id, h.as_dict()["match"]) for h in hits[2:]] == [
        (ids["FH-E"], "exact"),
        (ids["FH-M"], "prefix"),
    ]
    town, hits = index.search("东莞市东镇富华大厦")
    assert hits[0].place.id == ids["FH-E"]


def test_ranking_exact_prefix_substring_near_then_distance(db: Database, dcity: DCity) -> None:
    ids = add_venues(db, dcity)
    index = index_of(db)
    _town, hits = index.search("富华大厦", lon=113.25, lat=23.07, kinds=frozenset({"venue"}))
    matches = [(h.place.id, h.as_dict()["match"]) for h in hits]
    # the two exact names, nearest (east) first; then the prefix; 华富大厦 shares one
    # bigram of three, too few for a near match
    assert matches == [
        (ids["FH-E"], "exact"),
        (ids["FH-W"], "exact"),
        (ids["FH-M"], "prefix"),
    ]
    _town, hits = index.search("富华", lon=113.05, lat=23.07, kinds=frozenset({"venue"}))
    found = [(h.place.id, h.as_dict()["match"]) for h in hits]
    assert found == [  # prefixes by distance from the west, then the substring
        (ids["FH-W"], "prefix"),
        (ids["FH-M"], "prefix"),
        (ids["FH-E"], "prefix"),
        (ids["XF-W"], "substring"),
    ]
    _town, typo = index.search("富华大夏")  # one character wrong: two bigrams of three
    near = {h.place.id for h in typo if h.as_dict()["match"] == "near"}
    assert near >= {ids["FH-W"], ids["FH-E"], ids["FH-M"]}
    _town, addresses = index.search("人民路12号")
    assert addresses[0].place.kind == "address"


def test_the_api_answers_in_the_callers_scope(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    ids = add_venues(db, dcity)
    west = headers(db, settings, dcity, "dispatcher", "town:west")
    answer = client.get("/api/v1/intake/places", params={"q": "富华大厦"}, headers=west)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert {item["venue_id"] for item in items} == {ids["FH-W"]}  # the venue and its building
    assert [item["kind"] for item in items] == ["venue", "building"]
    city = headers(db, settings, dcity, "dispatcher", "city")
    everywhere = client.get(
        "/api/v1/intake/places", params={"q": "东莞市东镇富华大厦", "limit": 3}, headers=city
    ).json()
    assert everywhere["town"] == "东镇"
    assert everywhere["items"][0]["venue_id"] == ids["FH-E"]
    bad = client.get("/api/v1/intake/places", params={"q": "x", "kind": "car"}, headers=city)
    assert bad.status_code == 422
