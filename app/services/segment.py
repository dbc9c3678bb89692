"""Use case: cut the objects out of a gallery image and index each crop with its parent id."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.domain.choices import SegmentMode
from app.domain.errors import InvalidInput, NotFound
from app.domain.models import ImageRecord
from app.interfaces.detection import ObjectDetector
from app.interfaces.repository import Repository
from app.services.gallery import GalleryService


class SegmentService:
    def __init__(
        self,
        repository: Repository,
        gallery: GalleryService,
        detectors: Mapping[str, ObjectDetector],
        max_objects: int = 10,
    ) -> None:
        self._repo = repository
        self._gallery = gallery
        self._detectors = detectors
        self._max_objects = max_objects

    def segment(self, image_id: int, mode: str = SegmentMode.QUICK) -> list[ImageRecord]:
        """The new crop rows (product id, parent id and box), embedded and indexed."""
        detector = self._detectors.get(mode)
        if detector is None:
            raise InvalidInput(f"unknown mode {mode!r}: choose {', '.join(self._detectors)}")
        parent = self._repo.get_images([image_id]).get(image_id)
        if parent is None:
            raise NotFound(f"no image with id {image_id}")
        crops = detector.crops(Path(parent.path), self._max_objects)
        return self._gallery.add_crops(parent, crops)
