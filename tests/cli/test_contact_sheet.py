"""`query --show`: a readable grid, the query framed apart from the hits."""

from __future__ import annotations

from PIL import Image

from app.cli.contact_sheet import PER_ROW, TILE, render_contact_sheet
from app.domain.models import QueryResult, SearchHit
from conftest import write_product_photo


def _result(tmp_path, name: str, k: int) -> QueryResult:
    query = write_product_photo(tmp_path / f"{name}.jpg", (200, 200, 40), seed=99)
    hits = [
        SearchHit(n + 1, 0.9 - n / 100, n + 1, f"product-{n}",
                  str(write_product_photo(tmp_path / name / f"{n}.jpg", (30, 60, 200), seed=n)))
        for n in range(k)
    ]  # fmt: skip
    return QueryResult(str(query), hits)


def test_k32_is_a_grid_not_a_row(tmp_path):
    sheet = render_contact_sheet([_result(tmp_path, "q", 32)], tmp_path / "sheet.png")
    with Image.open(sheet) as image:
        rows = -(-32 // PER_ROW)
        assert image.width < (PER_ROW + 2) * (TILE + 20)
        assert image.height >= rows * TILE
        assert image.width / image.height < 2.5


def test_query_is_framed_apart_from_the_hits(tmp_path):
    sheet = render_contact_sheet([_result(tmp_path, "q", 3)], tmp_path / "sheet.png")
    with Image.open(sheet) as image:
        r, g, b = image.convert("RGB").getpixel((16, 16))  # inside the query's frame
        assert r > 180 and g < 80 and b < 80


def test_several_queries_stack(tmp_path):
    one = render_contact_sheet([_result(tmp_path, "a", 4)], tmp_path / "one.png")
    two = render_contact_sheet(
        [_result(tmp_path, "a", 4), _result(tmp_path, "b", 4)], tmp_path / "two.png"
    )
    with Image.open(one) as first, Image.open(two) as second:
        assert second.height > 1.8 * first.height and second.width == first.width
