"""API shapes of the risk context (request bodies; responses are the services' dicts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RunIn(BaseModel):
    """Start an assessment run (synchronous: the response is the run's summary)."""

    model: str = Field("expert-ahp", min_length=1, max_length=64, description="Risk model name.")


class RescoreIn(BaseModel):
    """Re-score one venue after a change, with the latest run's frozen normalisation."""

    cause: str = Field(
        ..., min_length=1, max_length=500, description="What changed (recorded with the score)."
    )
