"""The layout the user asked for: `curriculum` is framework-free; imports flow rl -> curriculum, rl -> tasks; rl/
holds the integrations, each over the framework-free middle and none over another: the TRL drop-in in a folder of its
own (rl/trl/), prime-rl's and verl's one file each (rl/prime_rl.py, rl/verl.py); the applications sit on top, in
folders of their own: recipes/ (the product: the CLI, `curriculum train`) over the library, studies/ (`curriculum
ablate`), benches/ (dev rigs) and examples/ over recipes. Nothing in the library imports an application, and recipes
imports no study or bench (its CLI reaches them by module name)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "trl", "accelerate", "peft", "datasets")
LIBRARY = ("curriculum", "rl", "tasks")
APPLICATIONS = ("recipes", "studies", "benches", "examples")
MAY_IMPORT = {
    "curriculum": set(),
    "tasks": set(),
    "rl": {"curriculum", "tasks"},
    "recipes": set(LIBRARY),
    "studies": {*LIBRARY, "recipes"},
    "benches": {*LIBRARY, "recipes"},
    "examples": {*LIBRARY, "recipes"},
}
"""The layers: the project packages each package may import besides itself."""
ONE_FILE_INTEGRATIONS = ("prime_rl", "verl")
"""rl/'s integrations of one file each, over curriculum/driver.py; the TRL drop-in is the folder rl/trl/."""


def imported_modules(package: str) -> set[str]:
    """The top-level names every file of `package` (a folder, or one file such as "rl/verl.py") imports."""
    root = ROOT / package
    names: set[str] = set()
    for path in root.rglob("*.py") if root.is_dir() else [root]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_core_imports_neither_the_training_stack_nor_rl_nor_tasks() -> None:
    assert not imported_modules("curriculum") & {*HEAVY, "rl", "tasks"}


def test_importing_the_core_and_the_cli_does_not_import_torch() -> None:
    code = (
        "import sys, curriculum, curriculum.tools.simulator, curriculum.tools.bench, rl, rl.trl, rl.prime_rl, rl.verl, "
        "recipes.cli; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_tasks_never_import_rl() -> None:
    assert "rl" not in imported_modules("tasks")


def test_rl_holds_the_integrations_with_the_trl_drop_in_in_its_own_folder() -> None:
    rl = ROOT / "rl"
    assert sorted(p.stem for p in rl.glob("*.py")) == ["__init__", *ONE_FILE_INTEGRATIONS]
    assert sorted(p.name for p in rl.iterdir() if p.is_dir() and p.name != "__pycache__") == ["trl"]
    assert {"__init__", "config", "trainer", "sampler", "feedback", "checkpoint"} <= {p.stem for p in rl.glob("trl/*.py")}


def test_the_one_file_integrations_import_neither_the_training_stack_nor_the_trl_drop_in() -> None:
    """prime-rl's and verl's integrations are numpy over the middle: no torch, no TRL, no rl.trl, not even in a
    function; importing them loads none of it."""
    for name in ONE_FILE_INTEGRATIONS:
        assert not imported_modules(f"rl/{name}.py") & set(HEAVY), f"rl/{name}.py imports the training stack"
    code = (
        "import sys, rl.prime_rl, rl.verl; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith('rl.trl')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_core_and_its_tools_run_on_numpy_alone() -> None:
    """`pip install rlvr-curriculum` installs numpy only: the core, the simulator, the bench and the CLI's entry
    must import with every other third-party package blocked."""
    blocked = [*HEAVY, "yaml", "tqdm", "matplotlib", "safetensors", "math_verify", "scipy", "pandas"]
    code = (
        f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
        "import curriculum, curriculum.tools.simulator, curriculum.tools.bench, recipes.cli\n"
        "from curriculum import Curriculum\n"
        "cur = Curriculum(100, seed=0); ids = cur.propose(8); cur.observe(ids.repeat(4), [1.0, 0.0] * 16)\n"
        "print('ok', recipes.cli.main(['train']), recipes.cli.main(['ablate']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok 2 2", out.stderr[-2000:]
    for command in ("train", "ablate"):
        assert f"curriculum {command} needs" in out.stderr, f"{command} without the extra says what to install"
    assert out.stderr.count('pip install "rlvr-curriculum[trl]"') == 2


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for pkg in (*LIBRARY, *APPLICATIONS) for p in (ROOT / pkg).rglob("*.py")}


def import_edges(source: str, name: str, package: str, mods: Collection[str]) -> set[str]:
    """The project modules `source` (module `name` in `package`) imports: every import statement, at module level,
    inside a function or under `if TYPE_CHECKING:` (a type names what a module means: a circle in types is one too)."""
    edges: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
        edges.update(t for t in targets if t in mods and t != name)
    return edges


def import_graph() -> dict[str, set[str]]:
    """{module: project modules it imports} (`import_edges`)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = import_edges(path.read_text(), name, package, mods)
    return graph


def find_circle(graph: Mapping[str, Collection[str]]) -> list[str] | None:
    """One import circle of `graph` as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt, [*path, nxt])):
                return circle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start, [start])):
            return circle
    return None


def layer_violations(graph: Mapping[str, Collection[str]]) -> list[str]:
    """Each import of `graph` into another package that `MAY_IMPORT` does not allow, as "module imports module"."""
    return sorted(
        f"{name} imports {e}"
        for name, edges in graph.items()
        for e in edges
        if e.split(".")[0] != name.split(".")[0] and e.split(".")[0] not in MAY_IMPORT[name.split(".")[0]]
    )


def integration(module: str) -> str:
    """The integration an rl module belongs to: "rl.trl" for the drop-in's folder, else the module (one file)."""
    return "rl.trl" if module == "rl.trl" or module.startswith("rl.trl.") else module


def integration_crossings(graph: Mapping[str, Collection[str]]) -> list[str]:
    """Each import of `graph` from one integration in rl/ into another, as "module imports module" (rl's
    `__init__` names rl.trl for importlib only, and is no integration)."""
    return sorted(
        f"{name} imports {e}"
        for name, edges in graph.items()
        if name.startswith("rl.")
        for e in edges
        if e.startswith("rl.") and integration(e) != integration(name)
    )


def test_each_package_imports_only_the_layers_below_it() -> None:
    graph = import_graph()
    assert {name.split(".")[0] for name in graph} == set(MAY_IMPORT), "a package without its layer"
    assert layer_violations(graph) == []


def test_the_layer_check_catches_an_import_against_the_layers() -> None:
    graph = {
        "rl.trl.trainer": {"recipes.train", "curriculum.core"},
        "tasks.gym": {"rl.trl.config"},
        "recipes.cli": {"studies.ablate", "rl.trl.features"},
        "recipes.train": {"benches.overhead"},
        "studies.ablate": {"recipes.train", "benches.overhead"},
        "benches.overhead": {"recipes.toy", "rl.trl.trainer"},
        "examples.plain_loop": {"recipes.build"},
    }
    assert layer_violations(graph) == [
        "recipes.cli imports studies.ablate",
        "recipes.train imports benches.overhead",
        "rl.trl.trainer imports recipes.train",
        "studies.ablate imports benches.overhead",
        "tasks.gym imports rl.trl.config",
    ]


def test_each_integration_stands_on_the_middle_not_on_another_integration() -> None:
    graph = import_graph()
    assert {integration(n) for n in graph if n.startswith("rl.")} == {"rl.trl", *(f"rl.{n}" for n in ONE_FILE_INTEGRATIONS)}
    assert integration_crossings(graph) == []
    assert {"curriculum.driver"} <= graph["rl.prime_rl"] & graph["rl.verl"], "prime-rl and verl are over the driver"


def test_the_integration_check_catches_one_integration_over_another() -> None:
    graph = {
        "rl.verl": {"rl.trl.stream", "curriculum.driver"},
        "rl.prime_rl": {"rl.verl", "curriculum.feedback"},
        "rl.trl.trainer": {"rl.trl.sampler", "rl.prime_rl", "tasks.data"},
        "rl.trl.sampler": {"rl.trl.stopwatch", "curriculum.core"},
        "rl": {"rl.trl"},
    }
    assert integration_crossings(graph) == [
        "rl.prime_rl imports rl.verl",
        "rl.trl.trainer imports rl.prime_rl",
        "rl.verl imports rl.trl.stream",
    ]


def test_the_library_never_imports_an_application_nor_the_core_its_tools() -> None:
    graph = import_graph()
    for name, edges in graph.items():
        if name.split(".")[0] in LIBRARY:
            assert not {e for e in edges if e.split(".")[0] in APPLICATIONS}, f"{name} imports an application"
        if name.startswith("curriculum") and not name.startswith("curriculum.tools"):
            assert not {e for e in edges if e.startswith("curriculum.tools")}, f"{name} imports a tool"
    for package in LIBRARY:
        assert not imported_modules(package) & set(APPLICATIONS), f"{package} imports an application"


def test_recipes_reach_the_studies_and_benches_by_module_name_only() -> None:
    """recipes imports no study or bench (an import statement anywhere, in a function too); its CLI names them as
    strings for importlib, and every name it gives is a module there."""
    assert not imported_modules("recipes") & {"studies", "benches"}
    names = {
        node.value
        for node in ast.walk(ast.parse((ROOT / "recipes" / "cli.py").read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(("studies.", "benches."))
    }
    assert {"studies.ablate", "benches.overhead", "benches.stream_bench"} <= names
    missing = [n for n in sorted(names) if not (ROOT / (n.replace(".", "/") + ".py")).is_file()]
    assert not missing, f"recipes/cli.py names modules that do not exist: {missing}"


def test_the_examples_are_applications_that_nothing_imports() -> None:
    """examples/ (scripts, not a package) may import curriculum, rl, tasks and recipes; no module imports an example."""
    graph = import_graph()
    assert "examples.plain_loop" in graph
    importers = {name for name, edges in graph.items() if any(e.startswith("examples") for e in edges)}
    assert not importers, f"{sorted(importers)} import an example"
    assert "examples" not in imported_modules("curriculum") | imported_modules("rl") | imported_modules("tasks")


def test_there_is_no_import_circle_not_even_in_types() -> None:
    circle = find_circle(import_graph())
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_check_finds_a_circle_through_a_type_only_import() -> None:
    """The former core -> policies -> core circle: policies imported the core only under TYPE_CHECKING."""
    mods = {"curriculum.core", "curriculum.policies"}
    graph = {
        "curriculum.core": import_edges("from .policies import POLICY_CLASSES", "curriculum.core", "curriculum", mods),
        "curriculum.policies": import_edges(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .core import Curriculum",
            "curriculum.policies",
            "curriculum",
            mods,
        ),
    }
    assert find_circle(graph) == ["curriculum.core", "curriculum.policies", "curriculum.core"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_the_applications_read_in_small_functions_with_no_class_inside_one() -> None:
    """recipes/, studies/ and benches/ are read top to bottom: no function over 60 lines, and every class at module
    level (built with an explicit constructor, not closing over a function's locals)."""
    too_long, nested = [], []
    for path in sorted(p for app in ("recipes", "studies", "benches") for p in (ROOT / app).rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    too_long.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
                nested += [f"{where}:{c.lineno} {c.name}" for c in ast.walk(node) if isinstance(c, ast.ClassDef)]
    assert not too_long, f"functions over 60 lines: {too_long}"
    assert not nested, f"classes defined inside a function: {nested}"


# ---- the policy layer: a policy reads the curriculum only through its PolicyView ---------------------------------
POLICY_IMPORTS = {
    "curriculum.beliefs",
    "curriculum.permutation",
    "curriculum.pools",
    "curriculum.settings",
    "curriculum.statecheck",
    "curriculum.streams",
}
"""The core's modules a policy module may import (beside curriculum.policies.*): plain helpers, none of its parts'
state. Not the core, the view's implementation, the tracker, the ability model, the features or the config."""
REFLECTION = {"getattr", "setattr", "delattr", "vars"}


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The modules an import statement in `package` names, relative ones resolved."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base]


def _is_config_of(node: ast.AST, views: set[str]) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "config"
        and isinstance(node.value, ast.Name)
        and node.value.id in views
    )


def policy_violations(source: str, view_names: Collection[str], config_names: Collection[str]) -> list[str]:
    """What a policy module reads past its view: an import of the core's internals, a private attribute of anything
    but itself, reflection, a name the `PolicyView` does not offer (on a parameter typed PolicyView) or a config field
    `SharedSettings` does not (on `view.config`, or a name bound to it)."""
    out: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _imported(node, "curriculum.policies"):
                project = target.split(".")[0] in ("curriculum", "rl", "tasks")
                if project and target not in POLICY_IMPORTS and not target.startswith("curriculum.policies"):
                    out.append(f"line {node.lineno}: imports {target}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                out.append(f"line {node.lineno}: reads the private .{node.attr} of {ast.unparse(node.value)}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in REFLECTION:
            out.append(f"line {node.lineno}: {node.func.id}() reads around the view")  # type: ignore[attr-defined]
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        views = {a.arg for a in params if a.annotation is not None and ast.unparse(a.annotation) == "PolicyView"}
        configs: set[str] = set()
        for node in ast.walk(fn):  # names bound to view.config: cfg = view.config; cfg, n = view.config, ...
            if isinstance(node, ast.Assign):
                target, value = node.targets[0], node.value
                pairs = (
                    zip(target.elts, value.elts, strict=False)
                    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                    else [(target, value)]
                )
                configs |= {t.id for t, v in pairs if isinstance(t, ast.Name) and _is_config_of(v, views)}
        for node in ast.walk(fn):
            if not isinstance(node, ast.Attribute):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in views and node.attr not in view_names:
                out.append(f"line {node.lineno}: {node.value.id}.{node.attr} is not in the PolicyView")
            on_config = (isinstance(node.value, ast.Name) and node.value.id in configs) or _is_config_of(node.value, views)
            if on_config and node.attr not in config_names:
                out.append(f"line {node.lineno}: config.{node.attr} is not a SharedSettings field")
    return out


def _protocol_names(protocol: type) -> set[str]:
    return {n for n in vars(protocol) if not n.startswith("_")}


def test_the_policies_read_the_curriculum_only_through_the_view() -> None:
    from curriculum.policies.base import PolicyView, SharedSettings

    view_names, config_names = _protocol_names(PolicyView), _protocol_names(SharedSettings)
    found = {
        path.name: policy_violations(path.read_text(), view_names, config_names)
        for path in sorted((ROOT / "curriculum" / "policies").glob("*.py"))
    }
    assert len(found) >= 6, "base, registry and the four policies"
    assert not {k: v for k, v in found.items() if v}, found


BAD_POLICIES = {
    "the core imported": "from curriculum.core import Curriculum",
    "the core imported for its types": "if TYPE_CHECKING:\n    from curriculum import core",
    "the ability model imported": "from curriculum.ability import AbilityModel",
    "a part read through the view": "def propose(self, view: PolicyView, k, rng):\n    return view.tracker.attempts[:k]",
    "the core's oracle": "def propose(self, view: PolicyView, k, rng):\n    return view.oracle(k)",
    "a private attribute": "def propose(self, view: PolicyView, k, rng):\n    return view._core.pending",
    "a private attribute of a part": "def f(pools):\n    return pools._pools",
    "reflection": "def propose(self, view: PolicyView, k, rng):\n    return getattr(view, 'tracker')",
    "another policy's settings": "def f(view: PolicyView):\n    cfg = view.config\n    return cfg.adaptive.retention",
    "a core field not shared": "def f(view: PolicyView):\n    return view.config.tracker_half_life",
}


def test_the_policy_check_catches_a_policy_touching_internals() -> None:
    from curriculum.policies.base import PolicyView, SharedSettings

    view_names, config_names = _protocol_names(PolicyView), _protocol_names(SharedSettings)
    for what, source in BAD_POLICIES.items():
        assert policy_violations(source, view_names, config_names), f"not caught: {what}"
    good = "from curriculum.streams import Stream\ndef f(self, view: PolicyView):\n    return view.config.target, self._key"
    assert policy_violations(good, view_names, config_names) == []


def test_the_view_offers_every_name_of_the_policy_view() -> None:
    from curriculum.policies.base import PolicyView
    from curriculum.view import CurriculumView

    assert _protocol_names(PolicyView) <= _protocol_names(CurriculumView)
