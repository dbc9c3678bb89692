"""Figure for feedback: test hit@1 on ../shared/data/clothing-small before and after 50 verdicts.

The train split (at most --limit photos per class) is the gallery; product id = class name.
50 validation photos (round-robin over the classes) are searched and judged from their true
labels as a user would: the top hit's class marked good when right, bad when wrong. Then the
test photos (at most --test-limit per class) are searched again:

- after re-ranking (FEEDBACK_SIMILARITY as set, and a looser threshold for comparison),
- after `feedback promote` (confirmed queries become gallery examples; re-ranking on).

    python scripts/bench_feedback.py [--data DIR] [--limit 30] [--test-limit 20] [--judgements 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from itertools import chain, zip_longest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import scratch_settings

from app.container import build_container
from app.domain.feedback import BAD, GOOD
from app.domain.images import ImageInput
from app.services.feedback import Target

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"


def _photos(split: Path, limit: int | None) -> list[list[Path]]:
    return [
        sorted(c.glob("*.jpg"))[:limit] for c in sorted(p for p in split.iterdir() if p.is_dir())
    ]


def _link_gallery(src: Path, dst: Path, limit: int | None) -> None:
    for photos in _photos(src, limit):
        for photo in photos:
            target = dst / photo.parent.name / photo.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(photo)


def hit_at_1(container, queries: list[Path]) -> float:
    results = container.search_service().search_images(ImageInput.files(queries), 1).results
    right = sum(r.hits[0].product_id == Path(r.query).parent.name for r in results if r.hits)
    return right / len(results)


def judge(container, queries: list[Path]) -> tuple[int, int]:
    """One verdict per query on its top hit, from the true label."""
    service = container.feedback_service()
    results = container.search_service().search_images(ImageInput.files(queries), 1).results
    good = bad = 0
    for result in results:
        top = result.hits[0]
        right = top.product_id == Path(result.query).parent.name
        service.record(ImageInput.file(result.query), [Target(top.product_id, top.image_id)],
                       GOOD if right else BAD)  # fmt: skip
        good, bad = good + right, bad + (not right)
    return good, bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=30, help="gallery photos per class")
    parser.add_argument("--test-limit", type=int, default=20, help="test photos per class")
    parser.add_argument("--judgements", type=int, default=50)
    parser.add_argument("--model", default="efficientnet-lite0")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-feedback-"))
    _link_gallery(args.data / "train", work / "products", args.limit)
    base = scratch_settings(
        work, products_dir=work / "products", embedding_model=args.model,
        models_dir=work / "models", vector_store="memory",
    )  # fmt: skip
    container = build_container(base)
    report = container.rebuild_service().run(None)
    print(f"gallery: {report.embedded} train photos ({args.limit}/class), model {args.model}")
    tests = list(chain.from_iterable(_photos(args.data / "test", args.test_limit)))
    by_class = _photos(args.data / "validation", None)
    validation = [p for p in chain.from_iterable(zip_longest(*by_class)) if p][: args.judgements]
    print(f"test queries: {len(tests)} ({args.test_limit}/class)")

    before = hit_at_1(container, tests)
    judged_before = hit_at_1(container, validation)
    good, bad = judge(container, validation)
    print(f"judgements: {good + bad} validation queries ({good} good, {bad} bad)")
    print(f"test hit@1 before feedback:                  {before:.3f}")
    print(f"test hit@1 after, re-ranking (sim >= {base.feedback_similarity:.2f}):   "
          f"{hit_at_1(container, tests):.3f}")  # fmt: skip
    print(f"judged validation queries asked again, hit@1: {judged_before:.3f} -> "
          f"{hit_at_1(container, validation):.3f}")  # fmt: skip
    for similarity in (0.8, 0.7):
        loose = build_container(base.model_copy(update={"feedback_similarity": similarity}))
        print(f"test hit@1 after, re-ranking (sim >= {similarity:.2f}):   "
              f"{hit_at_1(loose, tests):.3f}")  # fmt: skip
    promoted = container.feedback_curation().promote()
    print(f"promote: {sum(promoted.promoted.values())} examples added, "
          f"{promoted.hard_negatives} hard negatives")  # fmt: skip
    print(f"test hit@1 after promote (+ re-ranking):     {hit_at_1(container, tests):.3f}")


if __name__ == "__main__":
    main()
