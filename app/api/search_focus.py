"""The focused-search fields of POST /search (filters, one hit per product, cut-off)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form

from app.domain.search_filters import Cutoff, Focus, SearchOptions

Names = Annotated[list[str] | None, Form(description="product ids")]


@dataclass(frozen=True)
class FocusForm:
    products: list[str] | None
    exclude_products: list[str] | None
    under: str | None
    distinct_products: bool
    min_score: float | None
    relative: float | None

    def options(self) -> SearchOptions:
        return SearchOptions(
            focus=Focus(tuple(self.products or ()), tuple(self.exclude_products or ()), self.under),
            distinct_products=self.distinct_products,
            cutoff=Cutoff(self.min_score, self.relative),
        )


def focus_form(
    *,
    products: Names = None,
    exclude_products: Names = None,
    under: Annotated[str | None, Form(max_length=1000, description="a products sub-folder")] = None,
    distinct_products: Annotated[bool, Form()] = False,
    min_score: Annotated[float | None, Form(description="drop hits worse than this")] = None,
    relative: Annotated[
        float | None, Form(ge=0, description="keep hits within this of the best")
    ] = None,
) -> FocusForm:
    return FocusForm(products, exclude_products, under, distinct_products, min_score, relative)
