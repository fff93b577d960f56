"""Store the road network in the database and keep a compact array cache on disk.

Replacing the network is atomic: the new network's rows are written and marked active in
one transaction, and the previous one is deleted in the same transaction, so a failed
import leaves the old network in place. Loading reads the ``.npz`` cache named after the
network's checksum (well under a second for 250,000 nodes) and falls back to the rows.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from firegrid.core.db import Database
from firegrid.core.texts import TextCode
from firegrid.geo.errors import NoRoadNetwork
from firegrid.geo.models import RoadEdge, RoadLabelRow, RoadNetworkRecord, RoadNode
from firegrid.geo.network import RoadNetwork

log = logging.getLogger(__name__)


class DropReport(Protocol):
    """What pruning dropped (``PruneReport`` or the OSM ``ImportReport``)."""

    @property
    def nodes_dropped(self) -> int: ...

    @property
    def edges_dropped(self) -> int: ...


def network_checksum(network: RoadNetwork) -> str:
    digest = hashlib.sha256()
    for name in RoadNetwork._ARRAYS:
        digest.update(np.ascontiguousarray(getattr(network, name)).tobytes())
    return digest.hexdigest()


def save_network(
    database: Database,
    network: RoadNetwork,
    *,
    source: str,
    report: DropReport | None = None,
    cache_dir: Path | None = None,
    labels: Sequence[Any] = (),
) -> dict[str, Any]:
    """Replace the active network by ``network`` atomically; returns its record as a dict.

    ``labels``: the road names to write on the map (``osm.RoadLabel``: name, road_class,
    lon, lat, length_m), kept with the network and replaced with it.
    """
    checksum = network_checksum(network)
    with database.session() as session:
        record = RoadNetworkRecord(
            source=source[:300],
            checksum=checksum,
            node_count=network.n_nodes,
            edge_count=network.n_edges,
            dropped_nodes=report.nodes_dropped if report else 0,
            dropped_edges=report.edges_dropped if report else 0,
            active=False,
        )
        session.add(record)
        session.flush()
        _insert_rows(session, record.id, network)
        if labels:
            session.execute(
                insert(RoadLabelRow),
                [
                    {
                        "network_id": record.id,
                        "label_index": i,
                        "name": label.name,
                        "road_class": int(label.road_class),
                        "lon": float(label.lon),
                        "lat": float(label.lat),
                        "length_m": float(label.length_m),
                    }
                    for i, label in enumerate(labels)
                ],
            )
        old_ids = list(
            session.scalars(
                select(RoadNetworkRecord.id).where(RoadNetworkRecord.id != record.id)
            ).all()
        )
        if old_ids:
            session.execute(delete(RoadLabelRow).where(RoadLabelRow.network_id.in_(old_ids)))
            session.execute(delete(RoadEdge).where(RoadEdge.network_id.in_(old_ids)))
            session.execute(delete(RoadNode).where(RoadNode.network_id.in_(old_ids)))
            session.execute(delete(RoadNetworkRecord).where(RoadNetworkRecord.id.in_(old_ids)))
        session.execute(
            update(RoadNetworkRecord).where(RoadNetworkRecord.id == record.id).values(active=True)
        )
        result = {
            "network_id": record.id,
            "nodes": network.n_nodes,
            "edges": network.n_edges,
            "checksum": checksum,
            "dropped_nodes": record.dropped_nodes,
            "dropped_edges": record.dropped_edges,
            "labels": len(labels),
        }
    if cache_dir is not None:
        cache_path(cache_dir, checksum).parent.mkdir(parents=True, exist_ok=True)
        network.save(cache_path(cache_dir, checksum))
    return result


def _insert_rows(session: Session, network_id: int, network: RoadNetwork) -> None:
    """Bulk-write nodes and edges: COPY on PostgreSQL, executemany of tuples on SQLite."""
    n, m = network.n_nodes, network.n_edges
    nodes = zip(
        [network_id] * n,
        range(n),
        network.node_ref.tolist(),
        network.node_lon.tolist(),
        network.node_lat.tolist(),
        strict=True,
    )
    edges = zip(
        [network_id] * m,
        range(m),
        network.edge_src.tolist(),
        network.edge_dst.tolist(),
        network.length_m.tolist(),
        network.road_class.tolist(),
        network.oneway.tolist(),
        network.speed_kph.tolist(),
        network.travel_time_s.tolist(),
        strict=True,
    )
    node_columns = ("network_id", "node_index", "node_ref", "lon", "lat")
    edge_columns = (
        "network_id",
        "edge_index",
        "src",
        "dst",
        "length_m",
        "road_class",
        "oneway",
        "speed_kph",
        "travel_time_s",
    )
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            for table, columns, rows in (
                ("road_nodes", node_columns, nodes),
                ("road_edges", edge_columns, edges),
            ):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        return
    for table, columns, rows in (
        ("road_nodes", node_columns, nodes),
        ("road_edges", edge_columns, edges),
    ):
        placeholders = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            list(rows),
        )


def cache_path(cache_dir: Path, checksum: str) -> Path:
    return cache_dir / "roads" / f"network-{checksum[:16]}.npz"


def active_record(session: Session) -> RoadNetworkRecord:
    record = session.scalars(
        select(RoadNetworkRecord).where(RoadNetworkRecord.active.is_(True))
    ).first()
    if record is None:
        raise NoRoadNetwork(
            "no road network: run `firegrid roads import FILE.osm.pbf` or `firegrid demo`",
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "road_network"},
        )
    return record


def load_network(database: Database, cache_dir: Path | None = None) -> RoadNetwork:
    """The active network, from the array cache when present, else from the rows."""
    with database.session() as session:
        record = active_record(session)
        if cache_dir is not None:
            path = cache_path(cache_dir, record.checksum)
            if path.exists():
                try:
                    network = RoadNetwork.load(path)
                    if network.n_nodes == record.node_count:
                        return network
                except Exception:  # noqa: BLE001 - a bad cache is rebuilt from the rows
                    log.warning("road network cache %s unreadable; rebuilding", path)
        network = _load_rows(session, record.id)
    if cache_dir is not None:
        cache_path(cache_dir, record.checksum).parent.mkdir(parents=True, exist_ok=True)
        network.save(cache_path(cache_dir, record.checksum))
    return network


def _load_rows(session: Session, network_id: int) -> RoadNetwork:
    nodes = session.execute(
        select(RoadNode.node_index, RoadNode.node_ref, RoadNode.lon, RoadNode.lat)
        .where(RoadNode.network_id == network_id)
        .order_by(RoadNode.node_index)
    ).all()
    edges = session.execute(
        select(
            RoadEdge.edge_index,
            RoadEdge.src,
            RoadEdge.dst,
            RoadEdge.length_m,
            RoadEdge.road_class,
            RoadEdge.oneway,
            RoadEdge.speed_kph,
            RoadEdge.travel_time_s,
        )
        .where(RoadEdge.network_id == network_id)
        .order_by(RoadEdge.edge_index)
    ).all()
    return RoadNetwork.from_rows(
        [tuple(row) for row in nodes],  # type: ignore[misc]
        [tuple(row) for row in edges],  # type: ignore[misc]
    )


def road_labels(
    session: Session,
    bbox: tuple[float, float, float, float],
    limit: int,
    min_class_below: int | None = None,
) -> list[dict[str, Any]]:
    """Road names of the active network in ``bbox``, longest ways first (at most ``limit``)."""
    record = active_record(session)
    west, south, east, north = bbox
    query = select(
        RoadLabelRow.name, RoadLabelRow.road_class, RoadLabelRow.lon, RoadLabelRow.lat
    ).where(
        RoadLabelRow.network_id == record.id,
        RoadLabelRow.lon.between(west, east),
        RoadLabelRow.lat.between(south, north),
    )
    if min_class_below is not None:
        query = query.where(RoadLabelRow.road_class < min_class_below)
    rows = session.execute(
        query.order_by(RoadLabelRow.length_m.desc(), RoadLabelRow.label_index).limit(limit)
    ).all()
    return [
        {"name": r.name, "road_class": int(r.road_class), "lon": r.lon, "lat": r.lat} for r in rows
    ]
