"""Curriculum state in every `checkpoint-*/` folder: npz arrays + JSON metadata, never pickle.

    checkpoint-40/curriculum_state.npz    every array of the state, as a0000.npy, a0001.npy, ...
    checkpoint-40/curriculum_state.json   format version, num_prompts, config, state hashes (curriculum and
                                          sampler), and one entry per leaf: {"key": "curriculum/succ", "kind":
                                          "array", "npz": "a0000"} or {"key": ..., "kind": "scalar", "type":
                                          "int", "value": 3}
    checkpoint-40/checkpoint_complete.json  written last, atomically: every file of the folder with its size.
                                          A folder without it, or whose files no longer match it, is incomplete
                                          (a crash during the save) and is never resumed from.

The state is a nested dict {"curriculum": Curriculum.state_dict(), "sampler": CurriculumSampler.state_dict()},
written by the middle's state files (curriculum/statefile.py: "/"-joined keys, exact scalars, each file whole or not
at all). What a complete folder is, rotation and the pool's identity are the middle's too (curriculum/checkpoints.py,
re-exported here); this module adds the drop-in's state files, its sampler and its wording.

    save_state(folder, curriculum, sampler, extra={"global_step": 40, "pool": pool_fingerprint(prompts)})
    mark_complete(folder)                               # after every other file of the checkpoint is written
    rotate(output_dir, save_total_limit)                # then, and only then, older checkpoints may go
    last_complete_checkpoint(output_dir)                # the newest checkpoint-* that is complete, or None
    meta = load_state(folder, curriculum, sampler, pool=pool_fingerprint(prompts))  # raises naming the fix
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import curriculum.checkpoints as folders
from curriculum import FORMAT_VERSION as CORE_FORMAT_VERSION
from curriculum import Curriculum, state_hash, statefile
from curriculum.checkpoints import COMPLETE, checkpoints, mark_complete, pool_fingerprint, pool_keys, prompt_key
from curriculum.statefile import write_state
from rl.trl.sampler import CurriculumSampler

__all__ = [  # the folder rules and the pool's identity are the middle's (curriculum/checkpoints.py); re-exported
    "COMPLETE",
    "STATE_JSON",
    "STATE_NPZ",
    "CheckpointWriteError",
    "check_pool",
    "checkpoints",
    "has_state",
    "incomplete_reason",
    "last_complete_checkpoint",
    "load_state",
    "mark_complete",
    "pool_fingerprint",
    "pool_keys",
    "prompt_key",
    "read_state",
    "rotate",
    "save_state",
]

STATE_NPZ = "curriculum_state.npz"
STATE_JSON = "curriculum_state.json"
STATE_FILES = (STATE_JSON, STATE_NPZ)
FORMAT = "rlvr-curriculum-state"
FORMAT_VERSION = 1
FRESH = "start a fresh run (drop resume / resume_from_checkpoint, or use a new output_dir)"


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
    return all((Path(folder) / name).is_file() for name in STATE_FILES)


def incomplete_reason(folder: str | os.PathLike) -> str | None:
    """None if `folder` is a complete checkpoint with the curriculum's state; else what is wrong with it."""
    return folders.incomplete_reason(folder, STATE_FILES)


def last_complete_checkpoint(output_dir: str | os.PathLike) -> tuple[Path | None, list[str]]:
    """(the newest complete checkpoint-* of `output_dir` with the curriculum's state, or None; why newer ones were not)."""
    return folders.last_complete_checkpoint(output_dir, STATE_FILES)


def rotate(
    output_dir: str | os.PathLike, save_total_limit: int | None, protect: Iterable[str | os.PathLike] = ()
) -> list[Path]:
    """`curriculum.checkpoints.rotate` over the folders holding the curriculum's state."""
    return folders.rotate(output_dir, save_total_limit, STATE_FILES, protect)


def check_pool(saved: Mapping[str, Any] | None, pool: Mapping[str, Any] | None, folder: Path) -> None:
    """Raise naming the fix when the checkpoint's pool is not this one (a checkpoint without a fingerprint passes)."""
    folders.check_pool(saved, pool, f"checkpoint {folder}", fresh=FRESH)


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
    restored = state_hash(curriculum.state_dict_like(state["curriculum"]))  # a state from before an added entry too
    sampler.load_state_dict(state["sampler"])  # its chunks become the core's pending ids (the same ids)
    if restored != meta["state_hash"]:
        raise RuntimeError(f"restored curriculum hashes {restored[:12]} but {folder} saved {meta['state_hash'][:12]}")
    return meta
