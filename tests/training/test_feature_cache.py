"""The feature cache's entries: whole ones with enough views are found; short or damaged ones are
computed again."""

from __future__ import annotations

import numpy as np

from app.training.feature_cache import FeatureCache


def test_an_entry_counts_only_when_whole_and_with_enough_views(tmp_path):
    cache = FeatureCache(tmp_path, "stamp")
    features = np.arange(3 * 8, dtype=np.float16).reshape(3, 8)
    cache.put("ab12", features)
    assert cache.has("ab12", 3) and cache.has("ab12", 1)
    assert not cache.has("ab12", 4)  # fewer views than asked for
    assert not cache.has("cd34", 1)  # never written
    np.testing.assert_array_equal(cache.get("ab12"), features)
    path = cache.path("ab12")
    path.write_bytes(path.read_bytes()[:-10])  # cut short
    assert not cache.has("ab12", 1) and cache.get("ab12") is None
    path.write_bytes(b"not numpy")
    assert not cache.has("ab12", 1)
