"""Declarative REST resources: list (filters, cursor pagination, GeoJSON), get, create,
update, soft delete — scoped to the caller's jurisdiction and audited.

A context declares a :class:`Resource` (its table, schemas, permissions, filters and a
``prepare`` hook holding its rules) and calls :func:`mount`. The handlers only translate.
"""

# No ``from __future__ import annotations`` here: FastAPI must see real annotations on the
# handlers built in closures below.

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.api.geojson import feature, feature_collection, point_feature
from firegrid.api.pagination import decode_cursor, encode_cursor
from firegrid.api.schemas import Feature, FeaturePage, Page
from firegrid.core.changes import record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import Forbidden, NotFound
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext  # re-exported: prepare hooks take it
from firegrid.places.public import Crs, parse_crs, point_from_wgs84


@dataclass(frozen=True)
class Filter:
    """A query parameter of a list route: ``column op value``."""

    column: str
    op: str = "eq"  # eq | prefix | contains | ge | le
    type: type = str
    description: str = ""


PrepareHook = Callable[[WriteContext, dict[str, Any], Any], dict[str, Any]]


@dataclass
class Resource:
    """One REST resource over one table."""

    name: str
    model: Any
    out_schema: type[BaseModel]
    create_schema: type[BaseModel] | None
    update_schema: type[BaseModel] | None
    read_permission: str
    write_permission: str
    prepare: PrepareHook | None = None
    # Rules that may refuse a (soft) delete, e.g. a jurisdiction with live children.
    check_delete: Callable[[WriteContext, Any], None] | None = None
    path_column: str = "jurisdiction_path"
    owner_venue_column: str | None = None
    # For a venue manager: a condition on the rows beyond the scope (its own venues' rows).
    venue_manager_filter: Callable[[Principal], Any] | None = None
    filters: dict[str, Filter] = field(default_factory=dict)
    point: bool = True
    geometry_column: str | None = None
    tag: str = ""
    id_param: str = ""
    # Recorded (core.changes) with the row id in the transaction of a create, update or delete.
    change_topic: str = ""

    def __post_init__(self) -> None:
        if not self.id_param:
            self.id_param = f"{self.name.rstrip('s')}_id"
        if not self.tag:
            self.tag = self.name


def scoped_select(resource: Resource, principal: Principal) -> Select[Any]:
    """SELECT of the live rows of ``resource`` that ``principal`` may see."""
    model = resource.model
    query = select(model).where(
        model.deleted_at.is_(None),
        principal.scope_filter(getattr(model, resource.path_column)),
    )
    if principal.role == "venue_manager":
        if resource.owner_venue_column:
            column = getattr(model, resource.owner_venue_column)
            query = query.where(column.in_(principal.venue_ids))
        if resource.venue_manager_filter is not None:
            query = query.where(resource.venue_manager_filter(principal))
    return query


def _kind(resource: Resource) -> str:
    """The entity kind a refusal names (``venue``, ``grid_worker``; the console translates it)."""
    return resource.name.rstrip("s").replace("-", "_")


def get_visible(session: Session, resource: Resource, principal: Principal, row_id: int) -> Any:
    """The row ``row_id`` if the caller may see it; otherwise not found (no leak)."""
    model = resource.model
    row = session.scalars(scoped_select(resource, principal).where(model.id == row_id)).first()
    if row is None:
        raise NotFound(
            f"{resource.name.rstrip('s')} {row_id} not found",
            {"id": row_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": _kind(resource), "id": row_id},
        )
    return row


def to_out(resource: Resource, row: Any, crs: Crs) -> dict[str, Any]:
    data: dict[str, Any] = resource.out_schema.model_validate(row, from_attributes=True).model_dump(
        mode="json"
    )
    if resource.point and "lon" in data and data["lon"] is not None:
        data["lon"], data["lat"] = point_from_wgs84(data["lon"], data["lat"], crs)
    return data


def to_feature(resource: Resource, row: Any, out: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON feature: the row's polygon, its point, its last known position, or none."""
    if resource.geometry_column:
        return feature(out, getattr(row, resource.geometry_column))
    for lon_key, lat_key in (("lon", "lat"), ("last_lon", "last_lat")):
        if out.get(lon_key) is not None and out.get(lat_key) is not None:
            return point_feature(out, out[lon_key], out[lat_key])
    return feature(out, None)


def row_snapshot(row: Any) -> dict[str, Any]:
    """Column values of a row, JSON-ready, for the audit log's before/after."""
    from sqlalchemy import inspect as sa_inspect

    snapshot: dict[str, Any] = {}
    for attr in sa_inspect(row).mapper.column_attrs:
        value = getattr(row, attr.key)
        snapshot[attr.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return snapshot


def _audit(
    ctx: WriteContext, action: str, resource: Resource, row: Any, before: dict[str, Any] | None
) -> None:
    from firegrid.accounts.public import record_change

    record_change(
        ctx.session,
        ctx.principal,
        action,
        resource.name,
        str(row.id),
        before,
        row_snapshot(row) if action != "delete" else None,
    )


def _apply_filters(resource: Resource, query: Select[Any], values: dict[str, Any]) -> Select[Any]:
    for name, spec in resource.filters.items():
        value = values.get(name)
        if value is None:
            continue
        column = getattr(resource.model, spec.column)
        if spec.op == "eq":
            query = query.where(column == value)
        elif spec.op == "prefix":
            query = query.where(column.startswith(value, autoescape=True))
        elif spec.op == "contains":
            query = query.where(column.contains(value, autoescape=True))
        elif spec.op == "ge":
            query = query.where(column >= value)
        elif spec.op == "le":
            query = query.where(column <= value)
    return query


def mount(router: APIRouter, resource: Resource) -> None:
    """Add list/get/create/update/delete routes for ``resource`` to ``router``."""
    _mount_list(router, resource)
    _mount_get(router, resource)
    if resource.create_schema is not None:
        _mount_create(router, resource)
    if resource.update_schema is not None:
        _mount_update(router, resource)
        _mount_delete(router, resource)


RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Row id.")]
CrsQuery = Annotated[
    str, Query(description="Coordinate system of coordinates: wgs84, gcj02 or bd09.")
]


def _mount_list(router: APIRouter, resource: Resource) -> None:
    def list_items(
        principal: Principal,
        session: Session,
        limit: int,
        cursor: str | None,
        crs: str,
        format: str,
        **filters: Any,
    ) -> dict[str, Any]:
        out_crs = parse_crs(crs)
        after = decode_cursor(cursor)
        query = _apply_filters(resource, scoped_select(resource, principal), filters)
        if after is not None:
            query = query.where(resource.model.id > after)
        rows = list(session.scalars(query.order_by(resource.model.id).limit(limit + 1)).all())
        next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
        rows = rows[:limit]
        items = [to_out(resource, row, out_crs) for row in rows]
        if format == "geojson":
            return feature_collection(
                (to_feature(resource, row, item) for row, item in zip(rows, items, strict=True)),
                next_cursor=next_cursor,
            )
        return {"items": items, "next_cursor": next_cursor, "count": len(items)}

    parameters = [
        inspect.Parameter(
            "principal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Principal, Depends(require(resource.read_permission))],
        ),
        inspect.Parameter(
            "session",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=SessionDep,
        ),
        inspect.Parameter(
            "limit",
            inspect.Parameter.KEYWORD_ONLY,
            default=100,
            annotation=Annotated[int, Query(ge=1, le=1000, description="Page size.")],
        ),
        inspect.Parameter(
            "cursor",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, Query(description="Cursor from the previous page.")],
        ),
        inspect.Parameter(
            "crs", inspect.Parameter.KEYWORD_ONLY, default="wgs84", annotation=CrsQuery
        ),
        inspect.Parameter(
            "format",
            inspect.Parameter.KEYWORD_ONLY,
            default="json",
            annotation=Annotated[str, Query(pattern="^(json|geojson)$")],
        ),
    ]
    for name, spec in resource.filters.items():
        query = (
            Query(description=spec.description, ge=-(2**31), le=2**31 - 1)
            if spec.type is int
            else Query(description=spec.description)
        )
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[spec.type | None, query],
            )
        )

    def endpoint(**kwargs: Any) -> dict[str, Any]:
        return list_items(**kwargs)

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = f"list_{resource.name}"
    router.add_api_route(
        f"/{resource.name}",
        endpoint,
        methods=["GET"],
        tags=[resource.tag],
        summary=f"List {resource.name} in your jurisdiction",
        response_model=Page[resource.out_schema] | FeaturePage[resource.out_schema],  # type: ignore[name-defined]
    )


def _mount_get(router: APIRouter, resource: Resource) -> None:
    def endpoint(
        row_id: int,
        principal: Principal,
        session: Session,
        crs: str = "wgs84",
        format: str = "json",
    ) -> dict[str, Any]:
        row = get_visible(session, resource, principal, row_id)
        out = to_out(resource, row, parse_crs(crs))
        return to_feature(resource, row, out) if format == "geojson" else out

    _register_item_route(router, resource, endpoint, "GET", f"Get one of {resource.name}", True)


def _mount_create(router: APIRouter, resource: Resource) -> None:
    schema = resource.create_schema
    assert schema is not None

    def create(
        body: BaseModel, principal: Principal, session: Session, crs: str = "wgs84"
    ) -> dict[str, Any]:
        ctx = WriteContext(session, principal, parse_crs(crs))
        values = body.model_dump()
        if resource.prepare is not None:
            values = resource.prepare(ctx, values, None)
        if not principal.can_see_path(values[resource.path_column]):
            raise Forbidden(
                f"the new {resource.name.rstrip('s')} lies outside your jurisdiction",
                {resource.path_column: values[resource.path_column]},
                text=TextCode.ACCESS_OUTSIDE_SCOPE,
                params={"kind": _kind(resource), "id": values.get("code")},
            )
        row = resource.model(**values)
        session.add(row)
        session.flush()
        _audit(ctx, "create", resource, row, None)
        return to_out(resource, row, ctx.crs)

    def endpoint(
        body: schema,  # type: ignore[valid-type]
        principal: Annotated[Principal, Depends(require(resource.write_permission))],
        session: SessionDep,
        crs: CrsQuery = "wgs84",
    ) -> dict[str, Any]:
        out = create(body, principal, session, crs)
        _announce(resource, session, int(out["id"]), "created", principal)
        return out

    endpoint.__name__ = f"create_{resource.name}"
    router.add_api_route(
        f"/{resource.name}",
        endpoint,
        methods=["POST"],
        status_code=201,
        tags=[resource.tag],
        summary=f"Create one of {resource.name}",
        response_model=resource.out_schema,
    )


def _mount_update(router: APIRouter, resource: Resource) -> None:
    schema = resource.update_schema
    assert schema is not None

    def update(
        row_id: int, body: BaseModel, principal: Principal, session: Session, crs: str = "wgs84"
    ) -> dict[str, Any]:
        ctx = WriteContext(session, principal, parse_crs(crs))
        row = get_visible(session, resource, principal, row_id)
        before = row_snapshot(row)
        values = body.model_dump(exclude_unset=True)
        if resource.prepare is not None:
            values = resource.prepare(ctx, values, row)
        path = values.get(resource.path_column)
        if path is not None and not principal.can_see_path(path):
            raise Forbidden(
                f"cannot move {resource.name.rstrip('s')} {row_id} outside your jurisdiction",
                {resource.path_column: path},
                text=TextCode.ACCESS_OUTSIDE_SCOPE,
                params={"kind": _kind(resource), "id": row_id},
            )
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        _audit(ctx, "update", resource, row, before)
        return to_out(resource, row, ctx.crs)

    _register_item_route(
        router, resource, update, "PATCH", f"Update one of {resource.name}", False, body=schema
    )


def _mount_delete(router: APIRouter, resource: Resource) -> None:
    def endpoint(row_id: int, principal: Principal, session: Session) -> Response:
        row = get_visible(session, resource, principal, row_id)
        ctx = WriteContext(session, principal, Crs.WGS84)
        if resource.check_delete is not None:
            resource.check_delete(ctx, row)
        before = row_snapshot(row)
        row.deleted_at = utcnow()
        session.flush()
        _audit(ctx, "delete", resource, row, before)
        return Response(status_code=204)

    _register_item_route(
        router, resource, endpoint, "DELETE", f"Delete (soft) one of {resource.name}", False
    )


def _register_item_route(
    router: APIRouter,
    resource: Resource,
    handler: Callable[..., Any],
    method: str,
    summary: str,
    read: bool,
    body: type[BaseModel] | None = None,
) -> None:
    permission = resource.read_permission if read else resource.write_permission
    parameters = [
        inspect.Parameter(resource.id_param, inspect.Parameter.KEYWORD_ONLY, annotation=RowId),
    ]
    if body is not None:
        parameters.append(
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)
        )
    parameters += [
        inspect.Parameter(
            "principal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Principal, Depends(require(permission))],
        ),
        inspect.Parameter(
            "session",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=SessionDep,
        ),
    ]
    if body is not None:
        parameters.append(
            inspect.Parameter(
                "crs", inspect.Parameter.KEYWORD_ONLY, default="wgs84", annotation=CrsQuery
            )
        )
    if read:
        parameters += [
            inspect.Parameter(
                "crs", inspect.Parameter.KEYWORD_ONLY, default="wgs84", annotation=CrsQuery
            ),
            inspect.Parameter(
                "format",
                inspect.Parameter.KEYWORD_ONLY,
                default="json",
                annotation=Annotated[str, Query(pattern="^(json|geojson)$")],
            ),
        ]

    def endpoint(**kwargs: Any) -> Any:
        row_id = kwargs["row_id"] = kwargs.pop(resource.id_param)
        if read:
            return handler(**kwargs)
        result = handler(**kwargs)
        what = "deleted" if method == "DELETE" else "updated"
        _announce(resource, kwargs["session"], row_id, what, kwargs["principal"])
        return result

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = f"{method.lower()}_{resource.name}_item"
    router.add_api_route(
        f"/{resource.name}/{{{resource.id_param}}}",
        endpoint,
        methods=[method],
        status_code=204 if method == "DELETE" else 200,
        tags=[resource.tag],
        summary=summary,
        response_model=_item_response(resource, method),
    )


def _item_response(resource: Resource, method: str) -> Any:
    """What an item route answers: the row (or its GeoJSON feature), nothing on delete."""
    if method == "DELETE":
        return None
    if method == "GET":
        return resource.out_schema | Feature[resource.out_schema]  # type: ignore[name-defined]
    return resource.out_schema


def _announce(
    resource: Resource, session: Session, row_id: int, what: str, principal: Principal
) -> None:
    """Record the resource's kind of change in the request's transaction (``core.changes``:
    the other contexts read it from the change stream once it is committed)."""
    if resource.change_topic:
        cause = f"{resource.name.rstrip('s')} {row_id} {what} by {principal.username}"
        row = session.get(resource.model, row_id)
        path = str(getattr(row, resource.path_column, "") or "") if row is not None else ""
        record_change(
            session,
            resource.change_topic,
            row_id,
            actor=principal.subject,
            cause=cause,
            payload={"what": what},
            scope_path=path,
        )
