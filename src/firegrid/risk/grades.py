"""Risk grades (分色预警: 红 橙 黄 蓝) and the grid programme's three-colour warning.

Thresholds, labels and the mapping to three colours are data (the catalogue's ``grades``
section, optionally overridden per model). A score ``>= thresholds["red"]`` is red, else
``>= orange`` is orange, else ``>= yellow`` is yellow, else blue. Default mapping to the
smart-grid programme's three colours: red and orange → red, yellow → yellow, blue → green.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

#: Grades from most to least severe.
GRADES: tuple[str, ...] = ("red", "orange", "yellow", "blue")
THREE_COLOURS: tuple[str, ...] = ("red", "yellow", "green")
GRADE_ZH: dict[str, str] = {"red": "重大", "orange": "较大", "yellow": "一般", "blue": "低"}

GradeEnum = pl.Enum(list(GRADES))
ThreeColourEnum = pl.Enum(list(THREE_COLOURS))


@dataclass(frozen=True)
class GradeScheme:
    """Score thresholds per grade, labels, and the three-colour mapping."""

    red: float = 60.0
    orange: float = 48.0
    yellow: float = 36.0
    labels_zh: Mapping[str, str] = field(default_factory=lambda: dict(GRADE_ZH))
    labels_en: Mapping[str, str] = field(
        default_factory=lambda: {
            "red": "major",
            "orange": "considerable",
            "yellow": "general",
            "blue": "low",
        }
    )
    three_colour: Mapping[str, str] = field(
        default_factory=lambda: {"red": "red", "orange": "red", "yellow": "yellow", "blue": "green"}
    )

    def __post_init__(self) -> None:
        if not self.red > self.orange > self.yellow:
            raise ValueError("grade thresholds must satisfy red > orange > yellow")

    @property
    def thresholds(self) -> dict[str, float]:
        return {"red": self.red, "orange": self.orange, "yellow": self.yellow}

    def lower_bound(self, grade: str) -> float:
        """The lowest score that still has ``grade`` (0 for blue)."""
        return {"red": self.red, "orange": self.orange, "yellow": self.yellow, "blue": 0.0}[grade]

    def grade_of(self, score: float) -> str:
        if score >= self.red:
            return "red"
        if score >= self.orange:
            return "orange"
        if score >= self.yellow:
            return "yellow"
        return "blue"

    def grade_codes(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
        """Grade index into :data:`GRADES` (0 = red … 3 = blue), vectorised."""
        codes = np.full(scores.shape, 3, dtype=np.int8)
        codes[scores >= self.yellow] = 2
        codes[scores >= self.orange] = 1
        codes[scores >= self.red] = 0
        return codes

    def grade_series(self, scores: npt.NDArray[np.float64]) -> pl.Series:
        codes = self.grade_codes(scores)
        return pl.Series("grade", np.asarray(GRADES)[codes], dtype=GradeEnum)

    def three_colour_series(self, grades: pl.Series) -> pl.Series:
        return (
            grades.cast(pl.String)
            .replace_strict(dict(self.three_colour))
            .cast(ThreeColourEnum)
            .alias("three_colour")
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "thresholds": self.thresholds,
            "labels_zh": dict(self.labels_zh),
            "labels_en": dict(self.labels_en),
            "three_colour": dict(self.three_colour),
        }
