"""Tiny, randomly initialised Hugging Face models saved to disk, for offline tests.

They load through the ordinary `from_pretrained(directory)` path, so code under test cannot tell
them from a real checkpoint (apart from the size and the meaningless weights).
"""

from __future__ import annotations

import shutil
from pathlib import Path

TINY_CLIP_DIM = 16
TINY_RESNET_DIM = 16
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _byte_vocab() -> dict[str, int]:
    """A byte-level BPE vocabulary with no merges: every byte, alone or ending a word."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    tokens = ["<|startoftext|>", "<|endoftext|>", *symbols, *(s + "</w>" for s in symbols)]
    return {token: index for index, token in enumerate(tokens)}


def tiny_text_config(vocab: dict[str, int], layers: int, positions: int) -> dict[str, int]:
    """The text tower of the tiny CLIP and OWLv2 models (32 wide, 2 heads)."""
    return {
        "vocab_size": len(vocab),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "max_position_embeddings": positions,
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }


def tiny_vision_config(layers: int, image_size: int, patch_size: int) -> dict[str, int]:
    """The vision tower of the tiny CLIP and OWLv2 models (32 wide, 2 heads)."""
    return {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
    }


def build_tiny_clip(directory: Path, image_size: int = 32, seed: int = 0) -> Path:
    """Save a tiny CLIP (model, tokenizer, PIL image processor) into `directory` and return it."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = _byte_vocab()
    text = tiny_text_config(vocab, layers=2, positions=32)
    vision = tiny_vision_config(layers=2, image_size=image_size, patch_size=8)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=TINY_CLIP_DIM)
    torch.manual_seed(seed)
    CLIPModel(config).eval().save_pretrained(directory)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=32)
    tokenizer.save_pretrained(directory)
    processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    processor.save_pretrained(directory)
    return directory


def build_tiny_resnet(directory: Path, image_size: int = 32, seed: int = 0) -> Path:
    """Save a tiny image-only ResNet (model + PIL image processor) into `directory`; return it."""
    import torch
    from transformers import ResNetConfig, ResNetModel
    from transformers.models.convnext.image_processing_pil_convnext import (
        ConvNextImageProcessorPil,
    )

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = ResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, TINY_RESNET_DIM],
        depths=[1, 1],
        layer_type="basic",
    )
    torch.manual_seed(seed)
    ResNetModel(config).eval().save_pretrained(directory)
    ConvNextImageProcessorPil(size={"shortest_edge": image_size}).save_pretrained(directory)
    return directory


def place_in_hf_cache(model_dir: Path, cache_dir: Path, repo_id: str) -> Path:
    """Copy a saved model into the Hugging Face cache layout as `repo_id` at revision main."""
    repo = cache_dir / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / FAKE_COMMIT
    shutil.copytree(model_dir, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(FAKE_COMMIT)
    return cache_dir
