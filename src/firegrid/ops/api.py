"""``GET /metrics``: the API process's Prometheus metrics (counters of this process and the
database gauges). City-wide figures, so only a city-level account with ``ops:metrics`` (an
administrator, or the integration account a Prometheus server scrapes with) may read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from firegrid.accounts.public import Principal
from firegrid.api.deps import require
from firegrid.core.errors import Forbidden
from firegrid.core.texts import TextCode
from firegrid.ops.metrics import DatabaseCollector, render

router = APIRouter(tags=["ops"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of the API process and the database gauges",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(
    request: Request, principal: Annotated[Principal, Depends(require("ops:metrics"))]
) -> Response:
    if len([part for part in principal.scope_path.split("/") if part]) > 1:
        raise Forbidden(
            "metrics are city-wide: only a city-level account may read them",
            {"scope": principal.scope_code},
            text=TextCode.ACCESS_CITY_ONLY,
            params={"kind": "metrics"},
        )
    settings = request.app.state.settings
    collector = DatabaseCollector(
        request.app.state.db, event_stream=settings.event_log, nats_url=settings.nats_url
    )
    return Response(render(collector), media_type=CONTENT_TYPE_LATEST)
