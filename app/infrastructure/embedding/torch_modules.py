"""torch modules around the backbones, for fine-tuning and for fine-tuned models.

Imports torch at module level: import this module lazily (inside functions).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CHECKPOINT_FORMAT = "img-recog/embedder-v1"


class PooledFeatures(nn.Module):
    """EfficientNet-Lite feature maps, global-average-pooled: (N, 3, H, W) -> (N, 1280)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(pixels).mean(dim=(2, 3))


class HFImageFeatures(nn.Module):
    """A Hugging Face model's image features: projected (CLIP, SigLIP) or pooled output."""

    def __init__(self, model: nn.Module, text_image: bool) -> None:
        super().__init__()
        self.model = model
        self.text_image = text_image

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return image_features(self.model, pixels, self.text_image)


class HFTextFeatures(nn.Module):
    """A text-image model's projected text features: (input ids, attention mask) -> (N, D)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return pooled(
            self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
        )


class EmbeddingNet(nn.Module):
    """Backbone -> linear head -> L2 normalisation. `meta` describes it in plain types."""

    def __init__(self, backbone: nn.Module, feature_dim: int, meta: dict[str, Any]) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(feature_dim, int(meta["embedding_dim"]))
        self.meta = dict(meta, feature_dim=feature_dim)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.backbone(pixels)).float(), dim=1)

    def export(self) -> dict[str, Any]:
        """What a checkpoint needs to rebuild this network: plain meta + fp32 weights."""
        state = {
            key: value.detach().float().cpu() if value.is_floating_point() else value.cpu()
            for key, value in self.state_dict().items()
        }
        return {"format": CHECKPOINT_FORMAT, "meta": dict(self.meta), "model": state}


def image_features(model: Any, pixel_values: torch.Tensor, text_image: bool) -> torch.Tensor:
    """(N, D) image features of a loaded model: projected for CLIP / SigLIP, else pooled."""
    if text_image:
        return pooled(model.get_image_features(pixel_values=pixel_values))
    return pooled(model(pixel_values=pixel_values))


def pooled(output: Any) -> torch.Tensor:
    """(N, D) features from a bare tensor or a model output object."""
    if isinstance(output, torch.Tensor):
        return output.flatten(1)
    pooler = getattr(output, "pooler_output", None)
    if pooler is not None:
        return pooler.flatten(1)  # ResNet-style pools are (N, C, 1, 1)
    hidden = output.last_hidden_state
    return hidden.mean(dim=1) if hidden.ndim == 3 else hidden.mean(dim=(2, 3))


def unpack_naflex(batch: np.ndarray, device: str) -> dict[str, torch.Tensor]:
    """Inverse of hf_model's `_pack_naflex` for a batch (padding patches after the real ones)."""
    patches, shapes = batch[:, :-1], batch[:, -1, :2].astype(np.int64)
    counts = shapes[:, 0] * shapes[:, 1]
    mask = np.arange(patches.shape[1])[None, :] < counts[:, None]
    return {
        "pixel_values": torch.from_numpy(np.ascontiguousarray(patches)).to(device),
        "pixel_attention_mask": torch.from_numpy(mask.astype(np.int64)).to(device),
        "spatial_shapes": torch.from_numpy(shapes).to(device),
    }
