"""Reading a local prompt file for `load_prompts`, with one-line errors that say where and what to do.

A parser traceback does not tell a user that line 4811 of their file has a stray comma, so every failure
here is a ValueError (FileNotFoundError for a missing path) naming the file, the line or row, and the fix:

- `read_table(path, split)`: a .jsonl/.json file, a .parquet file or a `save_to_disk` folder, as a Dataset.
  When the fast reader fails on a JSON file, the file is read again line by line to find the bad line, so
  valid files cost nothing extra.
- `check_rows(ds, column, role, path)`: every prompt is a non-blank string and every answer a non-blank
  string or a finite number. A null answer must not load: str(None) is "None", which the completion "None"
  would match.
- `where(path, row)`: "line 7" in a JSON-lines file (blank lines do not count as rows, as in the reader),
  else "row 6" (counting from 0, as `ds[6]`).

    ds = read_table(Path("data/gsm8k.jsonl"), split="train")
    check_rows(ds, "question", "prompt", Path("data/gsm8k.jsonl"))
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import datasets

EXPECTED_JSON = 'expected one JSON object per line, like {"prompt": ..., "answer": ...}'
EXPECTED_ARRAY = 'expected a JSON array of objects, like [{"prompt": ..., "answer": ...}]'
DATA_SUFFIXES = (".jsonl", ".json", ".parquet")


def _one_line(err: BaseException) -> str:
    cause = err.__cause__ or err  # datasets wraps the parser's error in a DatasetGenerationError
    return f"{type(cause).__name__}: {' '.join(str(cause).split())}"[:300]


def _first_char(path: Path) -> str:
    """The first non-blank character of a text file ("" if there is none)."""
    with path.open(encoding="utf-8-sig") as f:
        while chunk := f.read(1 << 16):
            if stripped := chunk.lstrip():
                return stripped[0]
    return ""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) for each non-blank line."""
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                yield number, line


def _bad_json_line(path: Path) -> str | None:
    for number, line in _lines(path):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            return f"{path}, line {number}: not valid JSON ({e.msg}, column {e.colno}); {EXPECTED_JSON}"
        if not isinstance(value, dict):
            return f"{path}, line {number}: not a JSON object but a {type(value).__name__}; {EXPECTED_JSON}"
        for key, v in value.items():  # Python's json reads NaN and Infinity, the fast reader does not
            if isinstance(v, float) and not math.isfinite(v):
                return f"{path}, line {number}: column {key!r} is {json.dumps(v)}, which is not JSON; fix or drop the row"
    return None


def _json_error(path: Path, first: str, err: BaseException) -> ValueError:
    """Why `Dataset.from_json` failed on `path`, found by reading it again with the standard library."""
    if first == "[":  # one JSON document: an array of objects
        try:
            rows = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as e:
            return ValueError(f"{path}, line {e.lineno}: not valid JSON ({e.msg}, column {e.colno}); {EXPECTED_ARRAY}")
        if not rows:
            return ValueError(f"{path} has no rows; {EXPECTED_ARRAY}")
    elif message := _bad_json_line(path):
        return ValueError(message)
    return ValueError(f"{path}: could not be read as JSON ({_one_line(err)}); {EXPECTED_JSON}")


def _read_json(path: Path) -> datasets.Dataset:
    try:
        first = _first_char(path)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
    if not first:
        raise ValueError(f"{path} has no rows (the file is empty); {EXPECTED_JSON}")
    try:
        return datasets.Dataset.from_json(str(path))
    except Exception as err:  # StopIteration, ArrowInvalid, DatasetGenerationError, ...: diagnose it ourselves
        raise _json_error(path, first, err) from err


def _read_parquet(path: Path) -> datasets.Dataset:
    try:
        return datasets.Dataset.from_parquet(str(path))
    except Exception as err:
        raise ValueError(
            f"{path} could not be read as Parquet ({_one_line(err)}); check that it is a Parquet file, or give "
            "it the extension of what it is (.jsonl, .json)"
        ) from err


def _read_saved(path: Path, split: str) -> datasets.Dataset:
    if not ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
        files = sorted(p.name for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES)
        fix = (
            f"pass one of its files instead: {', '.join(files[:5])}"
            if files
            else "pass a .jsonl, .json or .parquet file, or write the folder with datasets.Dataset.save_to_disk"
        )
        raise ValueError(f"{path} is a folder but not one written by Dataset.save_to_disk; {fix}")
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"{path} has splits {sorted(loaded)}, not {split!r}; pass split=...")
        loaded = loaded[split]
    return loaded


def _unsupported(path: Path) -> ValueError:
    message = f"unsupported prompt file {path}: expected .jsonl, .json, .parquet, or a save_to_disk folder"
    if path.suffix.lower() in (".csv", ".tsv"):
        sep = ", sep='\\t'" if path.suffix.lower() == ".tsv" else ""
        fix = f"datasets.Dataset.from_csv('{path}'{sep}).to_json('{path.with_suffix('.jsonl')}')"
        return ValueError(f"{message}; convert it with {fix}")
    return ValueError(f'{message}; convert it to JSON lines, one {{"prompt": ..., "answer": ...}} object per line')


def read_table(path: Path, split: str) -> datasets.Dataset:
    """The rows of a local prompt file or `save_to_disk` folder (`split` picks a saved DatasetDict's split)."""
    if not path.exists():
        where = "" if path.is_absolute() else f" (relative to the working directory {Path.cwd()})"
        raise FileNotFoundError(f"no such prompt file or folder: {path}{where}; check the path")
    if path.is_dir():
        ds = _read_saved(path, split)
    elif path.suffix.lower() in (".jsonl", ".json"):
        ds = _read_json(path)
    elif path.suffix.lower() == ".parquet":
        ds = _read_parquet(path)
    else:
        raise _unsupported(path)
    if len(ds) == 0:
        raise ValueError(f"{path} has no rows; {EXPECTED_JSON}")
    return ds


# ---- rows ------------------------------------------------------------------------------------------------
def where(path: Path, row: int) -> str:
    """Where row `row` of the table read from `path` is, in the user's terms."""
    if path.is_file() and path.suffix.lower() in (".jsonl", ".json") and _first_char(path) != "[":
        for i, (number, _) in enumerate(_lines(path)):
            if i == row:
                return f"line {number}"
    return f"row {row}"


def is_missing(value: Any) -> bool:
    """None, or a float NaN (how pandas and some Parquet writers spell a missing value)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _prompt_problem(value: Any) -> str | None:
    if value is None:
        return "is null"
    if not isinstance(value, str):
        return f"is {_shown(value)}, of type {type(value).__name__}; expected a string"
    return None if value.strip() else "is empty"


def _answer_problem(value: Any) -> str | None:
    if is_missing(value):
        return "is null" if value is None else "is NaN"
    if isinstance(value, float) and math.isinf(value):
        return f"is {value}, expected a finite number"
    if isinstance(value, int | float):
        return None
    if not isinstance(value, str):
        return f"is {_shown(value)}, of type {type(value).__name__}; expected a string or a number"
    return None if value.strip() else "is empty"


def check_rows(ds: datasets.Dataset, column: str, role: str, path: Path) -> None:
    """Raise on the first row whose `column` is not a usable `role` ("prompt" or "answer")."""
    problem_of: Callable[[Any], str | None] = _prompt_problem if role == "prompt" else _answer_problem
    for row, value in enumerate(ds[column]):
        if problem := problem_of(value):
            named = f"column {column!r}" + ("" if column == role else f" (the {role})")
            raise ValueError(f"{path}, {where(path, row)}: {named} {problem}; fix or drop the row")
