"""Use case: cut the objects out of a gallery image and index each crop with its parent id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.domain.choices import SegmentMode
from app.domain.errors import InvalidInput, NotFound
from app.domain.models import ImageRecord
from app.interfaces.detection import ObjectDetector
from app.interfaces.repository import Repository
from app.services.gallery import GalleryService


@dataclass(eq=False)
class SegmentService:
    repository: Repository
    gallery: GalleryService
    detectors: Mapping[str, ObjectDetector]
    max_objects: int = 10

    def segment(self, image_id: int, mode: str = SegmentMode.QUICK) -> list[ImageRecord]:
        """The new crop rows (product id, parent id and box), embedded and indexed."""
        detector = self.detectors.get(mode)
        if detector is None:
            raise InvalidInput(f"unknown mode {mode!r}: choose {', '.join(self.detectors)}")
        parent = self.repository.get_images([image_id]).get(image_id)
        if parent is None:
            raise NotFound(f"no image with id {image_id}")
        crops = detector.crops(Path(parent.path), self.max_objects)
        return self.gallery.add_crops(parent, crops)
