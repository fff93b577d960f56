"""Peers as configuration: a YAML document per link names each peer, where to send, which
towns it serves and the environment variable holding its shared secret (never the secret).

```yaml
link: link110
local_id: firegrid     # how the peers know us (optional)
peers:
  - id: dg110
    name: Dongguan 110 command centre
    url: http://127.0.0.1:8110/eido
    secret_env: FIREGRID_LINK110_SECRET_DG110
    towns: ["*"]          # town codes (the second level of the tree); "*" any town
```

A message goes to the peer serving the town of the incident (the most specific entry
wins: a listed town before ``*``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Found, Problem, first_of
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode

_PEER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Peer:
    id: str
    name: str
    url: str
    secret_env: str
    towns: tuple[str, ...]
    secret: bytes = field(repr=False, default=b"")

    def serves(self, town_code: str) -> bool:
        return town_code in self.towns or "*" in self.towns


@dataclass(frozen=True)
class LinkConfig:
    link: str
    peers: tuple[Peer, ...]
    local_id: str = "firegrid"  # how the peers know us (the X-Link-Peer we send)

    def peer(self, peer_id: str) -> Peer | None:
        return next((p for p in self.peers if p.id == peer_id), None)

    def peer_for_path(self, jurisdiction_path: str) -> Peer | None:
        """The peer serving the town of ``jurisdiction_path`` (``/city/town/...``)."""
        parts = [p for p in jurisdiction_path.split("/") if p]
        town = parts[1] if len(parts) > 1 else ""
        exact = [p for p in self.peers if town and town in p.towns]
        if exact:
            return exact[0]
        return next((p for p in self.peers if "*" in p.towns), None)


def peer_secret(settings: Settings, link: str, peer_id: str, secret_env: str) -> bytes:
    """The shared secret of a peer: its environment variable, or outside production a key
    derived from the deployment's secret key (so a demo needs no set-up)."""
    value = os.environ.get(secret_env, "") if secret_env else ""
    if value:
        return value.encode()
    if settings.is_production:
        raise ValidationFailed(
            f"peer {peer_id!r} of link {link!r} has no secret: set {secret_env}",
            {"peer": peer_id, "secret_env": secret_env},
            text=TextCode.LINK_PEER_NO_SECRET,
            params={"peer": peer_id, "secret_env": secret_env},
        )
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"link:{link}:{peer_id}".encode(), hashlib.sha256).hexdigest().encode()


#: the parameters of a list that must hold at least one item
_ONE = {"min_length": 1}


def parse_link_config(document: Any, settings: Settings, source: str) -> LinkConfig:
    """Check a whole document, naming every problem, and build the configuration."""
    problems: list[Found] = []
    if not isinstance(document, dict):
        raise ValidationFailed(
            f"{source}: a link configuration is a mapping",
            {"file": source},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "link_configuration", "field": "", "problem": Problem.NOT_MAPPING},
        )
    link = document.get("link")
    if not isinstance(link, str) or not link:
        problems.append(Found("link", Problem.MISSING, "link: a name is required"))
    raw_peers = document.get("peers")
    if not isinstance(raw_peers, list) or not raw_peers:
        problems.append(
            Found("peers", Problem.TOO_SHORT, "peers: a non-empty list is required", _ONE)
        )
        raw_peers = []
    peers: list[Peer] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_peers):
        where = f"peers[{index}]"
        if not isinstance(raw, dict):
            problems.append(Found(where, Problem.NOT_MAPPING, f"{where}: a mapping is required"))
            continue
        peer_id = str(raw.get("id", ""))
        url = str(raw.get("url", ""))
        towns = raw.get("towns", [])
        if not _PEER_ID.match(peer_id):
            message = f"{where}.id: lower-case letters, digits, '-' or '_' ({peer_id!r})"
            problems.append(Found(f"{where}.id", Problem.NOT_SLUG, message, {"value": peer_id}))
        elif peer_id in seen:
            message = f"{where}.id: {peer_id!r} appears twice"
            problems.append(Found(f"{where}.id", Problem.DUPLICATE, message, {"value": peer_id}))
        seen.add(peer_id)
        if not url.startswith(("http://", "https://")):
            message = f"{where}.url: an http(s) URL is required ({url!r})"
            problems.append(Found(f"{where}.url", Problem.NOT_HTTP_URL, message, {"value": url}))
        if not isinstance(towns, list) or not towns or not all(isinstance(t, str) for t in towns):
            message = f"{where}.towns: a non-empty list of town codes (or '*')"
            problems.append(Found(f"{where}.towns", Problem.TOO_SHORT, message, _ONE))
            towns = []
        secret_env = str(raw.get("secret_env", ""))
        peers.append(
            Peer(
                id=peer_id,
                name=str(raw.get("name", peer_id)),
                url=url,
                secret_env=secret_env,
                towns=tuple(towns),
            )
        )
    if problems:
        raise ValidationFailed(
            f"{source}: invalid link configuration",
            {"problems": [p.message for p in problems], "codes": [p.as_dict() for p in problems]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "link_configuration", **first_of(problems)},
        )
    assert isinstance(link, str)
    with_secrets = tuple(
        Peer(
            p.id,
            p.name,
            p.url,
            p.secret_env,
            p.towns,
            peer_secret(settings, link, p.id, p.secret_env),
        )
        for p in peers
    )
    local_id = str(document.get("local_id", "firegrid"))
    return LinkConfig(link=link, peers=with_secrets, local_id=local_id)


def load_link_config(path: Path, settings: Settings) -> LinkConfig:
    """Read and check the link configuration in ``path``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValidationFailed(
            f"cannot read the link configuration {path}: {err}",
            {"file": str(path)},
            text=TextCode.FILE_UNREADABLE,
            params={"file": str(path)},
        ) from err
    return parse_link_config(document, settings, str(path))


def app_link_config(
    app_state: Any, name: str, load: Callable[[Settings], LinkConfig]
) -> LinkConfig:
    """A link's configuration for an app: ``load`` from the app's settings the first time,
    then kept on the app's state as ``name`` (read once per app)."""
    config: LinkConfig | None = getattr(app_state, name, None)
    if config is None:
        config = load(app_state.settings)
        setattr(app_state, name, config)
    return config
