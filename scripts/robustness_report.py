"""Run the bad-input corpus, the SIGKILL crash loop, the many-writers rounds and the hard days (a
full disk, the database going away, hostile names); print a table: case, outcome, records lost.

    python scripts/robustness_report.py [--runs 20] [--seed 7] [--writer-rounds 5]

Needs the real photos in ../shared/data/clothing-small (the crash loop) and the packaged
efficientnet-lite0 model. The writers rows run real processes (API servers, uvicorn workers, CLI
processes) writing one gallery at random moments, with the thumbnail stand-in model; with
TEST_POSTGRES_URL set, also on PostgreSQL. Everything is written under a temporary folder. Exit
status 1 when a case failed or any record was lost.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain.models import SkippedFile
from tests.robustness.corpus import build_corpus
from tests.robustness.crashloop import CrashLoop, Outcome, photo_folder, settings_for
from tests.robustness.hard_days import database_down, disk_full, hostile_names
from tests.robustness.many_writers import audit, gallery, photo_pool, run_round
from tests.robustness.writers import writer_env

log = logging.getLogger("robustness_report")


def corpus_outcomes(work: Path) -> list[Outcome]:
    """Rebuild a folder of 8 real photos plus the whole corpus; one row per case."""
    products = photo_folder(work / "products", classes=2, per_class=4)
    good = {str(p) for p in products.rglob("*.jpg")}
    cases = build_corpus(products)
    from app.container import build_container

    container = build_container(settings_for(products, work / "state"))
    report = container.rebuild_service().run()
    rows = {r.path for r in container.repository().list_images() if r.embedding_model}
    skipped = {s.path: s for s in report.skipped}
    out = [
        Outcome("8 real photos", f"{len(good & rows)}/8 indexed", len(good - rows), good <= rows)
    ]
    for case in cases:
        out.append(_case_outcome(case, products, rows, skipped))
    return out


def _case_outcome(case, products: Path, rows: set[str], skipped: dict[str, SkippedFile]) -> Outcome:
    folder = f"/{case.product}/"
    line = next((s for p, s in skipped.items() if folder in p), None)
    indexed = any(folder in p for p in rows)
    if case.good:
        return Outcome(
            case.name, "indexed" if indexed else "NOT INDEXED", int(not indexed), indexed
        )
    if line is not None:
        name = Path(line.path).name
        return Outcome(case.name, f"skipped: {name}: {line.reason}", 0, not indexed)
    if indexed:  # e.g. a mode-000 file read by root
        return Outcome(case.name, "indexed (readable to this user)", 0, True)
    return Outcome(case.name, "ignored (no image file to read)", 0, True)


WRITER_CASES = {  # label -> (backend settings, run_round options, writer processes)
    "API + 2 CLI, SQLite + FAISS flat": ({}, {}, 3),
    "API + 2 CLI, SQLite + FAISS HNSW": ({"FAISS_INDEX": "hnsw"}, {}, 3),
    "API + 2 CLI, SQLite + memory store": ({"VECTOR_STORE": "memory"}, {}, 3),
    "2 uvicorn workers + CLI, SQLite + FAISS": ({}, {"workers": 2, "clis": 1, "http": 2}, 3),
    "2 API servers, SQLite + FAISS": ({}, {"apis": 2, "clis": 0, "http": 2}, 2),
    "2 CLI, one SIGKILLed, then rebuild": ({}, {"apis": 0, "http": 0, "kill": True}, 2),
}


def writer_outcomes(work: Path, rounds: int) -> list[Outcome]:
    """One row per combination of writers and back ends: rounds, acknowledged writes, lost."""
    cases = dict(WRITER_CASES)
    if os.environ.get("TEST_POSTGRES_URL"):
        pg = {"DATABASE_URL": os.environ["TEST_POSTGRES_URL"]}
        cases["API + 2 CLI, PostgreSQL + FAISS"] = (pg, {}, 3)
    photos = photo_pool(work / "photos")
    rows = []
    for n, (label, (backend, options, writers)) in enumerate(cases.items()):
        (work / f"products{n}").mkdir()
        env = writer_env(work / f"state{n}", work / f"products{n}", **backend)
        acknowledged = lost = failed = 0
        for seed in range(1, rounds + 1):
            done = run_round(env, photos, seed, **options)
            if options.get("kill"):
                lost += audit(env, done).lost
                gallery(env).rebuild_service().run()
            found = audit(env, done)
            acknowledged += done.writes
            lost += found.lost
            failed += len(done.failures) + found.orphans + found.unindexed
        what = (
            f"{writers} writers, {rounds} rounds, {acknowledged} acknowledged, "
            f"index {found.vectors} = db {found.rows}"
            if failed == 0
            else f"{failed} FAILED"
        )
        rows.append(Outcome(f"writers: {label}", what, lost, failed == 0 and not lost))
    return rows


def table(rows: list[Outcome]) -> str:
    width = max(len(r.case) for r in rows)
    owidth = max(len(r.outcome) for r in rows)
    lines = [f"{'case':<{width}}  {'outcome':<{owidth}}  records lost", "-" * (width + owidth + 16)]
    lines += [f"{r.case:<{width}}  {r.outcome:<{owidth}}  {r.records_lost}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="rebuilds to kill (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the kill delays")
    parser.add_argument(
        "--writer-rounds", type=int, default=5, help="rounds of each many-writers case (default 5)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="robustness-") as tmp:
        work = Path(tmp)
        rows = corpus_outcomes(work / "corpus")
        rows += CrashLoop(work / "crash", runs=args.runs, seed=args.seed).run(log.info)
        rows += writer_outcomes(work / "writers", args.writer_rounds)
        rows += [
            disk_full(work / "disk"),
            database_down(work / "db"),
            hostile_names(work / "names"),
        ]
    sys.stdout.write(table(rows) + "\n")
    failed = [r for r in rows if not r.ok or r.records_lost]
    lost = sum(r.records_lost for r in rows)
    sys.stdout.write(f"\n{len(rows)} cases, {len(failed)} failed, {lost} records lost\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
