"""The 110 link's configuration: its peers (data), delivery policy and agency names, from
the settings."""

from __future__ import annotations

from pathlib import Path

from firegrid.core.settings import Settings
from firegrid.interop.eido import Agency
from firegrid.links.delivery import DeliveryPolicy
from firegrid.links.peers import LinkConfig, Peer, load_link_config

LINK = "link110"
PACKAGED_PEERS = Path(__file__).with_name("peers110.yaml")


def link_config(settings: Settings) -> LinkConfig:
    return load_link_config(settings.link110_peers or PACKAGED_PEERS, settings)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy.from_settings(settings)


def owner_agency(settings: Settings) -> Agency:
    """The fire command centre (119) of the city, as EIDO names it."""
    return Agency(
        id=f"fire119.{settings.city_code}.firegrid",
        roles=("CallReceiving", "Dispatching"),
        types=("fire",),
        owning=True,
    )


def peer_agency(peer: Peer, *, transfer: bool = False) -> Agency:
    """The district 110 centre: informed of every incident, or the one transferred to."""
    return Agency(
        id=f"{peer.id}.police110",
        roles=("TransferredTo",) if transfer else ("Informational",),
        types=("police",),
    )


def issuing_element(settings: Settings) -> str:
    return f"firegrid.{settings.city_code}"
