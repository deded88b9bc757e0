"""Curriculum state in checkpoints: npz + JSON, no pickle, exact round trip, exact resume, clear errors."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TOKENIZER, lucky_30, plain_sums, record_chunks, tiny_model, toy_args
from datasets import Dataset

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.statefile import flatten_state, unflatten_state
from rl import CurriculumGRPOTrainer
from rl.trl.checkpoint import (
    COMPLETE,
    STATE_JSON,
    STATE_NPZ,
    incomplete_reason,
    last_complete_checkpoint,
    load_state,
    mark_complete,
    read_state,
    save_state,
)
from rl.trl.sampler import CurriculumSampler

pytestmark = pytest.mark.filterwarnings("ignore:.*(gradient|activation)_checkpointing.*:FutureWarning")


# ---- toy fixture: character tokenizer, random tiny Llama, a+b= prompts ------------------------------------


def make_trainer(out: Path, dataset: Dataset | None = None, **overrides) -> CurriculumGRPOTrainer:
    """The toy run, saving a checkpoint every 2 steps."""
    settings = {"max_steps": 6, "save_strategy": "steps", "save_steps": 2, **overrides}
    return CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[lucky_30],
        processing_class=TOKENIZER,
        args=toy_args(str(out), **settings),
        train_dataset=plain_sums() if dataset is None else dataset,
    )


def driven(n: int = 200, steps: int = 12, seed: int = 0) -> tuple[Curriculum, CurriculumSampler]:
    """A curriculum + sampler after `steps` propose/observe rounds, with one chunk read ahead (lag 1)."""
    cur = Curriculum(n, CurriculumConfig(policy="adaptive"), seed=seed)
    sampler = CurriculumSampler(cur, mini_repeat_count=4, batch_size=8, repeat_count=1)
    rng = np.random.default_rng(seed)
    it = iter(sampler)
    for _ in range(steps):
        for _ in range(32):
            next(it)
        chunk = sampler.pending[0]
        cur.observe(np.repeat(chunk, 4), (rng.random(32) < 0.4).astype(float))
        sampler.mark_observed(chunk)
    next(it)  # the loader reads ahead
    return cur, sampler


# ---- flatten / unflatten -----------------------------------------------------------------------------
def test_flatten_round_trips_nested_state_with_exact_scalars() -> None:
    tree = {
        "a": np.arange(6, dtype=np.int32).reshape(2, 3),
        "b": {"c": 0.1, "d": math.inf, "e": None, "f": {"g": "text", "h": True, "i": 7}},
        "j": np.float32(2.5),
        "k": np.zeros((0, 4), np.int64),
    }
    arrays, entries = flatten_state(tree)
    back = unflatten_state(arrays, json.loads(json.dumps(entries)))
    assert state_hash(back) == state_hash(tree)
    assert type(back["j"]) is np.float32 and back["b"]["f"]["h"] is True and back["k"].shape == (0, 4)


def test_nan_survives_the_json_metadata() -> None:
    arrays, entries = flatten_state({"x": math.nan})
    assert math.isnan(unflatten_state(arrays, json.loads(json.dumps(entries)))["x"])


def test_object_arrays_are_refused_rather_than_pickled() -> None:
    with pytest.raises(TypeError, match="pickle"):
        flatten_state({"x": np.array([{"a": 1}], dtype=object)})


# ---- save / load -------------------------------------------------------------------------------------
def test_a_saved_state_reloads_with_the_same_hash_and_the_same_next_proposals(tmp_path: Path) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler, extra={"global_step": 12})
    with np.load(tmp_path / STATE_NPZ, allow_pickle=False) as npz:  # plain arrays only
        assert len(npz.files) > 0
    meta = json.loads((tmp_path / STATE_JSON).read_text())
    assert meta["state_hash"] == state_hash(cur.state_dict()) and meta["num_prompts"] == 200
    assert meta["sampler"]["pending_chunks"] == 1 and meta["global_step"] == 12

    fresh = Curriculum(200, CurriculumConfig(policy="adaptive"), seed=0)
    fresh_sampler = CurriculumSampler(fresh, mini_repeat_count=4, batch_size=8, repeat_count=1)
    load_state(tmp_path, fresh, fresh_sampler)
    assert state_hash(fresh.state_dict()) == meta["state_hash"]
    assert np.array_equal(fresh_sampler.pending[0], sampler.pending[0])
    for _ in range(3):
        assert np.array_equal(fresh.propose(8), cur.propose(8))


def test_a_checkpoint_saved_before_the_features_calibration_existed_resumes(tmp_path: Path, monkeypatch) -> None:
    x = np.random.default_rng(3).normal(size=(200, 4))
    cur = Curriculum(200, CurriculumConfig(policy="adaptive"), seed=0, features=x)
    sampler = CurriculumSampler(cur, mini_repeat_count=4, batch_size=8, repeat_count=1)
    it = iter(sampler)
    for _ in range(32):
        next(it)
    chunk = sampler.pending[0]
    cur.observe(np.repeat(chunk, 4), (np.arange(32) % 3 == 0).astype(float))
    sampler.mark_observed(chunk)
    full = Curriculum.state_dict

    def as_before(self) -> dict:  # the layout of a state saved before feature_calibration existed
        sd = {k: v for k, v in full(self).items() if not k.startswith("feature_calibration")}
        config = json.loads(sd["config"])
        del config["feature_calibration"]
        return sd | {"config": json.dumps(config, sort_keys=True)}

    with monkeypatch.context() as before:
        before.setattr(Curriculum, "state_dict", as_before)
        save_state(tmp_path, cur, sampler)
    fresh = Curriculum(200, CurriculumConfig(policy="adaptive"), seed=0, features=x)
    fresh_sampler = CurriculumSampler(fresh, mini_repeat_count=4, batch_size=8, repeat_count=1)
    load_state(tmp_path, fresh, fresh_sampler)  # no "restored curriculum hashes ..." error
    assert np.array_equal(fresh.ability.features.cal, [0.0, 1.0]), "the calibration starts afresh"
    assert np.array_equal(fresh.ability.features.gram, cur.ability.features.gram)


def test_a_checkpoint_for_another_dataset_size_is_refused_naming_the_fix(tmp_path: Path) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler)
    other = Curriculum(300, CurriculumConfig(policy="adaptive"), seed=0)
    with pytest.raises(ValueError, match="200 prompts but train_dataset has 300.*start a fresh run"):
        load_state(tmp_path, other, CurriculumSampler(other, 4, 8, 1))


def test_a_checkpoint_for_another_config_is_refused_naming_the_setting(tmp_path: Path) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler)
    other = Curriculum(200, CurriculumConfig(policy="adaptive", target=0.4), seed=0)
    with pytest.raises(ValueError, match="target.*same curriculum_\\* settings"):
        load_state(tmp_path, other, CurriculumSampler(other, 4, 8, 1))


def fresh_pair() -> tuple[Curriculum, CurriculumSampler]:
    cur = Curriculum(200, CurriculumConfig(policy="adaptive"), seed=0)
    return cur, CurriculumSampler(cur, 4, 8, 1)


def rewrite(folder: Path, state: dict, rehash: bool = False) -> None:
    """Write `state` back into folder's npz (and, with rehash, its hashes into the JSON, as a forger would)."""
    arrays, entries = flatten_state(state)
    np.savez(folder / STATE_NPZ, **arrays)
    if rehash:
        meta = json.loads((folder / STATE_JSON).read_text())
        meta.update(entries=entries, state_hash=state_hash(state["curriculum"]), sampler_hash=state_hash(state["sampler"]))
        (folder / STATE_JSON).write_text(json.dumps(meta))


@pytest.mark.parametrize("part", ["curriculum", "sampler"])
def test_corrupt_files_are_detected_with_the_intended_error(tmp_path: Path, part: str) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler)
    meta, state = read_state(tmp_path)
    if part == "curriculum":
        state["curriculum"]["succ"][0] += 1.0
    else:  # the sampler's pending chunks are covered by a hash too
        state["sampler"]["pending"][0, 0] = (state["sampler"]["pending"][0, 0] + 1) % 200
    rewrite(tmp_path, state)
    fresh, fresh_sampler = fresh_pair()
    before = state_hash(fresh.state_dict())
    with pytest.raises(ValueError, match="corrupt"):
        load_state(str(tmp_path), fresh, fresh_sampler)  # a str folder, as the trainer passes it
    assert state_hash(fresh.state_dict()) == before and not fresh_sampler.pending


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda sd: sd.__setitem__("pending", sd["pending"] + 1000), "outside"),
        (lambda sd: sd.__setitem__("chunks_observed", sd["chunks_observed"] + 1), "pending"),
        (lambda sd: sd.__setitem__("pending", sd["pending"][:, :4]), "integer array"),
        (lambda sd: sd.__setitem__("chunks_proposed", -1), "integer >= 0"),
    ],
)
def test_sampler_fields_are_range_checked_before_anything_loads(tmp_path: Path, change, message) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler)
    _, state = read_state(tmp_path)
    change(state["sampler"])
    rewrite(tmp_path, state, rehash=True)
    fresh, fresh_sampler = fresh_pair()
    before = state_hash(fresh.state_dict())
    with pytest.raises(ValueError, match=message):
        load_state(tmp_path, fresh, fresh_sampler)
    assert state_hash(fresh.state_dict()) == before, "the curriculum is left as it was"


@pytest.mark.parametrize("damage", ["truncate npz", "garbage json", "empty npz"])
def test_unreadable_state_files_give_a_message_naming_the_fix(tmp_path: Path, damage: str) -> None:
    cur, sampler = driven()
    save_state(tmp_path, cur, sampler)
    if damage == "truncate npz":
        data = (tmp_path / STATE_NPZ).read_bytes()
        (tmp_path / STATE_NPZ).write_bytes(data[: len(data) // 2])
    elif damage == "garbage json":
        (tmp_path / STATE_JSON).write_text("{not json")
    else:
        (tmp_path / STATE_NPZ).write_bytes(b"")
    with pytest.raises(ValueError, match="earlier checkpoint"):
        load_state(tmp_path, *fresh_pair())


def test_a_checkpoint_is_complete_only_once_marked_and_while_its_files_match(tmp_path: Path) -> None:
    cur, sampler = driven()
    for step in (2, 4, 6):
        folder = tmp_path / f"checkpoint-{step}"
        (folder / "model.safetensors").parent.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"x" * 100)
        save_state(folder, cur, sampler)
        if step != 6:  # checkpoint-6: the save was interrupted before the mark
            mark_complete(folder)
    assert "did not finish" in incomplete_reason(tmp_path / "checkpoint-6")
    assert last_complete_checkpoint(tmp_path)[0] == tmp_path / "checkpoint-4"
    (tmp_path / "checkpoint-4" / "model.safetensors").write_bytes(b"x" * 50)  # truncated afterwards
    assert "50 bytes" in incomplete_reason(tmp_path / "checkpoint-4")
    (tmp_path / "checkpoint-2" / STATE_NPZ).unlink()
    folder, skipped = last_complete_checkpoint(tmp_path)
    assert folder is None and len(skipped) == 3 and "missing" in skipped[2]
    assert COMPLETE not in json.loads((tmp_path / "checkpoint-4" / COMPLETE).read_text())["files"]


# ---- end to end --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_resumed_run_continues_exactly_where_the_uninterrupted_run_went(tmp_path: Path) -> None:
    full = make_trainer(tmp_path / "full")
    full_chunks = record_chunks(full)
    full.train()
    assert full.curriculum.step == 6
    folder = tmp_path / "full" / "checkpoint-2"
    meta = json.loads((folder / STATE_JSON).read_text())
    # chunk 3 was read ahead by the loader, chunk 4 drawn ahead after the last observe: both pending, neither trained
    assert meta["global_step"] == 2 and meta["sampler"]["pending_chunks"] == 2

    resume_dir = tmp_path / "resumed"
    shutil.copytree(folder, resume_dir / "checkpoint-2")
    resumed = make_trainer(resume_dir)
    resumed.restore_curriculum(str(resume_dir / "checkpoint-2"))
    assert state_hash(resumed.curriculum.state_dict()) == meta["state_hash"]
    resumed_chunks = record_chunks(resumed)
    resumed.train(resume_from_checkpoint=True)

    assert resumed_chunks[:2] == full_chunks[2:4]  # the pending chunks are replayed, not re-proposed
    assert resumed_chunks == full_chunks[2:]  # then the same proposals from the same state
    assert state_hash(resumed.curriculum.state_dict()) == state_hash(full.curriculum.state_dict())


@pytest.mark.slow
def test_resuming_with_a_different_dataset_size_fails_before_training_naming_the_fix(tmp_path: Path) -> None:
    make_trainer(tmp_path, max_steps=2).train()
    other = make_trainer(tmp_path, dataset=plain_sums(40), max_steps=4)
    with pytest.raises(ValueError, match="another training pool: 48 prompts when saved, 40 now.*resume with the dataset"):
        other.train(resume_from_checkpoint=str(tmp_path / "checkpoint-2"))
    assert other.curriculum.step == 0


@pytest.mark.slow
def test_resume_passes_over_an_incomplete_checkpoint_and_refuses_one_named_explicitly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_trainer(tmp_path, max_steps=4).train()
    assert incomplete_reason(tmp_path / "checkpoint-4") is None
    (tmp_path / "checkpoint-4" / STATE_NPZ).unlink()  # as if killed between the model save and the curriculum's
    trainer = make_trainer(tmp_path, max_steps=4)
    with pytest.raises(ValueError, match="not a complete checkpoint.*resume from .*checkpoint-2"):
        trainer.train(resume_from_checkpoint=str(tmp_path / "checkpoint-4"))
    resumed = make_trainer(tmp_path, max_steps=3)
    steps: list[int] = []
    original = resumed.restore_curriculum
    resumed.restore_curriculum = lambda folder: (original(folder), steps.append(resumed.curriculum.step))
    with caplog.at_level(logging.WARNING, logger="rl.trl.trainer"):
        resumed.train(resume_from_checkpoint=True)
    assert "checkpoint-4: curriculum_state.npz is missing" in caplog.text
    assert steps == [2], "the curriculum resumed from checkpoint-2, the newest complete one"


# ---- crash-safe saves, the pool's identity ---------------------------------------------------------------
def fake_checkpoint(out: Path, step: int, complete: bool = True) -> Path:
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    cur, sampler = driven(steps=2)
    save_state(folder, cur, sampler)
    (folder / "model.safetensors").write_bytes(b"x" * step)
    if complete:
        mark_complete(folder)
    return folder


@pytest.mark.parametrize("limit", [1, 2])
def test_rotation_keeps_the_newest_complete_checkpoints_and_deletes_incomplete_ones(tmp_path: Path, limit: int) -> None:
    from rl.trl.checkpoint import rotate

    for step, complete in ((2, True), (4, True), (6, False), (8, True), (10, False)):
        fake_checkpoint(tmp_path, step, complete)
    deleted = rotate(tmp_path, limit)
    kept = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("checkpoint-*"))
    assert kept == [4, 8][-limit:], "incomplete folders never count as kept, whatever their step"
    assert {p.name for p in deleted} >= {"checkpoint-6", "checkpoint-10"}
    assert rotate(tmp_path, None) == [] and rotate(tmp_path, 0) == []


def test_a_pool_of_other_prompts_or_in_another_order_is_told_apart(tmp_path: Path) -> None:
    from rl.trl.checkpoint import check_pool, pool_fingerprint

    base = pool_fingerprint(["1+1=", "2+2=", "3+3="])
    assert pool_fingerprint(["1+1=", "2+2=", "3+3="]) == base
    check_pool(base, dict(base), tmp_path)  # the same pool passes
    check_pool(None, base, tmp_path)  # a checkpoint made before fingerprints passes
    with pytest.raises(ValueError, match="the same prompts in another order.*resume with the dataset the run started"):
        check_pool(base, pool_fingerprint(["2+2=", "1+1=", "3+3="]), tmp_path)
    with pytest.raises(ValueError, match="other prompts \\(same size"):
        check_pool(base, pool_fingerprint(["1+1=", "2+2=", "3+4="]), tmp_path)
    with pytest.raises(ValueError, match="3 prompts when saved, 2 now"):
        check_pool(base, pool_fingerprint(["1+1=", "2+2="]), tmp_path)


@pytest.mark.slow
def test_resuming_onto_other_prompts_of_the_same_size_is_refused_before_training(tmp_path: Path) -> None:
    make_trainer(tmp_path, max_steps=2).train()
    ds = plain_sums()
    other = Dataset.from_dict({"prompt": [p + " " for p in ds["prompt"]], "answer": ds["answer"]})
    trainer = make_trainer(tmp_path, dataset=other, max_steps=4)
    with pytest.raises(ValueError, match="another training pool: other prompts"):
        trainer.train(resume_from_checkpoint=True)
    assert trainer.curriculum.step == 0
    shuffled = make_trainer(tmp_path, dataset=ds.select(list(range(len(ds)))[::-1]), max_steps=4)
    with pytest.raises(ValueError, match="the same prompts in another order"):
        shuffled.train(resume_from_checkpoint=True)


@pytest.mark.slow
def test_save_total_limit_keeps_only_complete_checkpoints_once_each_save_is_marked(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, save_total_limit=1)
    trainer.train()
    assert [p.name for p in tmp_path.glob("checkpoint-*")] == ["checkpoint-6"]
    assert incomplete_reason(tmp_path / "checkpoint-6") is None


@pytest.mark.slow
def test_a_full_disk_stops_training_naming_the_folder_and_keeps_the_last_complete_checkpoint(
    tmp_path: Path, monkeypatch
) -> None:
    import errno

    import rl.trl.checkpoint as ckpt

    original, calls = ckpt.save_state, {"n": 0}

    def full_disk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(ckpt, "save_state", full_disk)
    trainer = make_trainer(tmp_path, save_total_limit=1)
    with pytest.raises(ckpt.CheckpointWriteError, match=r"saving .*checkpoint-4 failed: No space left on device") as err:
        trainer.train()
    assert "checkpoint-2, left as it was" in str(err.value) and "resume" in str(err.value)
    assert incomplete_reason(tmp_path / "checkpoint-2") is None, "the last complete checkpoint is intact"


@pytest.mark.slow
def test_a_resumed_dynamic_sampling_run_charges_the_rollouts_discarded_before_the_checkpoint(tmp_path: Path) -> None:
    from recipes.dynamic_sampling import DynamicSamplingTrainer

    def never(completions, **kwargs):  # every group all-wrong: each step draws its extra rounds, all discarded
        return [0.0] * len(completions)

    def dapo(out: Path, steps: int) -> DynamicSamplingTrainer:
        args = toy_args(str(out), steps, save_strategy="steps", save_steps=2, curriculum_policy="uniform")
        return DynamicSamplingTrainer(
            model=tiny_model(), reward_funcs=[never], processing_class=TOKENIZER, args=args, train_dataset=plain_sums()
        )

    first = dapo(tmp_path, 2)
    first.train()
    assert first.discarded_rollouts > 0
    resumed = dapo(tmp_path, 4)
    resumed.restore_curriculum(str(tmp_path / "checkpoint-2"))
    assert resumed.discarded_rollouts == first.discarded_rollouts and resumed._dyn_step == first._dyn_step
