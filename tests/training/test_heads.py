"""Linear heads: stratified split, deterministic training, files loadable with weights_only."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.domain.errors import ModelMismatch, NotFound
from app.domain.heads import LabelledVectors, TrainOptions
from app.domain.scoring import l2_normalize
from app.training.heads import TorchAttributeHeads
from app.training.linear_head import stratified_split

FAST = TrainOptions(epochs=30, batch_size=8, lr=1e-2, val_fraction=0.25, seed=1)


def _blobs(n_per_class: int = 20, dim: int = 16, seed: int = 0) -> LabelledVectors:
    """Three well separated clusters of unit vectors."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3] * 3
    rows, labels = [], []
    for name, centre in zip(["red", "green", "blue"], centres, strict=True):
        rows.append(centre + rng.normal(size=(n_per_class, dim)))
        labels += [name] * n_per_class
    return LabelledVectors(l2_normalize(np.concatenate(rows)), labels)


def test_stratified_split_holds_out_each_class():
    targets = np.array([0] * 10 + [1] * 5 + [2])
    train, val = stratified_split(targets, 0.2, seed=3)
    assert sorted(np.concatenate([train, val])) == list(range(16))
    assert np.bincount(targets[val], minlength=3).tolist() == [2, 1, 0]
    again = stratified_split(targets, 0.2, seed=3)
    assert [a.tolist() for a in again] == [train.tolist(), val.tolist()]


def test_train_save_and_predict(tmp_path):
    heads = TorchAttributeHeads(tmp_path)
    data = _blobs()
    info = heads.train("shoe", "color", data, FAST, "model:v1")
    assert info.classes == ["blue", "green", "red"] and info.key == "shoe/color"
    assert (info.train_size, info.val_size) == (45, 15) and info.val_accuracy >= 0.9
    classes, probs = heads.predict("shoe", "color", data.vectors, "model:v1")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    accuracy = np.mean([classes[i] == label for i, label in zip(probs.argmax(1), data.labels)])
    assert accuracy >= 0.9
    assert heads.list() == [info]


def test_files_are_a_plain_state_dict_and_classes_json(tmp_path):
    TorchAttributeHeads(tmp_path).train("shoe", "color", _blobs(), FAST, "model:v1")
    state = torch.load(tmp_path / "shoe" / "color" / "model.pt", weights_only=True)
    assert set(state) == {"weight", "bias"} and tuple(state["weight"].shape) == (3, 16)
    meta = json.loads((tmp_path / "shoe" / "color" / "classes.json").read_text())
    assert meta["classes"] == ["blue", "green", "red"] and meta["model_stamp"] == "model:v1"
    assert meta["embedding_dim"] == 16 and 0.9 <= meta["val_accuracy"] <= 1.0
    assert {"trained_at", "train_size", "val_size"} <= set(meta)


def test_training_is_deterministic_for_a_seed(tmp_path):
    a = TorchAttributeHeads(tmp_path / "a")
    b = TorchAttributeHeads(tmp_path / "b")
    data = _blobs()
    a.train("s", "c", data, FAST, "m")
    b.train("s", "c", data, FAST, "m")
    wa = torch.load(tmp_path / "a/s/c/model.pt", weights_only=True)["weight"]
    wb = torch.load(tmp_path / "b/s/c/model.pt", weights_only=True)["weight"]
    assert torch.equal(wa, wb)


def test_other_model_is_refused_with_retrain(tmp_path):
    heads = TorchAttributeHeads(tmp_path)
    heads.train("shoe", "color", _blobs(), FAST, "model:v1")
    with pytest.raises(ModelMismatch, match=r"retrain.*train --category shoe --attribute color"):
        heads.predict("shoe", "color", np.zeros((1, 16)), "model:v2")
    with pytest.raises(NotFound, match="train --category shoe --attribute size"):
        heads.predict("shoe", "size", np.zeros((1, 16)), "model:v1")


def test_loaded_once_and_reloaded_after_retraining(tmp_path, monkeypatch):
    heads = TorchAttributeHeads(tmp_path)
    heads.train("shoe", "color", _blobs(), FAST, "m")
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    for _ in range(3):
        heads.predict("shoe", "color", np.ones((1, 16)), "m")
    assert len(loads) == 1
    other = TorchAttributeHeads(tmp_path)  # another process retrains
    other.train("shoe", "color", _blobs(seed=5), FAST, "m2")
    with pytest.raises(ModelMismatch):
        heads.predict("shoe", "color", np.ones((1, 16)), "m")
    assert len(loads) == 2


def test_damaged_head_is_reported_not_crashed(tmp_path):
    heads = TorchAttributeHeads(tmp_path)
    heads.train("shoe", "color", _blobs(), FAST, "m")
    (tmp_path / "shoe" / "color" / "model.pt").write_bytes(b"junk")
    with pytest.raises(ModelMismatch, match="damaged"):
        heads.predict("shoe", "color", np.ones((1, 16)), "m")
    (tmp_path / "shoe" / "color" / "classes.json").write_text("{")
    assert heads.list() == []
