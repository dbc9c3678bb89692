"""Background jobs (a rebuild started over HTTP) and their progress, for `GET /jobs/{id}`."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from app.disk_space import is_no_space, no_space_message
from app.domain.errors import Conflict, ImgRecogError, NotFound

logger = logging.getLogger(__name__)


@dataclass
class Job:
    id: str
    kind: str
    status: str = "queued"  # queued | running | done | failed
    total: int = 0
    done: int = 0
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["progress"] = round(self.done / self.total, 4) if self.total else None
        return data


class _JobBar:
    """A tqdm-like bar that writes into the job (what the services' progress factory makes)."""

    def __init__(self, job: Job, total: int) -> None:
        self._job = job
        job.total, job.done = total, 0

    def update(self, n: int = 1) -> None:
        self._job.done += n

    def close(self) -> None:
        return None


class JobRegistry:
    """Runs one job of a kind at a time in a thread; remembers the last `keep` jobs."""

    def __init__(self, keep: int = 100) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def start(self, kind: str, work: Callable[[Callable[..., _JobBar]], dict[str, Any]]) -> Job:
        with self._lock:
            if any(
                j.kind == kind and j.status in ("queued", "running") for j in self._jobs.values()
            ):
                raise Conflict(f"a {kind} job is already running")
            job = Job(id=uuid.uuid4().hex, kind=kind)
            self._jobs[job.id] = job
            self._trim()
        threading.Thread(target=self._run, args=(job, work), daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id}")
        return job

    def recent(self, kind: str | None = None, limit: int = 10) -> list[Job]:
        """The latest `limit` jobs (of `kind`, when given), newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if kind is None or j.kind == kind]
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)[:limit]

    def _run(self, job: Job, work) -> None:
        job.status = "running"
        try:
            job.result = work(lambda *, total, desc: _JobBar(job, total))
            job.status = "done"
        except ImgRecogError as exc:
            job.status, job.error = "failed", str(exc)
        except OSError as exc:
            job.status, job.error = "failed", _os_error_text(exc)
        except Exception as exc:  # a background thread must record, not lose, any failure
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished_at = time.time()

    def _trim(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished_at is not None]
        for job in sorted(finished, key=lambda j: j.finished_at or 0)[: -self._keep or None]:
            if len(self._jobs) <= self._keep:
                break
            del self._jobs[job.id]


def _os_error_text(exc: OSError) -> str:
    """A full disk named as such; other OS errors by kind (details go to the server log)."""
    if is_no_space(exc):
        return no_space_message(exc.filename)
    logger.error("background job failed", exc_info=exc)
    return f"{type(exc).__name__}: {exc.strerror or 'operating system error'}"
