"""Val scoring in bounded memory: the similarity matrix and head outputs are made in chunks, with
the same Recall@1 / mAP as all at once."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from app.training import epochs


def test_chunked_scoring_matches_scoring_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(5, 16, generator=generator)
    g_labels = torch.arange(60) % 5
    q_labels = torch.arange(23) % 5
    gallery = F.normalize(centres[g_labels] + torch.randn(60, 16, generator=generator), dim=1)
    queries = F.normalize(centres[q_labels] + torch.randn(23, 16, generator=generator), dim=1)
    whole = epochs.val_scores(queries, q_labels, gallery, g_labels)
    assert 0.2 < whole[0] <= 1.0 and 0.2 < whole[1] <= 1.0
    monkeypatch.setattr(epochs, "EVAL_ROWS", 4)  # 23 queries in 6 chunks
    assert epochs.val_scores(queries, q_labels, gallery, g_labels) == pytest.approx(whole)


def test_head_embeddings_of_half_precision_features_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = torch.nn.Module()
    net.head = torch.nn.Linear(8, 3)
    features = torch.randn(10, 8).half()
    expected = F.normalize(net.head(features.float()), dim=1).detach()
    monkeypatch.setattr(epochs, "EVAL_ROWS", 3)
    out = epochs.head_embeddings(net, features)
    assert out.dtype == torch.float32 and out.shape == (10, 3)
    torch.testing.assert_close(out, expected)
