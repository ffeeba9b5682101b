"""The import graph of pathnet_tf, read from the source (nothing is imported).

    python tools/import_graph.py             # floors, circles, modules named by strings
    python tools/import_graph.py --edges     # and every module's imports
    python tools/import_graph.py --json      # the same as one JSON object
    python tools/import_graph.py --top-level # only imports run at import time

A node is a module of the package (`pathnet_tf.pbt.runner`); an edge A -> B is an
`import` of B written anywhere in A, at the top or inside a function (both run, sooner
or later; `--top-level` keeps only the former). Importing a submodule also runs its
package's `__init__`; that implicit edge is left out, an explicit
`from pathnet_tf import name` is kept.

- floors: a module's floor is 0 if it imports no module of the package, else one more
  than the highest floor among its imports (a circle counts as one module): the
  longest import chain below it.
- circles: modules that reach each other through imports (strongly connected
  components of more than one module).
- folders: the package's folders from the bottom up (`FOLDERS`); a module may import
  its own folder and those below it, never one above or beside it ("upward imports"
  lists the edges that do). `pbt` and `rl` share a floor and import neither the other.
- named by strings: `importlib.import_module(...)` / `__import__(...)` calls whose
  argument is not a literal, and `loader(...)` tables (the old lazy API): imports no
  tool can follow.
"""

from __future__ import annotations

import argparse
import ast
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "pathnet_tf"
# The house (docs/design.md), bottom up: each folder may import the ones before it.
FOLDERS = (("files",), ("core",), ("evolution",), ("runs",), ("experiments",), ("reports",),
           ("pbt", "rl"), ("scripts",))


def modules(root: pathlib.Path = ROOT) -> dict[str, pathlib.Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: set[str]) -> str | None:
    """The package module that `import name` runs last (a name inside a module maps
    to that module)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: pathlib.Path, known: set[str], root: pathlib.Path = ROOT,
               top_level_only: bool = False) -> tuple[set[str], list[str]]:
    """The package modules `module` imports, and its imports named by strings."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found, by_string = set(), []
    deferred = {id(inner) for node in ast.walk(tree)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if top_level_only and id(node) in deferred:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, known)
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}", known) if base else None
                if target:
                    found.add(target)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            literal = node.args and isinstance(node.args[0], ast.Constant)
            if name in ("import_module", "__import__") and not literal:
                by_string.append(f"{path.relative_to(root)}:{node.lineno} {name}(...)")
            elif name == "loader" and node.args:
                by_string.append(f"{path.relative_to(root)}:{node.lineno} loader(...) table")
    found.discard(module)
    # `from pathnet_tf import x` inside pathnet_tf/__init__ is not an edge to itself;
    # an implicit parent package is not an edge either.
    return found, by_string


def graph(root: pathlib.Path = ROOT,
          top_level_only: bool = False) -> tuple[dict[str, set[str]], list[str]]:
    files = modules(root)
    known = set(files)
    edges, by_string = {}, []
    for module, path in files.items():
        edges[module], strings = imports_of(module, path, known, root, top_level_only)
        by_string += strings
    return edges, by_string


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted; only those of 2+ modules."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(c for c in components if len(c) > 1)


def floors(edges: dict[str, set[str]]) -> dict[str, int]:
    """Each module's floor: the longest import chain below it (a circle is one node)."""
    component_of = {}
    for number, component in enumerate(circles(edges)):
        for module in component:
            component_of[module] = number
    node = {m: component_of.get(m, m) for m in edges}
    members = {}
    for module, key in node.items():
        members.setdefault(key, []).append(module)
    below = {key: {node[t] for m in ms for t in edges[m]} - {key} for key, ms in members.items()}
    level = {}

    def floor(key):
        if key not in level:
            level[key] = 1 + max((floor(k) for k in below[key]), default=-1)
        return level[key]

    return {module: floor(node[module]) for module in edges}


def folder_rank(module: str) -> int | None:
    """The floor of the module's folder in `FOLDERS` (None: the package's own
    `__init__`, the public API, above everything)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for rank, names in enumerate(FOLDERS):
        if parts[1] in names:
            return rank
    raise ValueError(f"{module} is in no folder of FOLDERS: add its folder there")


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """The imports that point to a folder above the importer's, or beside it."""
    out = []
    for module, targets in sorted(edges.items()):
        rank = folder_rank(module)
        for target in sorted(targets):
            other = folder_rank(target)
            same_folder = module.split(".")[1:2] == target.split(".")[1:2]
            if rank is not None and not same_folder and (other is None or other >= rank):
                out.append(f"{module} -> {target}")
    return out


def summary(root: pathlib.Path = ROOT, top_level_only: bool = False) -> dict:
    edges, by_string = graph(root, top_level_only)
    levels = floors(edges)
    by_floor = {}
    for module in sorted(levels, key=lambda m: (levels[m], m)):
        by_floor.setdefault(levels[module], []).append(module)
    return {
        "modules": len(edges),
        "edges": sum(map(len, edges.values())),
        "floors": {str(k): v for k, v in by_floor.items()},
        "circles": circles(edges),
        "upward_imports": upward_imports(edges),
        "named_by_strings": by_string,
        "imports": {m: sorted(t) for m, t in sorted(edges.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", action="store_true", help="list every module's imports")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--top-level", action="store_true",
                        help="only the imports that run when a module is imported (not "
                             "those inside functions)")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT,
                        help="the repository to read (default: this one)")
    args = parser.parse_args(argv)
    result = summary(args.root, args.top_level)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    short = lambda m: m.removeprefix(f"{PACKAGE}.") if m != PACKAGE else m  # noqa: E731
    print(f"{result['modules']} modules, {result['edges']} imports between them, "
          f"{len(result['floors'])} floors")
    for level, names in result["floors"].items():
        print(f"floor {level} ({len(names)}): {', '.join(map(short, names))}")
    print("folders, bottom up: " + " < ".join("/".join(names) for names in FOLDERS))
    print(f"upward imports: {len(result['upward_imports'])}")
    for edge in result["upward_imports"]:
        print("  " + edge)
    print(f"circles: {len(result['circles'])}")
    for circle in result["circles"]:
        print("  " + " <-> ".join(map(short, circle)))
    print(f"modules named by strings: {len(result['named_by_strings'])}")
    for where in result["named_by_strings"]:
        print("  " + where)
    if args.edges:
        for module, targets in result["imports"].items():
            print(f"{short(module)} -> {', '.join(map(short, targets)) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
