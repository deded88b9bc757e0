"""Prompt pools as `datasets.Dataset`s: generated from the task families, or loaded from local files.

Every pool has the columns `prompt` (str), `answer` (str) and `difficulty` (int, 1 = easiest; optional in
loaded files), plus `family` for generated pools; TRL hands all columns to the reward functions as keyword lists.

- `build_pool(families, levels, per_level, seed)`: `per_level` distinct prompts per family and level.
  Draw `i` of a split uses its own seed, hashed from `(split, seed, i)`, so pools are reproducible
  and the `train` and `eval` seed streams never meet.
- `build_eval(...)`: the same from the `eval` stream, minus every prompt of the training pool
  (`exclude=`), so the held-out split is disjoint by prompt, not only by seed.
- `load_prompts(path, ...)`: a local JSONL/JSON file, a Parquet file, or a `save_to_disk` folder,
  with its columns renamed to the ones above; `difficulty_column=None` (the default) uses a `difficulty`
  column if there is one and warns once if not. Rows without a prompt or an answer are refused at load time
  with the file and line (see `tasks/files.py`). String difficulty labels become ranks 1..K: when every
  label is an ordinal word they follow `easy < medium < hard` (see `ORDINAL_WORDS`), otherwise natural
  sort order ("Level 2" < "Level 10"). The mapping is logged.

    from tasks import build_pool, build_eval
    train = build_pool(["arithmetic", "sorting"], levels=None, per_level=200, seed=0)
    held_out = build_eval(["arithmetic", "sorting"], levels=None, per_level=50, seed=0, exclude=train)
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import datasets

from tasks.base import Task, get_task
from tasks.files import check_rows, is_missing, read_table, where

logger = logging.getLogger(__name__)

ORDINAL_WORDS = {
    "trivial": 0, "very easy": 1, "easy": 2, "medium": 3, "moderate": 3, "intermediate": 3,
    "hard": 4, "difficult": 4, "very hard": 5, "expert": 6,
}  # fmt: skip
"""Difficulty words and their order, used when every label is one of them."""


def _draw_seed(split: str, seed: int, i: int) -> int:
    digest = hashlib.sha256(f"{split}:{seed}:{i}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # 63 bits


def _resolve(families: Sequence[str | Task]) -> list[Task]:
    return [get_task(f) if isinstance(f, str) else f for f in families]


def _draw(task: Task, level: int, per_level: int, seed: int, split: str, exclude: set[str]) -> list[dict]:
    """`per_level` distinct prompts not in `exclude`; fewer (with a warning) if the level is too small."""
    rows: list[dict] = []
    seen = set(exclude)
    for i in range(20 * per_level + 100):
        if len(rows) == per_level:
            break
        ex = task.generate(level, _draw_seed(f"{split}:{task.family}:{level}", seed, i))
        if ex.prompt not in seen:
            seen.add(ex.prompt)
            rows.append({"prompt": ex.prompt, "answer": ex.answer, "difficulty": level, "family": ex.family})
    if len(rows) < per_level:
        logger.warning(
            "%s level %d: only %d distinct %s prompts (asked for %d)",
            task.family,
            level,
            len(rows),
            split,
            per_level,
        )
    return rows


def _build(families, levels, per_level, seed, split, exclude) -> datasets.Dataset:
    rows: list[dict] = []
    for task in _resolve(families):
        for level in task.levels if levels is None else levels:
            rows += _draw(task, level, per_level, seed, split, exclude)
    features = datasets.Features(
        prompt=datasets.Value("string"), answer=datasets.Value("string"),
        difficulty=datasets.Value("int64"), family=datasets.Value("string"),
    )  # fmt: skip
    return datasets.Dataset.from_list(rows, features=features)


def build_pool(
    families: Sequence[str | Task], levels: Sequence[int] | None, per_level: int, seed: int = 0
) -> datasets.Dataset:
    """The training pool: `per_level` distinct prompts per family and level (`levels=None`: all)."""
    return _build(families, levels, per_level, seed, "train", set())


def build_eval(
    families: Sequence[str | Task],
    levels: Sequence[int] | None,
    per_level: int,
    seed: int = 0,
    exclude: datasets.Dataset | Iterable[str] = (),
) -> datasets.Dataset:
    """A held-out split from a separate seed stream, without any prompt of `exclude` (a pool or prompts)."""
    prompts = exclude["prompt"] if isinstance(exclude, datasets.Dataset) else exclude
    return _build(families, levels, per_level, seed, "eval", set(prompts))


def _natural_key(label: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", label) if p)


def difficulty_ranks(labels: Iterable[Any]) -> dict[Any, int]:
    """Map difficulty labels to ranks 1..K (see the module docstring for the order)."""
    unique = set(labels)
    if all(isinstance(x, (int, float)) and float(x).is_integer() for x in unique):
        return {x: int(x) for x in unique}
    if all(isinstance(x, (int, float)) for x in unique):
        return {x: r for r, x in enumerate(sorted(unique), start=1)}
    words = {x: str(x).strip().lower() for x in unique}
    if all(w in ORDINAL_WORDS for w in words.values()):
        order = sorted(unique, key=lambda x: (ORDINAL_WORDS[words[x]], words[x]))
    else:
        order = sorted(unique, key=lambda x: _natural_key(words[x]))
    return {x: r for r, x in enumerate(order, start=1)}


def _require(ds: datasets.Dataset, column: str, role: str, argument: str, path: Path) -> None:
    if column not in ds.column_names:
        hint = ""
        if argument == "difficulty_column":
            labelled = "difficulty" in ds.column_names
            hint = f" (or difficulty_column=None to {'use the difficulty column' if labelled else 'go without labels'})"
        raise ValueError(
            f"{path}: no {role} column {column!r}; columns found: {ds.column_names}. "
            f"Rename it to {column!r} or pass {argument}=<one of the columns found>{hint}"
        )


def _rename(ds: datasets.Dataset, source: str, target: str, path: Path) -> datasets.Dataset:
    if source == target:
        return ds
    if target in ds.column_names:
        raise ValueError(f"{path}: cannot rename {source!r} to {target!r}: a {target!r} column exists already")
    return ds.rename_column(source, target)


def _difficulty_source(ds: datasets.Dataset, difficulty_column: str | None, taken: set[str], path: Path) -> str | None:
    """The column to read difficulty labels from: the one asked for, else 'difficulty' if present, else None."""
    if difficulty_column is not None:
        _require(ds, difficulty_column, "difficulty", "difficulty_column", path)
        return difficulty_column
    if "difficulty" in ds.column_names:
        return "difficulty"
    others = [c for c in ds.column_names if c not in taken]
    likely = [c for c in others if "level" in c.lower() or "difficult" in c.lower()]
    use = f"difficulty_column={likely[0]!r}" if likely else "difficulty_column=<a column>"
    found = f" (other columns: {others})" if others else ""
    logger.warning("%s: no 'difficulty' column, so no difficulty labels%s; pass %s to use one", path, found, use)
    return None


def _with_int_difficulty(ds: datasets.Dataset, source: str, path: Path) -> datasets.Dataset:
    labels = ds["difficulty"]
    missing = [i for i, x in enumerate(labels) if is_missing(x)]
    if missing:
        fix = "rename the column" if source == "difficulty" else "leave difficulty_column=None"
        raise ValueError(
            f"{path}, {where(path, missing[0])}: column {source!r} (the difficulty) is null (in {len(missing)} of "
            f"{len(labels)} rows); fill them in, or {fix} to go without labels"
        )
    odd = [i for i, x in enumerate(labels) if not isinstance(x, str | int | float)]
    if odd:
        label = labels[odd[0]]
        raise ValueError(
            f"{path}, {where(path, odd[0])}: column {source!r} (the difficulty) is a {type(label).__name__}; "
            "expected a number or a label such as 'easy' or 'Level 3'"
        )
    ranks = difficulty_ranks(labels)
    if any(not isinstance(x, int) or ranks[x] != x for x in ranks):
        logger.info("%s: difficulty labels -> levels %s", path, dict(sorted(ranks.items(), key=lambda kv: kv[1])))
    new = [ranks[x] for x in labels]  # [num_rows]
    ds = ds.remove_columns("difficulty").add_column("difficulty", new)
    return ds.cast_column("difficulty", datasets.Value("int64"))


def _answers_as_text(ds: datasets.Dataset) -> datasets.Dataset:
    """The answer column as strings: 72 -> "72" (numbers), and mixed numbers and strings alike."""
    feature = ds.features["answer"]
    if isinstance(feature, datasets.Value):
        if feature.dtype in ("string", "large_string"):
            return ds
        return ds.cast_column("answer", datasets.Value("string"))
    # mixed types (a Json feature): numbers as Arrow's cast would write them, 2.0 -> "2"
    text = [str(int(a)) if isinstance(a, float) and a.is_integer() else str(a) for a in ds["answer"]]  # [num_rows]
    order = ds.column_names
    ds = ds.remove_columns("answer").add_column("answer", text)
    return ds.select_columns(order)


def load_prompts(
    path: str | Path,
    prompt_column: str = "prompt",
    answer_column: str = "answer",
    difficulty_column: str | None = None,
    split: str = "train",
) -> datasets.Dataset:
    """Load a local prompt pool with columns `prompt`, `answer` (str) and, when labelled, `difficulty` (int).

    `path`: a .jsonl/.json file, a .parquet file, or a `save_to_disk` folder (`split` picks one split
    of a saved `DatasetDict`). Other columns are kept. `difficulty_column=None` takes the labels from a
    `difficulty` column if there is one and goes without (with a warning) if not; a named column must exist.
    A missing column raises a ValueError that names it, the columns found, and the argument to pass; so does
    a row without a prompt or an answer, naming the file and its line (or row).
    """
    path = Path(path).expanduser()
    ds = read_table(path, split)
    wanted = [(prompt_column, "prompt", "prompt_column"), (answer_column, "answer", "answer_column")]
    for column, role, argument in wanted:
        _require(ds, column, role, argument, path)
    source = _difficulty_source(ds, difficulty_column, {prompt_column, answer_column}, path)
    if source is not None:
        wanted.append((source, "difficulty", "difficulty_column"))
    check_rows(ds, prompt_column, "prompt", path)
    check_rows(ds, answer_column, "answer", path)
    for column, role, _ in wanted:
        ds = _rename(ds, column, role, path)
    ds = _answers_as_text(ds)
    if source is not None:
        ds = _with_int_difficulty(ds, source, path)
    return ds
