"""Run the bad-input corpus and the SIGKILL crash loop; print a table: case, outcome, records lost.

    python scripts/robustness_report.py [--runs 20] [--seed 7]

Needs the real photos in ../shared/data/clothing-small (the crash loop) and the packaged
efficientnet-lite0 model. Everything is written under a temporary folder. Exit status 1 when a
case failed or any record was lost.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain.models import SkippedFile
from tests.robustness.corpus import build_corpus
from tests.robustness.crashloop import CrashLoop, Outcome, photo_folder, settings_for

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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="robustness-") as tmp:
        work = Path(tmp)
        rows = corpus_outcomes(work / "corpus")
        rows += CrashLoop(work / "crash", runs=args.runs, seed=args.seed).run(log.info)
    sys.stdout.write(table(rows) + "\n")
    failed = [r for r in rows if not r.ok or r.records_lost]
    lost = sum(r.records_lost for r in rows)
    sys.stdout.write(f"\n{len(rows)} cases, {len(failed)} failed, {lost} records lost\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
