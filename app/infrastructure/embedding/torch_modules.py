"""torch modules around the backbones, for fine-tuning and for fine-tuned models.

Imports torch at module level: import this module lazily (inside functions).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from app.infrastructure.embedding.hf_model import image_features

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


def feature_dim(backbone: nn.Module, crop: int, device: str) -> int:
    """Width of the backbone's features, from one blank image."""
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        width = int(backbone(torch.zeros(1, 3, crop, crop, device=device)).shape[1])
    backbone.train(was_training)
    return width
