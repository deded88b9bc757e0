"""Curriculum state in every `checkpoint-*/` folder: npz arrays + JSON metadata, never pickle.

    checkpoint-40/curriculum_state.npz    every array of the state, as a0000.npy, a0001.npy, ...
    checkpoint-40/curriculum_state.json   format version, num_prompts, config, state hashes (curriculum and
                                          sampler), and one entry per leaf: {"key": "curriculum/succ", "kind":
                                          "array", "npz": "a0000"} or {"key": ..., "kind": "scalar", "type":
                                          "int", "value": 3}
    checkpoint-40/checkpoint_complete.json  written last, atomically: every file of the folder with its size.
                                          A folder without it, or whose files no longer match it, is incomplete
                                          (a crash during the save) and is never resumed from.

The state is a nested dict {"curriculum": Curriculum.state_dict(), "sampler": CurriculumSampler.state_dict()}
flattened to "/"-joined keys. Scalars keep their exact type and bits (floats as `float.hex`, numpy
scalars as 0-d arrays) so a reloaded state hashes (`curriculum.state_hash`) exactly like the saved one.
Files are written to a temporary name and renamed, so a crash never leaves half a state.

    save_state(folder, curriculum, sampler, extra={"global_step": 40, "pool": pool_fingerprint(prompts)})
    mark_complete(folder)                               # after every other file of the checkpoint is written
    rotate(output_dir, save_total_limit)                # then, and only then, older checkpoints may go
    last_complete_checkpoint(output_dir)                # the newest checkpoint-* that is complete, or None
    meta = load_state(folder, curriculum, sampler, pool=pool_fingerprint(prompts))  # raises naming the fix

Under `save_total_limit`, rotation counts complete checkpoints only and runs after the newest is marked complete,
so a crash at any point of a save leaves the last complete checkpoint in place; incomplete folders (a crash's
leftovers) are deleted by the next rotation and never count as kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from curriculum import FORMAT_VERSION as CORE_FORMAT_VERSION
from curriculum import Curriculum, state_hash, statefile
from curriculum.statefile import write_atomic, write_state
from rl.trl.keys import prompt_key
from rl.trl.sampler import CurriculumSampler

STATE_NPZ = "curriculum_state.npz"
STATE_JSON = "curriculum_state.json"
COMPLETE = "checkpoint_complete.json"
FORMAT = "rlvr-curriculum-state"
FORMAT_VERSION = 1

log = logging.getLogger(__name__)


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (a full disk, a folder gone); the message names the folder, the cause and the
    last complete checkpoint to resume from."""

    user_error = True  # the CLI prints it as a one-line error (exit 2), not a traceback


def save_state(
    folder: str | os.PathLike,
    curriculum: Curriculum,
    sampler: CurriculumSampler,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write curriculum_state.npz + .json into `folder` (created if needed); return the JSON path."""
    core = curriculum.state_dict()
    sampler_sd = sampler.state_dict()
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "core_format_version": CORE_FORMAT_VERSION,
        "num_prompts": curriculum.num_prompts,
        "seed": curriculum.seed,
        "config": curriculum.config.to_dict(),
        "state_hash": state_hash(core),
        "sampler_hash": state_hash(sampler_sd),
        "sampler": {
            "chunks_proposed": sampler.chunks_proposed,
            "chunks_observed": sampler.chunks_observed,
            "pending_chunks": len(sampler.pending),
            "batch_size": sampler.batch_size,
        },
        **dict(extra or {}),
    }
    return write_state(folder, STATE_NPZ, STATE_JSON, {"curriculum": core, "sampler": sampler_sd}, meta)


def has_state(folder: str | os.PathLike) -> bool:
    return (Path(folder) / STATE_JSON).is_file() and (Path(folder) / STATE_NPZ).is_file()


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


def incomplete_reason(folder: str | os.PathLike) -> str | None:
    """None if `folder` is a complete checkpoint with the curriculum's state; else what is wrong with it."""
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
    if not has_state(folder):
        return f"no curriculum state ({STATE_JSON}, {STATE_NPZ})"
    return None


def checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """checkpoint-<step> folders of `output_dir`, newest first."""
    folder = Path(output_dir)
    found = [p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name.split("-", 1)[1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-", 1)[1]), reverse=True)


def last_complete_checkpoint(output_dir: str | os.PathLike) -> tuple[Path | None, list[str]]:
    """(the newest complete checkpoint-* of `output_dir` or None, why each newer one was passed over)."""
    skipped = []
    for folder in checkpoints(output_dir):
        reason = incomplete_reason(folder)
        if reason is None:
            return folder, skipped
        skipped.append(f"{folder.name}: {reason}")
    return None, skipped


def rotate(
    output_dir: str | os.PathLike, save_total_limit: int | None, protect: Iterable[str | os.PathLike] = ()
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
        reason = incomplete_reason(folder)
        if reason is None:
            complete += 1
            if complete <= save_total_limit or folder.resolve() in keep:
                continue
        else:
            log.warning("deleting %s, an incomplete checkpoint (%s)", folder, reason)
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder)
    return deleted


def pool_keys(prompts: Iterable[Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """Each prompt's key (`prompt_key`, (N,) uint64) and the identity of the pool: its size, a digest of its prompts
    in order, and one of them in any order (to tell a reordered pool from another one). O(N), once."""
    ordered, unordered, keys = hashlib.sha256(), 0, []
    for prompt in prompts:
        data = str(prompt).encode("utf-8", "surrogatepass")
        ordered.update(len(data).to_bytes(8, "little") + data)
        unordered = (unordered + int.from_bytes(hashlib.sha256(data).digest()[:8], "little")) % 2**64
        keys.append(prompt_key(prompt))
    pool = {"prompts": len(keys), "ordered": ordered.hexdigest()[:32], "unordered": f"{unordered:016x}"}
    return np.array(keys, dtype=np.uint64), pool


def pool_fingerprint(prompts: Iterable[Any]) -> dict[str, Any]:
    """The identity of a training pool (`pool_keys`)."""
    return pool_keys(prompts)[1]


def check_pool(saved: Mapping[str, Any] | None, pool: Mapping[str, Any] | None, folder: Path) -> None:
    """Raise naming the fix when the checkpoint's pool is not this one (a checkpoint without a fingerprint passes)."""
    if saved is None or pool is None or dict(saved) == dict(pool):
        return
    fix = (
        "resume with the dataset the run started with (the same prompts in the same order), or start a fresh run "
        "(drop resume / resume_from_checkpoint, or use a new output_dir)"
    )
    if saved.get("prompts") != pool.get("prompts"):
        what = f"{saved.get('prompts')} prompts when saved, {pool.get('prompts')} now"
    elif saved.get("unordered") == pool.get("unordered"):
        what = "the same prompts in another order (was the dataset shuffled, sorted or split anew?)"
    else:
        what = "other prompts (same size; the curriculum's per-prompt estimates would belong to other prompts)"
    raise ValueError(f"checkpoint {folder} was made on another training pool: {what}; {fix}")


def read_state(folder: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """(meta, nested state) from `folder`; the arrays are loaded without pickle."""
    fix = "resume from an earlier checkpoint-* or start a fresh run"
    return statefile.read_state(folder, STATE_NPZ, STATE_JSON, FORMAT, FORMAT_VERSION, fix)


def load_state(
    folder: str | os.PathLike, curriculum: Curriculum, sampler: CurriculumSampler, pool: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Restore `curriculum` and `sampler` from `folder`; return the metadata. Raises naming the fix when the
    checkpoint was made for another pool (`pool`: this one's `pool_fingerprint`), dataset size or config, or when
    the restored state does not hash like the saved one."""
    meta, state = read_state(folder)
    folder = Path(folder)
    check_pool(meta.get("pool"), pool, folder)
    if int(meta["num_prompts"]) != curriculum.num_prompts:
        raise ValueError(
            f"checkpoint {folder} has curriculum state for {meta['num_prompts']} prompts but train_dataset "
            f"has {curriculum.num_prompts}: resume with the dataset the run started with, or start a fresh "
            "run (drop resume_from_checkpoint or use a new output_dir)"
        )
    if state_hash(state["curriculum"]) != meta["state_hash"] or state_hash(state["sampler"]) != meta.get("sampler_hash"):
        raise ValueError(
            f"{folder / STATE_NPZ} does not match the hashes in {STATE_JSON}: the files are corrupt; resume from "
            "an earlier checkpoint-* or start a fresh run"
        )
    try:
        sampler.check_state(state["sampler"])  # both checked before either is changed
        curriculum.load_state_dict(state["curriculum"])
    except ValueError as err:
        raise ValueError(
            f"cannot resume the curriculum from {folder}: {err}; resume with the same curriculum_* "
            "settings and seed, or start a fresh run"
        ) from err
    restored = state_hash(curriculum.state_dict())
    sampler.load_state_dict(state["sampler"])  # its chunks become the core's pending ids (the same ids)
    if restored != meta["state_hash"]:
        raise RuntimeError(f"restored curriculum hashes {restored[:12]} but {folder} saved {meta['state_hash'][:12]}")
    return meta
