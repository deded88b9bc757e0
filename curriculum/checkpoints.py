"""Crash-safe checkpoint folders and the identity of a training pool, framework-free (stdlib and numpy). Any loop that
saves its curriculum into checkpoint-<step>/ folders uses these; the TRL drop-in (rl/trl/checkpoint.py) does.

    keys, pool = pool_keys(prompts)     # each prompt's 64-bit key (`prompt_key`), and the pool's identity
    check_pool(saved_pool, pool, source)  # raises naming the fix when a state was made on another pool
    mark_complete(folder)               # last, once every other file of the checkpoint is written
    incomplete_reason(folder, state_files)     # None, or why the folder is no complete checkpoint
    last_complete_checkpoint(output_dir, state_files)  # the newest complete checkpoint-*, and why newer ones were not
    rotate(output_dir, save_total_limit, state_files)  # then, and only then, older checkpoints may go

A folder is complete when `checkpoint_complete.json` (written last, atomically) lists every file of it with its
size, the files still match, and the curriculum's own state files (`state_files`) are among them. A crash at any
point of a save leaves the last complete checkpoint in place; rotation counts complete checkpoints only, and deletes
incomplete folders (a crash's leftovers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .statefile import write_atomic

COMPLETE = "checkpoint_complete.json"

log = logging.getLogger(__name__)

_json_str = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it


# ---- what a prompt and a pool are -------------------------------------------------------------------------
def prompt_key(prompt: Any) -> int:
    """A prompt's 64-bit key: the first 8 bytes of the sha256 of its canonical text (JSON, objects such as images by
    their type name, so a key never depends on where an object sits in memory). What checkpoints, stream windows and
    ranks compare prompts by."""
    if type(prompt) is str:  # json.dumps' own text for a str, without its set-up (half the cost of a key)
        text = _json_str(prompt)
    else:
        text = json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=lambda o: type(o).__name__)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")


def pool_keys(prompts: Iterable[Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """Each prompt's key (`prompt_key`, (N,) uint64) and the identity of the pool (`pool_fingerprint`). O(N), once."""
    keys: list[int] = []
    pool = _identity(prompts, keys)
    return np.array(keys, dtype=np.uint64), pool


def pool_fingerprint(prompts: Iterable[Any], canonical: bool = False) -> dict[str, Any]:
    """The identity of a training pool: its size, a digest of its prompts in order, and one of them in any order (to
    tell a reordered pool from another one). O(N). Each prompt is read as `str(prompt)` (the TRL drop-in's checkpoints
    keep that), or with `canonical` as JSON (numpy arrays as lists, other objects by their type name, sets sorted), the
    same in every process: what a pool of arbitrary rows needs (the prime-rl and verl adapters)."""
    return _identity(prompts, None, _canonical_text if canonical else str)


def _canonical_text(prompt: Any) -> str:
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=_plain)


def _plain(obj: Any) -> Any:
    """What JSON cannot write, as something it can that does not depend on the process."""
    if hasattr(obj, "tolist"):  # numpy arrays and scalars: parquet's lists of messages
        return obj.tolist()
    if isinstance(obj, set | frozenset):  # a set's order follows PYTHONHASHSEED
        return sorted(_canonical_text(x) for x in obj)
    return type(obj).__name__  # an image, ...: its repr would hold its address


def _identity(prompts: Iterable[Any], keys: list[int] | None, text: Callable[[Any], str] = str) -> dict[str, Any]:
    ordered, unordered, count = hashlib.sha256(), 0, 0
    for prompt in prompts:
        data = text(prompt).encode("utf-8", "surrogatepass")
        ordered.update(len(data).to_bytes(8, "little") + data)
        unordered = (unordered + int.from_bytes(hashlib.sha256(data).digest()[:8], "little")) % 2**64
        count += 1
        if keys is not None:
            keys.append(prompt_key(prompt))
    return {"prompts": count, "ordered": ordered.hexdigest()[:32], "unordered": f"{unordered:016x}"}


def check_pool(
    saved: Mapping[str, Any] | None,
    pool: Mapping[str, Any] | None,
    source: str,
    fresh: str = "start a fresh run",
) -> None:
    """Raise naming the fix when `source` (a state, in the user's words: "checkpoint <folder>") was made on another
    pool than `pool` (either None: passes). `fresh`: how the user starts afresh, in the trainer's words."""
    if saved is None or pool is None or dict(saved) == dict(pool):
        return
    fix = f"resume with the dataset the run started with (the same prompts in the same order), or {fresh}"
    if saved.get("prompts") != pool.get("prompts"):
        what = f"{saved.get('prompts')} prompts when saved, {pool.get('prompts')} now"
    elif saved.get("unordered") == pool.get("unordered"):
        what = "the same prompts in another order (was the dataset shuffled, sorted or split anew?)"
    else:
        what = "other prompts (same size; the curriculum's per-prompt estimates would belong to other prompts)"
    raise ValueError(f"{source} was made on another training pool: {what}; {fix}")


# ---- complete folders --------------------------------------------------------------------------------------
def mark_complete(folder: str | os.PathLike) -> Path:
    """Record every file under `folder` with its size, atomically: call it once the checkpoint is fully written."""
    folder = Path(folder)
    files = {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != COMPLETE and not p.name.startswith(".")
    }
    write_atomic(folder / COMPLETE, json.dumps({"files": files}, indent=1))
    return folder / COMPLETE


def incomplete_reason(folder: str | os.PathLike, state_files: Sequence[str] = ()) -> str | None:
    """None if `folder` is a complete checkpoint holding every one of `state_files`; else what is wrong with it."""
    folder = Path(folder)
    try:
        files = json.loads((folder / COMPLETE).read_text())["files"]
    except FileNotFoundError:
        return f"no {COMPLETE} (the save did not finish)"
    except (ValueError, KeyError, TypeError):
        return f"{COMPLETE} is unreadable"
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size} bytes, {size} when saved"
    if not all((folder / name).is_file() for name in state_files):
        return f"no curriculum state ({', '.join(state_files)})"
    return None


def checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """checkpoint-<step> folders of `output_dir`, newest first."""
    folder = Path(output_dir)
    found = [p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name.split("-", 1)[1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-", 1)[1]), reverse=True)


def last_complete_checkpoint(
    output_dir: str | os.PathLike, state_files: Sequence[str] = ()
) -> tuple[Path | None, list[str]]:
    """(the newest complete checkpoint-* of `output_dir` or None, why each newer one was passed over)."""
    skipped = []
    for folder in checkpoints(output_dir):
        reason = incomplete_reason(folder, state_files)
        if reason is None:
            return folder, skipped
        skipped.append(f"{folder.name}: {reason}")
    return None, skipped


def rotate(
    output_dir: str | os.PathLike,
    save_total_limit: int | None,
    state_files: Sequence[str] = (),
    protect: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Keep the newest `save_total_limit` complete checkpoint-* folders of `output_dir` (and `protect`, e.g. the best
    model's); delete older complete ones and every incomplete one. Call it only after the newest is marked complete.
    Returns what was deleted. No limit (None or <= 0): nothing is deleted."""
    if not save_total_limit or save_total_limit <= 0:
        return []
    keep = {Path(p).resolve() for p in protect}
    complete = 0
    deleted = []
    for folder in checkpoints(output_dir):  # newest first
        reason = incomplete_reason(folder, state_files)
        if reason is None:
            complete += 1
            if complete <= save_total_limit or folder.resolve() in keep:
                continue
        else:
            log.warning("deleting %s, an incomplete checkpoint (%s)", folder, reason)
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder)
    return deleted
