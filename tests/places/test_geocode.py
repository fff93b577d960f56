"""The geocoder: component parsing, matching with a score, and honest no-match."""

from __future__ import annotations

import pytest

from firegrid.core.db import Database
from firegrid.places.geocode import geocode, normalise, parse
from firegrid.places.models import StandardAddress
from tests.places.minicity import EAST_PATH, WEST_PATH, build_minicity


@pytest.fixture
def register(db: Database) -> Database:
    build_minicity(db)
    rows = [
        ("A1", "西镇", "西村", "振兴路", "18", "", "", "", 113.05, 23.1, WEST_PATH),
        ("A2", "西镇", "西村", "振兴路", "20", "", "", "", 113.051, 23.1, WEST_PATH),
        ("A3", "东镇", "东村", "振兴路", "18", "", "", "", 113.15, 23.1, EAST_PATH),
        ("A4", "东镇", "东村", "东城大道", "8", "3", "2", "501", 113.16, 23.12, EAST_PATH),
    ]
    with db.session() as session:
        for code, town, village, road, number, building, unit, room, lon, lat, path in rows:
            parts = [town, village, road, f"{number}号"]
            if building:
                parts += [f"{building}栋", f"{unit}单元", f"{room}室"]
            session.add(
                StandardAddress(
                    code=code,
                    town=town,
                    village=village,
                    road=road,
                    number=number,
                    building=building,
                    unit=unit,
                    room=room,
                    full_text="东莞市" + "".join(parts),
                    lon=lon,
                    lat=lat,
                    jurisdiction_path=path,
                )
            )
    return db


def test_normalise_strips_prefixes_and_full_width_digits() -> None:
    assert normalise("广东省 东莞市 振兴路１８号") == "振兴路18号"


def test_parse_components() -> None:
    parts = parse("东莞市东镇东村东城大道8号3栋2单元501室")
    assert (parts.town, parts.village, parts.road, parts.number) == (
        "东镇",
        "东村",
        "东城大道",
        "8",
    )
    assert (parts.building, parts.unit, parts.room) == ("3", "2", "501")


def test_road_names_containing_jie_are_kept_whole() -> None:
    assert parse("厚街镇新塘社区厚街中路18号").road == "厚街中路"
    assert parse("振兴路与东城大道交叉口").road == "振兴路"


def test_match_uses_the_town_to_choose_between_same_road_numbers(register: Database) -> None:
    with register.session() as session:
        result = geocode(session, "东镇振兴路18号")
    assert result.matched
    assert result.address_code == "A3"
    assert result.score >= 0.75
    assert (result.lon, result.lat) == (113.15, 23.1)


def test_full_address_with_room(register: Database) -> None:
    with register.session() as session:
        result = geocode(session, "广东省东莞市东镇东村东城大道８号3栋2单元501室")
    assert result.matched
    assert result.address_code == "A4"


def test_no_match_instead_of_a_guess(register: Database) -> None:
    with register.session() as session:
        unknown_number = geocode(session, "西镇振兴路999号")
        unknown_road = geocode(session, "西镇人民路18号")
        no_road = geocode(session, "西镇西村")
    assert not unknown_number.matched
    assert unknown_number.lon is None
    assert not unknown_road.matched
    assert unknown_road.reason == "no candidates"
    assert unknown_road.reason_code == "geocode.no_candidates"
    assert not no_road.matched
    assert "no road" in (no_road.reason or "")
    assert no_road.reason_code == "geocode.no_road"


def test_scope_hides_addresses_outside_the_callers_jurisdiction(register: Database) -> None:
    with register.session() as session:
        result = geocode(session, "东镇振兴路18号", scope_path=WEST_PATH)
    assert result.address_code != "A3"
    assert all(a["code"] != "A3" for a in result.alternatives)


def test_two_equally_fitting_addresses_are_no_match(register: Database) -> None:
    with register.session() as session:
        add = StandardAddress(
            code="A5",
            town="西镇",
            village="北村",
            road="振兴路",
            number="18",
            building="",
            unit="",
            room="",
            full_text="东莞市西镇北村振兴路18号",
            lon=113.06,
            lat=23.15,
            jurisdiction_path=WEST_PATH,
        )
        session.add(add)
    with register.session() as session:
        ambiguous = geocode(session, "西镇振兴路18号")  # 西村 or 北村?
        named = geocode(session, "西镇北村振兴路18号")
    assert not ambiguous.matched
    assert ambiguous.address_code is None
    assert "ambiguous" in (ambiguous.reason or "")
    assert ambiguous.reason_code == "geocode.ambiguous"
    assert {a["code"] for a in ambiguous.alternatives} == {"A1", "A5"}
    # each alternative says where it is: the dispatcher takes one with a click
    by_code = {a["code"]: a for a in ambiguous.alternatives}
    assert (by_code["A5"]["lon"], by_code["A5"]["lat"]) == (113.06, 23.15)
    assert all(
        isinstance(a["lon"], float) and isinstance(a["lat"], float) for a in by_code.values()
    )
    assert named.matched
    assert named.address_code == "A5"
