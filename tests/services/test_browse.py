"""BrowseService: images by id only, and only files inside the allowed folders."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.domain.errors import ImageError, NotFound
from app.domain.models import ImageRecord
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.thumbnails import JpegThumbnailer
from app.services.browse import BrowseService
from conftest import write_product_photo


@pytest.fixture
def world(tmp_path):
    repo = SqlRepository(f"sqlite:///{tmp_path / 'app.db'}")
    products, outside = tmp_path / "products", tmp_path / "elsewhere"
    real = write_product_photo(outside / "real.jpg", (200, 30, 30), seed=1)
    (products / "shoe").mkdir(parents=True)
    (products / "shoe" / "linked.jpg").symlink_to(real)  # a catalogue of symlinks still works
    service = BrowseService(repo, [products], JpegThumbnailer(PreprocessOptions()))
    return repo, service, products, real


def _row(repo, path, product="shoe") -> int:
    (row,) = repo.upsert_images([ImageRecord(str(path), product, f"h{path}", 1)])
    return row.id


def test_thumbnail_of_a_catalogue_symlink(world):
    repo, service, products, _ = world
    image_id = _row(repo, products / "shoe" / "linked.jpg")
    thumb = service.thumbnail(image_id, 40)
    assert Image.open(io.BytesIO(thumb.data)).size == (40, 30)
    assert thumb.etag == service.etag(image_id, 40) != service.etag(image_id, 41)


@pytest.mark.parametrize("where", ["outside", "dotdot"])
def test_rows_pointing_outside_the_folders_are_not_found(world, where):
    repo, service, products, real = world
    path = real if where == "outside" else products / ".." / "elsewhere" / "real.jpg"
    image_id = _row(repo, path)
    with pytest.raises(NotFound, match=f"no image with id {image_id}"):
        service.thumbnail(image_id, 64)
    with pytest.raises(NotFound):
        service.thumbnail(image_id + 100, 64)


def test_images_of_a_class_are_listed_in_id_order_and_cut(world):
    repo, service, products, _ = world
    ids = [_row(repo, products / "shoe" / f"{i}.jpg") for i in range(3)]
    page = service.images("shoe", 2)
    assert page.total == 3 and [r.id for r in page.images] == ids[:2]


def test_a_missing_or_broken_file_is_named_by_id_not_path(world):
    repo, service, products, _ = world
    gone = _row(repo, products / "shoe" / "gone.jpg")
    with pytest.raises(NotFound, match=f"image {gone}: its file cannot be read"):
        service.thumbnail(gone, 64)
    (products / "shoe" / "bad.jpg").write_bytes(b"not an image at all")
    bad = _row(repo, products / "shoe" / "bad.jpg")
    with pytest.raises(ImageError) as caught:
        service.thumbnail(bad, 64)
    assert str(caught.value).startswith(f"image {bad}: not an image")
    assert str(products) not in str(caught.value)
