"""Errors of the risk-assessment engine.

All of them are :class:`firegrid.core.errors.DomainError` subclasses, so the API and CLI
report them with the platform's one error envelope.
"""

from __future__ import annotations

from typing import Any

from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode


class RiskError(ValidationFailed):
    """Base of the risk engine's errors."""

    code = "risk_error"


class CatalogueInvalid(RiskError):
    """The indicator catalogue (or a model defined in it) is not valid.

    ``indicator`` and ``field`` name the offending entry when the error is about one.
    """

    code = "catalogue_invalid"

    def __init__(
        self,
        message: str,
        *,
        indicator: str | None = None,
        field: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(
            message,
            details,
            text=TextCode.RISK_CATALOGUE_INVALID,
            params={"indicator": indicator or "", "field": field or ""},
        )
        self.indicator = indicator
        self.field = field


class InconsistentJudgements(RiskError):
    """An AHP pairwise comparison matrix has a consistency ratio above the limit (0.1)."""

    code = "inconsistent_judgements"

    def __init__(self, message: str, *, cr: float, matrix_name: str = "") -> None:
        super().__init__(
            message,
            {"cr": cr, "matrix": matrix_name},
            text=TextCode.RISK_INCONSISTENT,
            params={"matrix": matrix_name, "cr": round(cr, 3)},
        )
        self.cr = cr
        self.matrix_name = matrix_name


class NotReciprocal(RiskError):
    """An AHP pairwise comparison matrix is not reciprocal (a_ji != 1 / a_ij)."""

    code = "not_reciprocal"
    default_text = TextCode.RISK_MATRIX_INVALID


class InputContractError(RiskError):
    """An input DataFrame does not follow the documented contract (missing column, bad type)."""

    code = "risk_input_invalid"
    default_text = TextCode.RISK_INPUT_INVALID


class UnknownModel(NotFound):
    """No risk model of that name is defined in the catalogue."""

    code = "unknown_risk_model"


class UnknownVenue(NotFound):
    """The venue is not part of the assessment run."""

    code = "unknown_venue"
