"""Imports only point down: a module may import its own layer and the layers below it, never above.

A fork replaces a layer (the tasks, the rewards, the recipe) and keeps everything under it. The
scan reads every module of ``SCANNED`` with ``ast``: ``import`` / ``from ... import`` at module level
and inside functions, ``importlib.import_module("...")`` / ``__import__("...")`` string literals,
and, in a module that imports by a computed name, every string constant that names one of this
project's modules (a ``STEPS`` / ``COMMANDS`` table). Importing ``a.b.c`` also runs ``a/__init__.py``
and ``a/b/__init__.py``: what those import counts as imported too ("via").
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("data_prep", "rewards", "recipes", "bench")

# Lowest first. A module sits in the layer of its longest matching prefix ("a.b" matches "a.b" and
# "a.b.*"); it may import modules of its own layer and of the layers listed before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # The row format, data_source names, JSONL / atomic writes; prompts: pure text the schema reads.
    ("core", ("data_prep.schema", "data_prep.prompts", "data_prep.jsonl", "data_prep.media", "rewards.naming")),
    # Pretext tasks: sample generators, perturbations, and their graders.
    ("tasks", ("data_prep.tasks", "data_prep.perturbations", "rewards.tasks")),
    # Scoring for verl and eval: loadable on a reward worker without the data-building code.
    ("rewards", ("rewards",)),
    # Raw videos -> frames -> parquet rows, cards, previews; may use the rewards (answer priors).
    ("data", ("data_prep",)),
    ("recipes", ("recipes",)),
    ("eval", ("recipes.videossr.eval",)),
    # Compose the layers: the whole demo, the benchmarks.
    ("entry points", ("recipes.videossr.demo", "bench")),
]

# Upward edges that exist today, each with its fix; in files other helpers own (the task units are
# being reshaped concurrently), so allowed here until that work removes them. Keys are (importer,
# imported) module prefixes. An entry no edge matches any more fails test_no_stale_allowances:
# delete it then.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("data_prep.tasks", "rewards.scoring"):
        "via rewards/__init__.py, which importing rewards.naming or rewards.tasks runs: make its "
        "score/RESULT_KEYS exports lazy (a module __getattr__) and this edge goes",
    ("recipes.videossr.metrics", "recipes.videossr.eval.plot"):
        "the training-metrics plots share eval/plot.py's GREY/PALETTE/_font; move those to a "
        "recipes-layer module both import",
}

_DYNAMIC_IMPORTS = {"import_module", "__import__"}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::\w+)?")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))
            if "__pycache__" not in p.parts}


def layer_of(module: str) -> int:
    best, layer = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), index
    if layer is None:
        raise KeyError(f"{module} is in no layer of LAYERS")
    return layer


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` loads (its longest prefix that is a module), or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in modules:
            return candidate
    return None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    how: str  # "import", "by string", "via a/__init__.py (run by importing a.b)"

    def __str__(self) -> str:
        low, high = LAYERS[layer_of(self.source)][0], LAYERS[layer_of(self.target)][0]
        return f"{self.source} -> {self.target} ({low} -> {high}; {self.how})"


def direct_imports(module: str, source: str, modules: dict[str, Path]) -> set[tuple[str, str]]:
    """(target module, how) for every project module ``module``'s source imports, at any depth."""
    tree = ast.parse(source)
    is_package = module in modules and modules[module].name == "__init__.py"
    names: set[tuple[str, str]] = set()
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(alias.name, "import") for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package
                package = module.split(".")[: len(module.split(".")) - node.level + int(is_package)]
                base = ".".join(package + ([node.module] if node.module else []))
            # ``from a.b import c``: the module a.b.c if there is one, else a.b (resolved below)
            names |= {(f"{base}.{alias.name}" if alias.name != "*" else base, "import") for alias in node.names}
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in _DYNAMIC_IMPORTS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add((first.value, "by string"))
                else:
                    dynamic = True
    if dynamic:  # a computed name: any string constant naming a project module may be it
        names |= {(node.value.split(":")[0], "by string") for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and _DOTTED.fullmatch(node.value)}
    found = set()
    for name, how in names:
        target = _resolve(name, modules)
        if target and target != module and target.split(".")[0] in SCANNED:
            found.add((target, how))
    return found


def import_edges(modules: dict[str, Path]) -> set[Edge]:
    direct = {m: direct_imports(m, p.read_text(), modules) for m, p in modules.items()}
    edges = set()
    for module, targets in direct.items():
        own_packages = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 1)}
        for target, how in targets:
            edges.add(Edge(module, target, how))
            parts = target.split(".")
            for k in range(1, len(parts)):  # the package __init__ files importing ``target`` runs
                package = ".".join(parts[:k])
                if package in own_packages or package not in direct:
                    continue
                for via_target, _ in direct[package]:
                    if via_target != module:
                        edges.add(Edge(module, via_target, f"via {package.replace('.', '/')}/__init__.py, "
                                                           f"run by importing {target}"))
    return edges


def upward(edges: set[Edge]) -> list[Edge]:
    return sorted((e for e in edges if layer_of(e.target) > layer_of(e.source)), key=str)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def allowance(edge: Edge) -> tuple[str, str] | None:
    return next((key for key in ALLOWED_UPWARD if _within(edge.source, key[0]) and _within(edge.target, key[1])), None)


@pytest.fixture(scope="module")
def edges():
    return import_edges(project_modules())


def test_every_module_has_a_layer():
    for module in project_modules():
        layer_of(module)  # raises naming the module


def test_imports_point_down(edges):
    bad = [str(e) for e in upward(edges) if allowance(e) is None]
    assert not bad, "modules import a higher layer (LAYERS in this file):\n  " + "\n  ".join(bad)


def test_no_stale_allowances(edges):
    used = {allowance(e) for e in upward(edges)}
    stale = sorted(f"{s} -> {t}" for s, t in ALLOWED_UPWARD if (s, t) not in used)
    assert not stale, f"no longer imported upward, delete from ALLOWED_UPWARD: {stale}"


def test_the_scan_sees_the_project(edges):
    """Guards against a scan that silently finds nothing (edges this project must have)."""
    pairs = {(e.source, e.target) for e in edges}
    assert ("recipes.videossr.demo", "data_prep.commands.demo") in pairs
    assert ("data_prep.cli", "data_prep.commands.frames") in pairs  # COMMANDS: by string
    assert ("recipes.videossr.eval.downstream.metrics", "rewards.tasks.grounding") in pairs
    assert len(project_modules()) > 100


SOURCES_OF_UPWARD_EDGES = {
    "table of names": '''
import importlib
STEPS = [("data_prep.commands.build", "demo_step"), ("recipes.videossr.token_counts", "demo_step")]
def run(out):
    for module, function in STEPS:
        getattr(importlib.import_module(module), function)(out)
''',
    "literal": 'import importlib\nimportlib.import_module("recipes.videossr.token_counts")\n',
    "function level": "def run():\n    from recipes.videossr.token_counts import demo_step\n",
    "plain import": "import recipes.videossr.token_counts as tc\n",
}


@pytest.mark.parametrize("kind", sorted(SOURCES_OF_UPWARD_EDGES))
def test_the_scan_names_an_upward_edge(kind):
    """The import that this test exists to stop (the old demo's STEPS) is caught, in every form."""
    modules = project_modules()
    found = {Edge("data_prep.commands.demo", t, how)
             for t, how in direct_imports("data_prep.commands.demo", SOURCES_OF_UPWARD_EDGES[kind], modules)}
    assert [str(e).split(" (")[0] for e in upward(found)] == ["data_prep.commands.demo -> recipes.videossr.token_counts"]


def test_an_init_import_counts_for_its_importers(tmp_path):
    """Importing ``rewards.naming`` runs ``rewards/__init__.py``: what that imports, the importer does too."""
    files = {
        "rewards": "from rewards.scoring import score\n",
        "rewards.naming": "",
        "rewards.scoring": "",
        "data_prep.tasks.fake": "from rewards.naming import make_data_source\n",
    }
    modules = {}
    for name, text in files.items():
        path = tmp_path / name / "__init__.py" if name == "rewards" else tmp_path / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        modules[name] = path
    (edge,) = upward(import_edges(modules))
    assert str(edge) == ("data_prep.tasks.fake -> rewards.scoring (tasks -> rewards; via rewards/__init__.py, "
                         "run by importing rewards.naming)")
