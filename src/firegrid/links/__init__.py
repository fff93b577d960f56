"""A generic peer link: peers as configuration, a transactional outbox with an at-least-once
delivery worker (idempotency key per message, order per key, retries with back-off, an
acknowledgement timeout that raises a link alert, dead letters an operator can retry),
inbound dedupe by the peer's message id, HMAC-SHA256 signing with a replay window, and the
link's health figures.

Nothing here knows what travels over a link: a context (``interop/`` for the 110 link)
writes messages with :func:`enqueue` and handles what arrives. Public API below; two more
public modules are imported on their own, so that the API and the workers load neither typer
nor the simulator: :mod:`firegrid.links.commands` (what every link's CLI shares) and
:mod:`firegrid.links.simulator` (what every simulated peer shares).
"""

from firegrid.links.health import link_health
from firegrid.links.inbox import claim_inbound, inbound_result, store_inbound_result
from firegrid.links.outbox import dead_letters, enqueue, retry_dead_letter
from firegrid.links.peers import LinkConfig, Peer, app_link_config, load_link_config
from firegrid.links.signing import SignatureError, sign, signed_headers, verify

__all__ = [
    "LinkConfig",
    "Peer",
    "SignatureError",
    "app_link_config",
    "claim_inbound",
    "dead_letters",
    "enqueue",
    "inbound_result",
    "link_health",
    "load_link_config",
    "retry_dead_letter",
    "sign",
    "signed_headers",
    "store_inbound_result",
    "verify",
]
