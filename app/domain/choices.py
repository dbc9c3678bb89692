"""One source for each closed set of names: settings, API parameters and CLI choices all use these.

A `StrEnum` member is a `str`, so `Aggregation.MAX == "max"` and values read from `.env`, query
strings and argparse compare and serialise as plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class Aggregation(StrEnum):
    """How classification by retrieval scores a class from the similarities to its examples."""

    MAX = "max"
    PROTOTYPE = "prototype"
    KNN = "knn"


class KnnWeighting(StrEnum):
    SIMILARITY = "similarity"
    INVERSE_DISTANCE = "inverse_distance"


class SplitName(StrEnum):
    TRAIN = "train"
    VAL = "val"
    TEST = "test"


class SegmentMode(StrEnum):
    """`quick`: foreground components; `accurate`: the rembg mask; `detector`: open vocabulary."""

    QUICK = "quick"
    ACCURATE = "accurate"
    DETECTOR = "detector"


class VectorStoreKind(StrEnum):
    FAISS = "faiss"
    MEMORY = "memory"
    QDRANT = "qdrant"


class FaissIndexKind(StrEnum):
    FLAT = "flat"
    IVF = "ivf"
    HNSW = "hnsw"


class Metric(StrEnum):
    COSINE = "cosine"
    L2 = "l2"


class Device(StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class InferenceRuntime(StrEnum):
    """How embedding models run: `auto` = ONNX Runtime on the CPU, torch on CUDA."""

    AUTO = "auto"
    ONNX = "onnx"
    TORCH = "torch"


class InferencePrecision(StrEnum):
    """fp32, or int8: the ONNX image graph statically quantised (CPU; see bench_int8.py)."""

    FP32 = "fp32"
    INT8 = "int8"


class PreprocessorKind(StrEnum):
    """PREPROCESSOR: pad and resize only, or remove the background with rembg first."""

    PASSTHROUGH = "passthrough"
    REMBG = "rembg"


class Verdict(StrEnum):
    GOOD = "good"
    BAD = "bad"


def names(choices: type[StrEnum]) -> list[str]:
    """The values of a choice set, in declaration order (for argparse `choices` and messages)."""
    return [member.value for member in choices]
