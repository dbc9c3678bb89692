"""Port: metadata of gallery images (one row per image) and a few key/value facts."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Protocol

from app.domain.gallery import Removals
from app.domain.models import ImageRecord


class Repository(Protocol):
    """Contract.

    - One row per image path. `upsert_images` inserts new paths and updates existing ones (matched
      by path) in ONE transaction and returns the records with their ids, in input order.
    - `image_ids(products, under)` lists the ids of the images of these product ids (None: any)
      whose folder is `under` or lies below it (None: any folder), in id order.
    - `get_images(ids)` returns the records found, keyed by id; unknown ids are absent.
    - `delete_images(ids)` removes rows; unknown ids are ignored.
    - `unstamp_images(ids)` clears the rows' embedding stamp (their vectors are about to be
      removed: a row is stamped only while its vector is in the saved index); unknown ids are
      ignored.
    - `list_images()` lists every row in id order; `list_images(product_id)` only the rows of
      that product id (class).
    - `restore_images(records)` inserts records that carry ids, keeping them (moving a catalogue
      to another database: the vector store is keyed by these ids); later inserts get new ids.
    - `product_counts()` maps each product id to its number of images;
      `source_counts()` maps each product id to its number of images per source
      ("catalogue", "example"), sources without images left out.
    - Removals: `mark_class_removed(name)` and `mark_images_removed(records)` remember what the
      class commands took out of the gallery, `removals()` returns it (`removals(name)`: only
      the marks of that class and of its images), and `clear_removals(name)` forgets the class
      and the images of that class.
    - `set_meta` / `get_meta` keep small string facts (e.g. time of the last rebuild);
      `all_meta()` returns them all.
    - Every method is its own unit of work: committed on return, rolled back on error.
    """

    def list_images(self, product_id: str | None = None) -> list[ImageRecord]: ...

    def image_ids(
        self, products: Collection[str] | None = None, under: str | None = None
    ) -> list[int]: ...

    def get_images(self, ids: Iterable[int]) -> dict[int, ImageRecord]: ...

    def upsert_images(self, records: list[ImageRecord]) -> list[ImageRecord]: ...

    def restore_images(self, records: list[ImageRecord]) -> None: ...

    def delete_images(self, ids: Iterable[int]) -> None: ...

    def unstamp_images(self, ids: Iterable[int]) -> None: ...

    def count_images(self, embedding_model: str | None = None) -> int: ...

    def product_counts(self) -> dict[str, int]: ...

    def source_counts(self) -> dict[str, dict[str, int]]: ...

    def mark_class_removed(self, class_name: str) -> None: ...

    def mark_images_removed(self, records: list[ImageRecord]) -> None: ...

    def clear_removals(self, class_name: str) -> None: ...

    def removals(self, class_name: str | None = None) -> Removals: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def get_meta(self, key: str) -> str | None: ...

    def all_meta(self) -> dict[str, str]: ...
