"""A tiny, randomly initialised OWLv2 (model, CLIP tokenizer, PIL image processor) saved to disk,
loaded back through the ordinary `from_pretrained(directory)` path."""

from __future__ import annotations

from pathlib import Path

from tests.infrastructure.embedding.tiny_models import (
    _byte_vocab,
    tiny_text_config,
    tiny_vision_config,
)

TINY_OWL_IMAGE = 64


def build_tiny_owlv2(directory: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPTokenizer, Owlv2Config, Owlv2ForObjectDetection
    from transformers.models.owlv2.image_processing_pil_owlv2 import Owlv2ImageProcessorPil

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # OWL treats a query whose first token id is 0 as padding: keep <|startoftext|> off id 0
    vocab = {
        token: (index + 1) % len(base) for base in [_byte_vocab()] for token, index in base.items()
    }
    text = tiny_text_config(vocab, layers=1, positions=16)
    vision = tiny_vision_config(layers=1, image_size=TINY_OWL_IMAGE, patch_size=16)
    config = Owlv2Config(
        text_config=text, vision_config=vision, projection_dim=32
    )  # = text hidden size (class head)
    torch.manual_seed(seed)
    model = Owlv2ForObjectDetection(config).eval()
    with torch.no_grad():  # random box offsets saturate to degenerate boxes: keep the grid prior
        model.box_head.dense2.weight.mul_(0.01)
        model.box_head.dense2.bias.zero_()
    model.save_pretrained(directory)
    CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16).save_pretrained(directory)
    size = {"height": TINY_OWL_IMAGE, "width": TINY_OWL_IMAGE}
    Owlv2ImageProcessorPil(size=size).save_pretrained(directory)
    return directory
