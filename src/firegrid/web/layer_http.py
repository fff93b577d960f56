"""HTTP caching of the map's layers: ETag, ``304 Not Modified`` and a small body cache.

A layer's response is private to the caller (it is scoped to the caller's jurisdiction),
so it is sent with ``Cache-Control: private, no-cache``: the browser keeps it but asks
again with ``If-None-Match``, and an unchanged layer costs a ``304`` with no body. The
ETag is a digest of the body itself, or, when the body depends only on a known version
(the road network's checksum, the newest jurisdiction change) and the query, of that key,
so a revalidation answers without building the layer at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

CACHE_CONTROL = "private, no-cache"
#: The identity a private response varies by besides the URL.
VARY = "Authorization, Cookie"


def dumps(payload: Any) -> bytes:
    """Compact JSON, as the API writes it (UTF-8, no spaces)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def etag_of(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return 'W/"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def not_modified(request: Request, etag: str) -> bool:
    asked = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*") for tag in asked.split(","))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}


def layer_response(request: Request, body: bytes, etag: str | None = None) -> Response:
    """``body`` as JSON with an ETag (its digest unless given), or a ``304``."""
    tag = etag or etag_of(body)
    if not_modified(request, tag):
        return Response(status_code=304, headers=_headers(tag))
    return Response(body, media_type="application/json", headers=_headers(tag))


class BodyCache:
    """Built bodies by key (a version plus the query), least recently used out first."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def respond(self, request: Request, key: str, build: Callable[[], Any]) -> Response:
        """Answer from the key alone when the caller has it, else from the cache or ``build``."""
        tag = etag_of(key)
        if not_modified(request, tag):
            return Response(status_code=304, headers=_headers(tag))
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
        if body is None:
            body = dumps(build())
            with self._lock:
                self.builds += 1
                self._items[key] = body
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return Response(body, media_type="application/json", headers=_headers(tag))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
