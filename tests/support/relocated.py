"""Settings whose state (index, database, examples) lives in another folder."""

from __future__ import annotations

from pathlib import Path


def state_in(settings, folder: Path):
    """`settings` with the index, the SQLite database and the examples under `folder`."""
    return settings.model_copy(
        update={
            "index_dir": folder / "index",
            "database_url": f"sqlite:///{folder / 'app.db'}",
            "examples_dir": folder / "examples",
        }
    )
