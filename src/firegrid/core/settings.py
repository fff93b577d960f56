"""One typed settings object, read from ``FIREGRID_*`` environment variables.

Settings are data: every field has a default and a description, and the same table is
rendered by ``firegrid settings --json``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "firegrid-demo-secret-change-me"  # noqa: S105 - refused in production


def default_data_dir() -> Path:
    """Return the per-user data directory that holds the default SQLite file."""
    return Path(user_data_dir("firegrid", appauthor=False))


def default_database_url() -> str:
    """Return the embedded default: a SQLite file under the user's data dir."""
    return f"sqlite:///{default_data_dir() / 'firegrid.db'}"


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def nats_servers(url: str) -> list[str]:
    """``FIREGRID_NATS_URL`` may list a cluster's servers, comma-separated; the client
    connects to any and reconnects to another when one fails."""
    return [part.strip() for part in url.split(",") if part.strip()]


class Settings(BaseSettings):
    """All runtime configuration of a firegrid process."""

    model_config = SettingsConfigDict(env_prefix="FIREGRID_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment mode; production refuses demo secrets."
    )
    database_url: str = Field(
        default_factory=default_database_url, description="SQLAlchemy database URL."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Directory for caches and files."
    )
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET), description="Key that signs access tokens."
    )
    metric_epsg: int = Field(4547, description="Metric CRS for distances (CGCS2000 zone).")
    city_code: str = Field("441900", description="Code of the city at the root of the tree.")
    log_level: str = Field("INFO", description="Logging level.")
    log_json: bool = Field(True, description="Log one JSON object per line.")
    access_token_ttl_s: int = Field(900, description="Lifetime of an access token.")
    refresh_token_ttl_s: int = Field(7 * 24 * 3600, description="Lifetime of a refresh token.")
    event_log: Literal["database", "jetstream"] = Field(
        "database", description="Event log backend: embedded database or NATS JetStream."
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS server(s) for JetStream; a cluster's servers comma-separated.",
    )
    event_replicas: int = Field(
        1, ge=1, le=5, description="Replicas of the JetStream event stream (3 on a 3-node cluster)."
    )
    # At most the travel-time engine's snapping limit (1000 m), beyond which the engine
    # skips a stored facility: an accepted facility must always be usable.
    facility_max_snap_m: float = Field(
        500.0,
        gt=0,
        le=1000.0,
        description=(
            "Farthest a new station, hydrant, logistics point or vehicle fix may lie from "
            "the nearest road node (metres); beyond it the API and the importers refuse it, "
            "and `roads import` reports the stored ones a new network leaves beyond it."
        ),
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=0, description="Largest request body of a JSON route (bytes)."
    )
    max_upload_body_bytes: int = Field(
        51 * 1024 * 1024,
        ge=0,
        description="Largest body of a file import upload (bytes; a 50 MiB file and its form).",
    )
    max_attachment_body_bytes: int = Field(
        11 * 1024 * 1024,
        ge=0,
        description="Largest body of a request carrying a photo (bytes; 10 MB photo and form).",
    )
    cjk_font: Path | None = Field(
        None,
        description="TrueType font (.ttf/.ttc) with Chinese glyphs embedded in printed PDFs "
        "(default: Debian's fonts-wqy-microhei, /usr/share/fonts/truetype/wqy/).",
    )
    max_push_body_bytes: int = Field(
        4 * 1024 * 1024 + 64 * 1024,
        ge=0,
        description="Largest body of a signed HTTP push batch (bytes).",
    )
    merge_rules: Path | None = Field(
        None,
        description="YAML file of the incident merge rules (default: the packaged "
        "dispatch/merge_rules.yaml).",
    )
    retention: Path | None = Field(
        None,
        description="YAML file of the record retention windows (default: the packaged "
        "retention/retention.yaml).",
    )
    risk_area_method: Path | None = Field(
        None,
        description="YAML file of the area risk method: indicators, anchors, AHP judgements, "
        "area thresholds (default: the packaged risk/area_indicators.yaml).",
    )
    risk_schedule: Path | None = Field(
        None,
        description="YAML file of the regular risk assessment schedules (default: the "
        "packaged risk/schedule.yaml).",
    )
    planning_siting_rules: Path | None = Field(
        None,
        description="YAML file of the siting rules for new stations (default: the packaged "
        "planning/siting_rules.yaml).",
    )
    planning_wind_from_deg: list[float] | None = Field(
        None,
        description="Prevailing winds (degrees blown from, JSON list) for the upwind siting "
        "rule; default: the siting rules' list (Dongguan: [22.5, 157.5], both monsoons).",
    )
    archive_dir: Path | None = Field(
        None, description="Where the retention job writes its archives (default: DATA_DIR/archive)."
    )
    commissioning_grace_s: float = Field(
        7 * 86400.0,
        ge=0,
        description="A device never heard from counts offline this long after its install date.",
    )
    warm_engine: bool = Field(
        True, description="Load the travel-time engine when the API starts (ready only then)."
    )
    event_stream: str = Field(
        "FIREGRID_EVENTS", description="JetStream stream of the event log (jetstream backend)."
    )
    metrics_listen: str = Field(
        "",
        description="HOST:PORT where `ingest run` and `alarms run` serve Prometheus /metrics "
        "(empty: off; the API serves GET /metrics itself).",
    )

    link110_peers: Path | None = Field(
        None,
        description="YAML file of the 110 link's peers, one per district 110 centre by town "
        "(default: the packaged interop/peers110.yaml); secrets come from the environment "
        "variables it names.",
    )
    link_ack_timeout_s: float = Field(
        30.0, gt=0, description="A message unacknowledged this long raises a link alert."
    )
    link_retry_base_s: float = Field(
        0.5, gt=0, description="First retry delay of a link message (doubles per attempt)."
    )
    link_retry_max_s: float = Field(30.0, gt=0, description="Longest retry delay of a message.")
    link_send_timeout_s: float = Field(
        5.0, gt=0, description="How long one delivery waits for the peer's acknowledgement."
    )
    link_replay_window_s: float = Field(
        300.0, gt=0, description="Signed link requests older or newer than this are refused."
    )
    link_probe_s: float = Field(
        2.0,
        gt=0,
        description="While a link peer answers nothing, one message probes it this often; "
        "the others wait without spending attempts until it answers.",
    )
    link_poll_s: float = Field(
        0.05, gt=0, description="How often an idle link worker looks for new changes."
    )
    link_lease_ttl_s: float = Field(
        15.0,
        gt=0,
        description="How long a link worker holds the link's lease without renewing it; "
        "another worker takes the link over after this once the holder stops.",
    )
    webhook_max_attempts: int = Field(
        8,
        ge=1,
        description="A webhook delivery failing this many attempts becomes a dead letter "
        "(an operator retries it with `firegrid sharing webhooks retry`).",
    )
    gridlink_peers: Path | None = Field(
        None,
        description="YAML file of the grid-platform link's peers (default: the packaged "
        "gridlink/peers.yaml); secrets come from the environment variables it names.",
    )
    map_tile_url: str = Field(
        "",
        description="XYZ tile URL template of an extra basemap layer in the console, e.g. "
        "https://tiles.example.org/{z}/{x}/{y}.png (empty: the platform's own basemap only; "
        "its host is added to the console's image CSP).",
    )
    map_tile_attribution: str = Field(
        "", description="Attribution shown with the FIREGRID_MAP_TILE_URL layer."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment)."""
    return Settings()
