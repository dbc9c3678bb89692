"""Calibrated thresholds kept in the repository's meta facts, per model stamp and scoring setup.

One JSON document under `CALIBRATION_KEY`: {model stamp: {scoring key: record}}. A damaged
document is reported and ignored (the settings' thresholds apply), never fatal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from app.domain.calibration import CalibrationRecord
from app.domain.retrieval_scoring import Thresholds
from app.interfaces.repository import Repository

CALIBRATION_KEY = "cbr_calibration"
logger = logging.getLogger(__name__)


def _document(repo: Repository) -> dict[str, dict[str, dict]]:
    raw = repo.get_meta(CALIBRATION_KEY)
    if not raw:
        return {}
    try:
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise TypeError(type(document).__name__)
        return document
    except (ValueError, TypeError) as exc:
        logger.warning("warning: ignoring damaged calibration (%s): run `calibrate` again", exc)
        return {}


def _record(data: dict) -> CalibrationRecord:
    return CalibrationRecord(**{**data, "thresholds": Thresholds(**data["thresholds"])})


def read_calibrations(repo: Repository, model_stamp: str | None) -> dict[str, CalibrationRecord]:
    """Records for `model_stamp`, keyed by scoring key."""
    stored = _document(repo).get(model_stamp or "", {})
    records = {}
    for key, data in stored.items():
        try:
            records[key] = _record(data)
        except (TypeError, KeyError) as exc:
            logger.warning("warning: ignoring damaged calibration for %s (%s)", key, exc)
    return records


def write_calibration(repo: Repository, model_stamp: str, record: CalibrationRecord) -> None:
    document = _document(repo)
    document.setdefault(model_stamp, {})[record.scoring_key] = asdict(record)
    repo.set_meta(CALIBRATION_KEY, json.dumps(document, sort_keys=True))


def clear_calibrations(repo: Repository, model_stamp: str) -> int:
    """Forget the records of `model_stamp`; returns how many there were."""
    document = _document(repo)
    dropped = len(document.pop(model_stamp, {}))
    repo.set_meta(CALIBRATION_KEY, json.dumps(document, sort_keys=True))
    return dropped
