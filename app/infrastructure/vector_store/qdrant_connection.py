"""Building a qdrant-client: a server (url + api key) or the embedded local mode (a folder).

This is the only place where the server and the local mode differ; every other call is the same.
qdrant_client is imported on first use. Local mode locks its folder, so one client per folder is
shared by every store of this process (and released when the last one is gone).
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.errors import BackendUnavailable, IndexNotReady

MEMORY = ":memory:"
# The local mode is exact and has no payload indexes: it says so on every such call.
_LOCAL_MODE_NOTICES = (
    "Payload indexes have no effect in the local Qdrant",
    "Local mode performs exact",
)
_local_clients: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_local_lock = threading.Lock()
_MISSING_COLLECTION = re.compile(r"Collection .* not found")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QdrantOptions:
    """Where Qdrant is and how collections are made (QDRANT_* settings)."""

    url: str | None = None  # a server or cluster: http(s)://host:6333
    api_key: str | None = None
    path: Path | str | None = None  # local mode folder (":memory:" or None: in memory)
    collection_prefix: str = "img_recog"
    on_disk: bool = False  # vectors and payloads on disk (memory-mapped) instead of in RAM
    hnsw_m: int = 32
    ef_construction: int = 128
    ef_search: int = 128
    batch_size: int = 256  # points per upsert request
    timeout: int = 30  # seconds per request

    @property
    def where(self) -> str:
        return self.url or f"local folder {self.path or MEMORY}"


def qdrant_models() -> Any:
    try:
        from qdrant_client import models
    except ImportError as exc:
        raise BackendUnavailable(
            f"qdrant-client is not installed ({exc}): pip install qdrant-client"
        ) from exc
    return models


def open_client(options: QdrantOptions) -> Any:
    """A client for the server named by `options.url`, else the local mode in `options.path`."""
    qdrant_models()
    from qdrant_client import QdrantClient

    if options.url:
        with translated_errors(options):
            return QdrantClient(
                url=options.url,
                api_key=options.api_key,
                timeout=options.timeout,
                check_compatibility=False,  # a request at start-up; the README names the versions
            )
    for notice in _LOCAL_MODE_NOTICES:
        warnings.filterwarnings("ignore", message=notice, category=UserWarning)
    location = str(options.path or MEMORY)
    if location == MEMORY:
        return QdrantClient(location=MEMORY)
    folder = Path(location).expanduser().resolve()
    with _local_lock:
        client = _local_clients.get(str(folder))
        if client is None:
            folder.mkdir(parents=True, exist_ok=True)
            try:
                client = QdrantClient(path=str(folder))
            except RuntimeError as exc:  # the folder is locked by another process
                raise BackendUnavailable(
                    f"Qdrant local folder {folder} is in use by another process ({exc}); "
                    "several processes need a Qdrant server (QDRANT_URL)"
                ) from exc
            if not _local_clients:
                atexit.register(_close_local_clients)
            _local_clients[str(folder)] = client
        return client


def _close_local_clients() -> None:
    """Release local folders before the interpreter tears modules down."""
    for client in list(_local_clients.values()):
        client.close()


@contextmanager
def translated_errors(options: QdrantOptions) -> Iterator[None]:
    """Connection and server errors become BackendUnavailable, naming the server; a collection
    that vanished (dropped by a newer rebuild elsewhere) becomes IndexNotReady."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    try:
        yield
    except (UnexpectedResponse, ValueError) as exc:
        status = getattr(exc, "status_code", None)
        if status == 404 or (status is None and _MISSING_COLLECTION.search(str(exc))):
            raise IndexNotReady(
                f"Qdrant collection missing at {options.where} ({exc}); a newer rebuild may have "
                "replaced it: restart to load the current index, or run `rebuild`"
            ) from exc
        if status is None:
            raise
        raise _unavailable(options, exc) from exc
    except (ResponseHandlingException, ConnectionError, TimeoutError) as exc:
        raise _unavailable(options, exc) from exc


def _unavailable(options: QdrantOptions, exc: Exception) -> BackendUnavailable:
    """The answer names no address (API answers must not show it); the log does."""
    logger.warning("Qdrant at %s unavailable: %s", options.where, exc)
    return BackendUnavailable(
        f"Qdrant unavailable ({type(exc).__name__}); the server log names the address"
    )
