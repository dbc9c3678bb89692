"""FAISS index building blocks: the lazy import, the three index kinds and their parameters.

- flat: IndexIDMap2 over IndexFlatIP / IndexFlatL2 - exact.
- ivf:  IndexIVFFlat with its own ids and a hash-table direct map (so ids can be removed and
        vectors read back). Needs training: a store stays flat until it holds `ivf_min_train`
        vectors, then trains on them; it retrains when the automatic list count has doubled.
- hnsw: IndexIDMap2 over IndexHNSWFlat. HNSW cannot remove vectors: the store marks the index
        dirty and rebuilds the graph from the stored vectors before the next search or save.
        hnsw_codes="sq8" keeps the vectors as 8-bit codes (IndexHNSWSQ, one value range learnt
        from the first vectors added): a quarter of the memory a walk reads, about half the time,
        scores within ~1e-3 of the float ones (for callers that re-score what they keep).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.domain.errors import BackendUnavailable

if TYPE_CHECKING:
    import faiss as faiss_module

INDEX_KINDS = ("flat", "ivf", "hnsw")
HNSW_CODES = ("float", "sq8")
# faiss 1.15 switches to BLAS only from 128,000 queries; batches of a few queries are far faster
# with BLAS (100 queries x 100k: 615 ms -> 82 ms, see DEPENDENCIES.md).
BLAS_THRESHOLD = 8
MAX_FILTERED_EF = 4096  # HNSW search depth under a narrow filter
PROBE_EF = 16  # HNSW range search: depth of the first, cheap walk that finds the nearest only
PROBE_MARGIN = 0.05  # ... a query whose nearest misses the radius by more is answered empty
MIN_POINTS_PER_LIST = 39  # k-means wants at least this many training vectors per centroid
TRAIN_POINTS_PER_LIST = 40  # training sample per list and k-means rounds: bound the training
TRAIN_ITERATIONS = 10  # cost (1M x 512-d: about 3 minutes on 2 cores; faiss defaults: 256 x 25)
_faiss: Any = None


@contextmanager
def threads_for(queries: int) -> Iterator[None]:
    """FAISS's OpenMP threads for one search of `queries` queries: a single thread below
    BLAS_THRESHOLD, where a thread team only adds hand-overs (on 2 busy cores, one query against
    3,068 x 1280 took p50 45 ms with 2 threads, 4 ms with 1); as configured above it. OpenMP keeps
    the count per calling thread, so concurrent searches (API requests) do not see each other's."""
    if queries >= BLAS_THRESHOLD:
        yield
        return
    faiss = load_faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def load_faiss() -> faiss_module:
    """Import faiss once, tuning its global BLAS threshold for batched queries."""
    global _faiss  # noqa: PLW0603 - a lazily imported module, set once
    if _faiss is None:
        try:
            import faiss
        except ImportError as exc:
            raise BackendUnavailable(
                f"faiss is not installed ({exc}): pip install faiss-cpu"
            ) from exc
        faiss.cvar.distance_compute_blas_threshold = BLAS_THRESHOLD
        _faiss = faiss
    return _faiss


@dataclass(frozen=True)
class FaissIndexOptions:
    """Which FAISS index to build and its parameters (FAISS_INDEX, FAISS_NLIST, ...)."""

    kind: str = "flat"
    nlist: int = 0  # IVF lists; 0 = automatic (about 4 sqrt(n), >= 39 vectors per list)
    nprobe: int = 32  # IVF lists visited per query
    hnsw_m: int = 32  # HNSW links per node
    ef_construction: int = 128
    ef_search: int = 128
    ivf_min_train: int = 10_000  # an IVF store stays exact (flat) below this many vectors
    hnsw_codes: str = "float"  # "sq8": HNSW over 8-bit codes (approximate scores)

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise ValueError(f"unknown FAISS index {self.kind!r}: choose {', '.join(INDEX_KINDS)}")
        if self.hnsw_codes not in HNSW_CODES:
            raise ValueError(f"unknown HNSW codes {self.hnsw_codes!r}: choose float or sq8")


def auto_nlist(count: int) -> int:
    """About 4 sqrt(n) inverted lists, with enough training vectors for each."""
    return max(1, min(int(4 * math.sqrt(count)), count // MIN_POINTS_PER_LIST))


def faiss_metric(metric: str) -> int:
    faiss = load_faiss()
    return faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2


def new_flat(dim: int, metric: str) -> Any:
    faiss = load_faiss()
    flat = faiss.IndexFlatIP(dim) if metric == "cosine" else faiss.IndexFlatL2(dim)
    return faiss.IndexIDMap2(flat)


def new_hnsw(dim: int, metric: str, options: FaissIndexOptions) -> Any:
    faiss = load_faiss()
    if options.hnsw_codes == "sq8":
        uniform = faiss.ScalarQuantizer.QT_8bit_uniform  # trained by add_rows
        graph = faiss.IndexHNSWSQ(dim, uniform, options.hnsw_m, faiss_metric(metric))
    else:
        graph = faiss.IndexHNSWFlat(dim, options.hnsw_m, faiss_metric(metric))
    graph.hnsw.efConstruction = options.ef_construction
    graph.hnsw.efSearch = options.ef_search
    return faiss.IndexIDMap2(graph)


def add_rows(index: Any, vectors: np.ndarray, ids: np.ndarray) -> None:
    """`add_with_ids`; an 8-bit HNSW graph first learns its value range from the first vectors
    it gets: their min..max over all components, widened by half on each side so that later
    vectors rarely fall outside (whose components would be clipped)."""
    if not len(vectors):
        return
    if not index.is_trained:
        faiss = load_faiss()
        graph = faiss.downcast_index(index.index)
        graph.train(vectors)
        trained = faiss.downcast_index(graph.storage).sq.trained
        low, span = faiss.vector_to_array(trained)
        faiss.copy_array_to_vector(np.array([low - span / 2, 2 * span], np.float32), trained)
        index.is_trained = True
    index.add_with_ids(vectors, ids)


def same_codes(index: Any, like: Any) -> None:
    """An empty 8-bit HNSW graph takes the value range of `like` (a graph rebuilt from decoded
    vectors would otherwise learn, and widen, a new one)."""
    faiss = load_faiss()
    if index.is_trained or not like.is_trained:
        return
    graph, source = faiss.downcast_index(index.index), faiss.downcast_index(like.index)
    codes = faiss.downcast_index(graph.storage)
    learnt = faiss.downcast_index(source.storage).sq.trained
    faiss.copy_array_to_vector(faiss.vector_to_array(learnt), codes.sq.trained)
    codes.is_trained = graph.is_trained = index.is_trained = True


def train_ivf(ids: np.ndarray, vectors: np.ndarray, metric: str, options: FaissIndexOptions) -> Any:
    """An IndexIVFFlat trained on (a sample of) `vectors` and holding all of them."""
    faiss = load_faiss()
    count, dim = vectors.shape
    nlist = min(options.nlist or auto_nlist(count), count)
    sample_size = min(count, nlist * TRAIN_POINTS_PER_LIST)
    sample = vectors
    if sample_size < count:
        rows = np.random.default_rng(0).choice(count, sample_size, replace=False)
        sample = vectors[np.sort(rows)]
    quantizer = faiss.IndexFlatIP(dim) if metric == "cosine" else faiss.IndexFlatL2(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss_metric(metric))
    index.cp.min_points_per_centroid = 1  # the sample size above is chosen on purpose
    index.cp.niter = TRAIN_ITERATIONS
    index.train(np.ascontiguousarray(sample))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, ids)
    tune(index, options)
    return index


def id_selector(ids: np.ndarray, exclude: bool) -> tuple[Any, Any]:
    """A selector of `ids` (or of every other id), and the object that must outlive it."""
    faiss = load_faiss()
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    batch = faiss.IDSelectorBatch(ids.size, faiss.swig_ptr(ids))
    return (faiss.IDSelectorNot(batch), batch) if exclude else (batch, batch)


def search_params(
    index: Any, selector: Any, k: int, options: FaissIndexOptions, kept: float = 1.0
) -> Any:
    """Search parameters of the index's own kind (HNSW and IVF refuse the generic ones). The
    walk widens as the filter narrows (`kept`: the share of vectors it lets through)."""
    faiss = load_faiss()
    widen = 1.0 / max(kept, 1e-3)
    if is_ivf(index):
        nprobe = min(index.nlist, int(index.nprobe * min(widen, 8)))
        return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
    if is_hnsw(index):
        ef = min(MAX_FILTERED_EF, max(options.ef_search, int(k * widen)))
        return faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
    return faiss.SearchParameters(sel=selector)


def probe_params() -> Any:
    """A shallow HNSW walk (PROBE_EF): enough to tell whether anything lies near a query."""
    return load_faiss().SearchParametersHNSW(efSearch=PROBE_EF)


def search_with(index: Any, queries: np.ndarray, k: int, params: Any) -> tuple[Any, Any]:
    """`index.search` with parameters, through the SWIG call itself: faiss.contrib.torch_utils
    (imported by pytorch-metric-learning) replaces `search` by a version without `params`."""
    faiss = load_faiss()
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    n = queries.shape[0]
    scores = np.empty((n, k), dtype=np.float32)
    found = np.empty((n, k), dtype=np.int64)
    index.search_c(
        n, faiss.swig_ptr(queries), k, faiss.swig_ptr(scores), faiss.swig_ptr(found), params
    )
    return scores, found


def is_ivf(index: Any) -> bool:
    return isinstance(index, load_faiss().IndexIVF)


def is_hnsw(index: Any) -> bool:
    faiss = load_faiss()
    return isinstance(index, faiss.IndexIDMap2) and isinstance(
        faiss.downcast_index(index.index), faiss.IndexHNSW
    )


def tune(index: Any, options: FaissIndexOptions) -> None:
    """Apply the search-time parameters (they may differ from those the index was saved with)."""
    faiss = load_faiss()
    if is_ivf(index):
        index.nprobe = min(options.nprobe, index.nlist)
    elif is_hnsw(index):
        faiss.downcast_index(index.index).hnsw.efSearch = options.ef_search


def stored_ids(index: Any) -> np.ndarray:
    """Every id held by the index (for an IDMap2 in row order, repeats included)."""
    faiss = load_faiss()
    if not is_ivf(index):
        return faiss.vector_to_array(index.id_map).astype(np.int64, copy=False)
    lists = index.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(index.nlist)
        if lists.list_size(i)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)


def stored_rows(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every row of the index, in row order."""
    ids = stored_ids(index)
    if is_ivf(index):
        return ids, index.reconstruct_batch(ids)
    inner = load_faiss().downcast_index(index.index)
    return ids, inner.reconstruct_n(0, index.ntotal)


def check_loaded(index: Any, kind: str, metric: str, dim: int) -> None:
    """Refuse a file that does not hold the index kind the store expects."""
    faiss = load_faiss()
    allowed = {
        "flat": lambda: not is_ivf(index) and not is_hnsw(index),
        "hnsw": lambda: is_hnsw(index),
        "ivf": lambda: not is_hnsw(index),  # flat until trained, then IndexIVFFlat
    }[kind]
    mapped = isinstance(index, faiss.IndexIDMap2) or is_ivf(index)
    if not mapped or not allowed() or index.metric_type != faiss_metric(metric):
        raise ValueError(f"file does not hold a {metric} FAISS {kind} index")
    if index.d != dim:
        raise ValueError(f"index has dimension {index.d}, manifest {dim}")
    if is_ivf(index) and index.direct_map.type != faiss.DirectMap.Hashtable:
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
