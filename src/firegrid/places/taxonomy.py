"""The venue category taxonomy, loaded from ``taxonomy.yaml`` (data, not code)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import yaml
from pydantic import BaseModel, Field, model_validator

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode


class VenueClass(BaseModel):
    name_zh: str
    name_en: str


class VenueCategory(BaseModel):
    name_zh: str
    name_en: str
    venue_class: str = Field(alias="class")
    key_unit_default: bool = False


class Taxonomy(BaseModel):
    version: int
    classes: dict[str, VenueClass]
    categories: dict[str, VenueCategory]

    @model_validator(mode="after")
    def _classes_exist(self) -> Taxonomy:
        for code, category in self.categories.items():
            if category.venue_class not in self.classes:
                raise ValueError(f"category {code!r} names unknown class {category.venue_class!r}")
        return self

    def category(self, code: str) -> VenueCategory:
        try:
            return self.categories[code]
        except KeyError:
            raise ValidationFailed(
                f"unknown venue category {code!r}",
                {"known": sorted(self.categories)},
                text=TextCode.PLACE_UNKNOWN_CATEGORY,
                params={"category": code},
            ) from None

    def codes_of_class(self, venue_class: str) -> list[str]:
        return [c for c, cat in self.categories.items() if cat.venue_class == venue_class]

    def is_three_small(self, code: str) -> bool:
        return self.category(code).venue_class == "three_small"

    def is_rental(self, code: str) -> bool:
        return self.category(code).venue_class == "rental_housing"


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """Load the packaged taxonomy (validated)."""
    text = (files("firegrid.places") / "taxonomy.yaml").read_text(encoding="utf-8")
    return Taxonomy.model_validate(yaml.safe_load(text))
