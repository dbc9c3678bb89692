"""Code-shape figures for app/ (issue 15's "how we will know"): the longest functions, modules
over 300 lines and import circles (module level and lazy imports both count).

    python scripts/code_shape.py [ROOT]        # ROOT: a checkout (default: this one)

Repeated blocks are counted by the `duplicates` tool (`duplicates --most 200`)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

MAX_FUNCTION = 50
MAX_MODULE = 300


def _module_name(root: Path, path: Path) -> str:
    name = ".".join(path.relative_to(root).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _is_module(root: Path, dotted: str) -> bool:
    base = root / dotted.replace(".", "/")
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(root: Path, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("app")]
    if (
        isinstance(node, ast.ImportFrom)
        and node.level == 0
        and (node.module or "").startswith("app")
    ):
        subs = [f"{node.module}.{a.name}" for a in node.names]
        modules = [s for s in subs if _is_module(root, s)]
        return modules if len(modules) == len(subs) else [node.module, *modules]
    return []


def measure(root: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]], dict[str, set[str]]]:
    functions, modules, graph = [], [], defaultdict(set)
    for path in sorted((root / "app").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        modules.append((len(source.splitlines()), str(path.relative_to(root))))
        name = _module_name(root, path)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(root)}:{node.lineno} {node.name}"
                functions.append((node.end_lineno - node.lineno + 1, where))
            graph[name].update(i for i in _imports(root, node) if i != name)
    return sorted(functions, reverse=True), sorted(modules, reverse=True), graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    sys.setrecursionlimit(10_000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    functions, modules, graph = measure(root)
    print(f"modules: {len(modules)}, functions: {len(functions)}")
    print("longest functions:", *(f"  {n:>3} {w}" for n, w in functions[:5]), sep="\n")
    print(f"functions over {MAX_FUNCTION} lines: {sum(n > MAX_FUNCTION for n, _ in functions)}")
    print(f"modules over {MAX_MODULE} lines:", [f"{w} ({n})" for n, w in modules if n > MAX_MODULE])
    print("import circles:", cycles(graph) or "none")


if __name__ == "__main__":
    main()
