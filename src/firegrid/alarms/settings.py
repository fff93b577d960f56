"""Settings of the monitoring centre, read from ``FIREGRID_ALARMS_*`` variables.

Listed by ``firegrid settings`` with the core settings (see ``CONTEXT_SETTINGS`` in
:mod:`firegrid.cli`).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlarmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREGRID_ALARMS_", extra="ignore")

    webhook_url: str = Field("", description="Webhook receiving alarm notifications.")
    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC key of the webhook.")
    file_channels: str = Field("email,sms", description="Channels written as JSON lines.")
    backlog_linger_s: float = Field(
        0.1,
        ge=0,
        le=5.0,
        description="Fault and analog traffic is correlated once its first event has waited "
        "this long or 200 events wait (fires never wait): a steady trickle costs one "
        "transaction per interval, not one per event (0: at once).",
    )
