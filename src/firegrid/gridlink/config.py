"""The grid link's configuration: its peers (data) and delivery policy, from the settings."""

from __future__ import annotations

from pathlib import Path

from firegrid.core.settings import Settings
from firegrid.links.delivery import DeliveryPolicy
from firegrid.links.peers import LinkConfig, load_link_config

LINK = "gridlink"
PACKAGED_PEERS = Path(__file__).with_name("peers.yaml")


def link_config(settings: Settings) -> LinkConfig:
    return load_link_config(settings.gridlink_peers or PACKAGED_PEERS, settings)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy.from_settings(settings)
