"""Tables of the road network: one active network, its nodes and directed edges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base


class RoadNetworkRecord(Base):
    """One imported or generated network; exactly one is active."""

    __tablename__ = "road_networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    checksum: Mapped[str] = mapped_column(String(64))
    node_count: Mapped[int]
    edge_count: Mapped[int]
    dropped_nodes: Mapped[int] = mapped_column(default=0)
    dropped_edges: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoadNode(Base):
    __tablename__ = "road_nodes"

    network_id: Mapped[int] = mapped_column(
        ForeignKey("road_networks.id", ondelete="CASCADE"), primary_key=True
    )
    node_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    node_ref: Mapped[int] = mapped_column(BigInteger)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class RoadEdge(Base):
    __tablename__ = "road_edges"

    network_id: Mapped[int] = mapped_column(
        ForeignKey("road_networks.id", ondelete="CASCADE"), primary_key=True
    )
    edge_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    src: Mapped[int] = mapped_column(Integer)
    dst: Mapped[int] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float)
    road_class: Mapped[int] = mapped_column(SmallInteger)
    oneway: Mapped[bool] = mapped_column(Boolean)
    speed_kph: Mapped[float] = mapped_column(Float)
    travel_time_s: Mapped[float] = mapped_column(Float)


class RoadLabelRow(Base):
    """A road name and where the map writes it (from the OSM import's named ways)."""

    __tablename__ = "road_labels"

    network_id: Mapped[int] = mapped_column(
        ForeignKey("road_networks.id", ondelete="CASCADE"), primary_key=True
    )
    label_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    road_class: Mapped[int] = mapped_column(SmallInteger)
    lon: Mapped[float] = mapped_column(Float, index=True)
    lat: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
