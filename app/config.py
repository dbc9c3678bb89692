"""One typed Settings object, read once from `.env` and the environment.

Every setting is documented in `.env.example`. Invalid values fail at start-up with a message
naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.choices import (
    Aggregation,
    Device,
    FaissIndexKind,
    InferencePrecision,
    InferenceRuntime,
    KnnWeighting,
    Metric,
    PreprocessorKind,
    VectorStoreKind,
)
from app.domain.errors import ConfigError

_HEX_COLOUR = re.compile(r"^#?[0-9a-fA-F]{6}$")
_RGB_TRIPLE = re.compile(r"^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$")
_SIZE_PAIR = re.compile(r"^\s*(\d+)\s*[,x]\s*(\d+)\s*$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    device: Device = Device.AUTO
    inference_runtime: InferenceRuntime = InferenceRuntime.AUTO
    inference_precision: InferencePrecision = InferencePrecision.FP32
    embedding_model: str = "auto"
    top_k: int = Field(5, ge=1, le=1000)
    dedup_threshold: float = Field(0.94, ge=-1.0, le=1.0)
    leak_threshold: float = Field(0.93, ge=-1.0, le=1.0)
    batch_size: int = Field(32, ge=1, le=4096)
    rebuild_checkpoint_seconds: float = Field(60.0, ge=0)
    num_threads: int = Field(0, ge=0, le=512)

    database_url: str = "sqlite:///./data/app.db"
    database_pool_size: int = Field(5, ge=1, le=1000)
    database_max_overflow: int = Field(10, ge=0, le=1000)
    products_dir: Path = Path("./data/products")
    index_dir: Path = Path("./data/index")
    vector_store: VectorStoreKind = VectorStoreKind.FAISS
    metric: Metric = Metric.COSINE

    faiss_index: FaissIndexKind = FaissIndexKind.FLAT
    faiss_nlist: int = Field(0, ge=0)
    faiss_nprobe: int = Field(32, ge=1)
    hnsw_m: int = Field(32, ge=4, le=512)
    hnsw_ef_construction: int = Field(128, ge=4)
    hnsw_ef_search: int = Field(128, ge=1)

    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_path: Path | None = None
    qdrant_collection_prefix: str = Field("img_recog", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    qdrant_on_disk: bool = False
    qdrant_timeout: int = Field(30, ge=1)

    preprocessor: PreprocessorKind | None = None  # unset: USE_BG_REMOVAL decides
    use_bg_removal: bool = False  # the older switch: true means PREPROCESSOR=rembg
    rembg_model: str = "u2net"
    rembg_model_path: Path | None = None
    preprocess_size: int = Field(256, ge=16, le=4096)
    preprocess_padding: float = Field(0.0, ge=0.0, le=0.45)
    preprocess_bg_color: str = "#ffffff"
    save_preprocessed: bool = False
    preprocessed_dir: Path = Path("./data/preprocessed")
    max_image_pixels: int = Field(89_478_485, ge=1)
    max_image_bytes: int = Field(50 * 1024 * 1024, ge=1)

    detector_model: str = ""
    detector_queries: str = "a photo of a product"

    examples_dir: Path = Path("./data/examples")
    cbr_aggregation: Aggregation = Aggregation.MAX
    cbr_temperature: float = Field(0.05, gt=0.0, le=10.0)
    cbr_knn_k: int = Field(20, ge=1, le=1000)
    cbr_knn_weighting: KnnWeighting = KnnWeighting.SIMILARITY
    cbr_min_similarity: float = Field(0.0, ge=-1.0, le=1.0)
    cbr_min_margin: float = Field(0.0, ge=0.0, le=1.0)

    feedback_rerank: bool = True
    feedback_similarity: float = Field(0.9, ge=-1.0, le=1.0)
    feedback_weight: float = Field(0.5, ge=0.0, le=10.0)
    feedback_candidates: int = Field(50, ge=1, le=10_000)
    feedback_rocchio_beta: float = Field(0.75, ge=0.0, le=10.0)
    feedback_rocchio_gamma: float = Field(0.25, ge=0.0, le=10.0)
    feedback_kept_queries: int = Field(1000, ge=0)

    cache_size: int = Field(1024, ge=0)
    embedding_cache_size: int = Field(100_000, ge=0)

    labels_file: Path = Path("./data/labels.yaml")
    training_dir: Path = Path("./data/training")
    models_dir: Path = Path("./models")
    zero_shot_logit_scale: float = Field(100.0, gt=0.0, le=1000.0)
    classify_min_confidence: float = Field(0.3, ge=0.0, le=1.0)
    classify_min_margin: float = Field(0.05, ge=0.0, le=1.0)
    decode_workers: int = Field(0, ge=0, le=64)
    history_file: Path = Path("./data/.repl_history")

    api_key: str | None = None
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1)
    max_request_pixels: int = Field(200_000_000, ge=1)
    upload_spool_bytes: int = Field(1024 * 1024, ge=1)
    splits_dir: Path = Path("./data/splits")

    @field_validator("preprocess_bg_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        """`#ffffff`, `ffffff` or `255,255,255` (R,G,B), kept as `#ffffff`."""
        triple = _RGB_TRIPLE.match(value)
        if triple and all(int(c) <= 255 for c in triple.groups()):
            return "#" + "".join(f"{int(c):02x}" for c in triple.groups())
        if not _HEX_COLOUR.match(value):
            raise ValueError("must be a colour like #ffffff or 255,255,255")
        return "#" + value.lstrip("#").lower()

    @field_validator("preprocess_size", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        """`224` or `224,224` (width,height): images are padded to a square, so both are equal."""
        pair = _SIZE_PAIR.match(value) if isinstance(value, str) else None
        if pair is None:
            return value
        width, height = (int(v) for v in pair.groups())
        if width != height:
            raise ValueError(
                f"images are padded to a square: give one side (e.g. {max(width, height)}) "
                "or equal width,height"
            )
        return width

    @field_validator("embedding_model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty (use 'auto')")
        return value.strip()

    @property
    def detector_query_list(self) -> tuple[str, ...]:
        """DETECTOR_QUERIES split at commas, blanks dropped."""
        return tuple(q.strip() for q in self.detector_queries.split(",") if q.strip())

    @property
    def preprocessor_name(self) -> PreprocessorKind:
        """PREPROCESSOR when set, else rembg for USE_BG_REMOVAL=true, else passthrough."""
        if self.preprocessor is not None:
            return self.preprocessor
        return PreprocessorKind.REMBG if self.use_bg_removal else PreprocessorKind.PASSTHROUGH

    @property
    def bg_rgb(self) -> tuple[int, int, int]:
        h = self.preprocess_bg_color.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def with_overrides(settings: Settings, **updates: object) -> Settings:
    """A validated copy of `settings` with some values replaced (ConfigError when invalid)."""
    values = {name: getattr(settings, name) for name in Settings.model_fields}
    return load_settings(_env_file=None, **{**values, **updates})


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation failure into one ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "settings"
        value = first.get("input")
        raise ConfigError(f"invalid setting {name}={value!r}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
