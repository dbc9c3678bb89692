"""Turn service results into text for people (tables) and for scripts (JSON lines)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict

from app.domain.models import (
    CacheEntry,
    CatalogueStats,
    MigrationReport,
    QueryResult,
    RebuildReport,
    SkippedFile,
)


def result_json(result: QueryResult) -> str:
    hits = [h.as_dict() for h in result.hits]
    return json.dumps({"query": result.query, "hits": hits, "cut": result.cut}, ensure_ascii=False)


def result_table(result: QueryResult) -> str:
    lines = [f"query: {result.query}"]
    cut = [f"  ({result.cut} hits under the cut-off left out)"] if result.cut else []
    if not result.hits:
        return "\n".join([*lines, "  (no results)", *cut])
    width = max(len("product"), *(len(h.product_id) for h in result.hits))
    moved = any(h.adjustment for h in result.hits)  # feedback re-ranking changed the order
    extra = f"  {'feedback':>8}" if moved else ""
    lines.append(f"  {'rank':>4}  {'score':>7}  {'product':<{width}}{extra}  path")
    lines += [
        f"  {h.rank:>4}  {h.score:>7.4f}  {h.product_id:<{width}}"
        + (f"  {h.adjustment:>+8.4f}" if moved else "")
        + f"  {h.path}"
        for h in result.hits
    ]
    note = ["  (feedback: re-ranking's change; hits are ordered by score + feedback)"] * moved
    return "\n".join([*lines, *note, *cut])


def skipped_lines(skipped: list[SkippedFile]) -> list[str]:
    return [f"skipped {s.path}: {s.reason}" for s in skipped]


def rebuild_summary(report: RebuildReport) -> str:
    rate = f", {report.images_per_second:.1f} img/s" if report.embedded else ""
    text = (
        f"rebuild done in {report.seconds:.1f}s: {report.scanned} files, "
        f"{report.embedded} embedded{rate}, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(report.skipped)} skipped"
    )
    if report.excluded:
        text += f", {report.excluded} left out (removed by `class remove` / `examples remove`)"
    return f"{text}\nmodel: {report.model_stamp}"


def stats_text(stats: CatalogueStats) -> str:
    counts = sorted(stats.images_per_product.values())
    spread = f"{counts[0]}..{counts[-1]}" if counts else "-"
    mean = f"{stats.images / stats.products:.1f}" if stats.products else "-"
    idx = stats.index
    when = stats.last_rebuild.isoformat() if stats.last_rebuild else "never"
    return "\n".join(
        [
            f"images:             {stats.images} ({stats.indexed} indexed, "
            f"{stats.pending} pending: run `rebuild`)"
            if stats.pending
            else f"images:             {stats.images} (all indexed)",
            f"products:           {stats.products}",
            f"images per product: mean {mean}, min..max {spread}",
            f"index:              {_index_line(idx)}",
            f"index model:        {idx.model_stamp or '-'}",
            f"current model:      {stats.model_stamp}",
            f"last rebuild:       {when}",
        ]
    )


def _index_line(idx) -> str:
    if idx.problem:
        return f"unusable ({idx.kind}, {idx.metric}): {idx.problem}"
    if not idx.size:
        return f"empty ({idx.kind}, {idx.metric}): run `rebuild` or `class add`"
    return (
        f"{idx.kind}, {idx.size} vectors, dim {idx.dim}, {idx.metric}, "
        f"{idx.bytes_on_disk / 1e6:.1f} MB on disk"
    )


def stats_json(stats: CatalogueStats) -> str:
    data = asdict(stats)
    data["last_rebuild"] = stats.last_rebuild.isoformat() if stats.last_rebuild else None
    return json.dumps(data, ensure_ascii=False)


def cache_table(entries: list[CacheEntry]) -> str:
    if not entries:
        return "cache is empty"
    return "\n".join(f"{e.kind:<8} {e.key}" for e in entries)


def hide_password(url: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db"""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def migration_summary(report: MigrationReport, changes: Mapping[str, str]) -> str:
    lines = []
    if "database_url" in changes:
        lines.append(
            f"copied {report.images} images and {report.facts} facts to "
            f"{hide_password(changes['database_url'])}"
        )
    if report.target_index is not None:
        lines.append(
            f"copied {report.vectors} vectors ({report.model_stamp}) to a "
            f"{report.target_index.kind} index"
        )
    lines.append(
        f"verified in {report.seconds:.1f}s: counts match, sampled vectors are identical; "
        "the source is unchanged"
    )
    lines.append("to use the copy, set in .env (or the environment):")
    lines += [f"  {name.upper()}={hide_password(value)}" for name, value in changes.items()]
    return "\n".join(lines)
