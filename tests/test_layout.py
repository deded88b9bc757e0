"""The layout the user asked for: `curriculum` is framework-free; imports flow rl -> curriculum, rl -> tasks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "trl", "accelerate", "peft", "datasets")


def imported_modules(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
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
        "import sys, curriculum, curriculum.tools.simulator, curriculum.tools.bench, rl, rl.recipes.cli; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_tasks_never_import_rl() -> None:
    assert "rl" not in imported_modules("tasks")


def test_the_core_and_its_tools_run_on_numpy_alone() -> None:
    """`pip install rlvr-curriculum` installs numpy only: the core, the simulator, the bench and the CLI's entry
    must import with every other third-party package blocked."""
    blocked = [*HEAVY, "yaml", "tqdm", "matplotlib", "safetensors", "math_verify", "scipy", "pandas"]
    code = (
        f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
        "import curriculum, curriculum.tools.simulator, curriculum.tools.bench, rl.recipes.cli\n"
        "from curriculum import Curriculum\n"
        "cur = Curriculum(100, seed=0); ids = cur.propose(8); cur.observe(ids.repeat(4), [1.0, 0.0] * 16)\n"
        "print('ok', rl.recipes.cli.main(['train']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok 2", out.stderr[-2000:]
    assert 'pip install "rlvr-curriculum[trl]"' in out.stderr, "train without the extra says what to install"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for pkg in ("curriculum", "rl", "tasks") for p in (ROOT / pkg).rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """{module: project modules it imports}, every import statement counted (module level or inside a function),
    except those under `if TYPE_CHECKING:`."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and getattr(block.test, "id", getattr(block.test, "attr", None)) == "TYPE_CHECKING"
            for stmt in block.body
            for n in ast.walk(stmt)
        }  # annotations only: not a runtime import
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
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
        graph[name] = edges
    return graph


def test_the_library_never_imports_an_application_nor_the_core_its_tools() -> None:
    graph = import_graph()
    for name, edges in graph.items():
        if name.startswith("rl") and not name.startswith("rl.recipes"):
            assert not {e for e in edges if e.startswith("rl.recipes")}, f"{name} imports an application"
        if name.startswith("curriculum") and not name.startswith("curriculum.tools"):
            assert not {e for e in edges if e.startswith("curriculum.tools")}, f"{name} imports a tool"


def test_there_is_no_import_circle() -> None:
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_the_recipes_read_in_small_functions_with_no_class_inside_one() -> None:
    """rl/recipes is read top to bottom: no function over 60 lines, and every class at module level (built with an
    explicit constructor, not closing over a function's locals)."""
    too_long, nested = [], []
    for path in sorted((ROOT / "rl" / "recipes").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    too_long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
                nested += [f"{path.name}:{c.lineno} {c.name}" for c in ast.walk(node) if isinstance(c, ast.ClassDef)]
    assert not too_long, f"functions over 60 lines: {too_long}"
    assert not nested, f"classes defined inside a function: {nested}"
