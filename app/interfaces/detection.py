"""Port: find the objects in a photo, for object crops (`POST /segment/{image_id}`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from app.domain.models import Crop


class ObjectDetector(Protocol):
    """Contract: `crops(path)` decodes the image (ImageError for bad input) and returns up to
    `max_objects` crops, largest or most confident first, each with its box in the original
    image's pixels and the cut-out as PNG bytes. An image with no separable object gives []."""

    def crops(self, path: Path, max_objects: int = 10) -> list[Crop]: ...
