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
        "import sys, curriculum, curriculum.simulator, curriculum.bench, rl, rl.cli; "
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
        "import curriculum, curriculum.simulator, curriculum.bench, rl.cli\n"
        "from curriculum import Curriculum\n"
        "cur = Curriculum(100, seed=0); ids = cur.propose(8); cur.observe(ids.repeat(4), [1.0, 0.0] * 16)\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
