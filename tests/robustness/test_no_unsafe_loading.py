"""Security basics, checked on the source: no pickle anywhere, `torch.load(weights_only=True)`,
never `np.load(allow_pickle=True)` (numpy's default is False). Importing `pickle` for its error
type (`except pickle.UnpicklingError`) is fine; calling it is not."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "scripts").glob("*.py")])
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal"}
ERROR_TYPES = {"UnpicklingError", "PicklingError", "PickleError"}


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(name):
            yield node


def _keyword(call: ast.Call, key: str) -> object:
    for kw in call.keywords:
        if kw.arg == key and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def test_sources_were_found():
    assert len(SOURCES) > 50


def test_no_pickle_is_used():
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in UNSAFE_MODULES and node.attr not in ERROR_TYPES:
                    found.append(f"{path}:{node.lineno} {node.value.id}.{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module in UNSAFE_MODULES:
                found += [
                    f"{path}:{node.lineno} from {node.module} import {a.name}"
                    for a in node.names
                    if a.name not in ERROR_TYPES
                ]
    assert not found


def test_every_torch_and_numpy_load_refuses_pickles():
    bad = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree, "torch.load"):
            if _keyword(call, "weights_only") is not True:
                bad.append(f"{path}:{call.lineno} torch.load without weights_only=True")
        for call in _calls(tree, "np.load"):
            if _keyword(call, "allow_pickle") not in (None, False):
                bad.append(f"{path}:{call.lineno} np.load with allow_pickle")
    assert not bad
