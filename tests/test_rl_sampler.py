"""CurriculumSampler: TRL's RepeatSampler layout, lazy proposals, feedback bookkeeping, replay on resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from trl.trainer.utils import RepeatSampler

from curriculum import Curriculum, CurriculumConfig, state_hash
from rl.trl.sampler import CurriculumSampler

# (num_prompts, mini_repeat_count=G, batch_size=prompts per chunk, repeat_count=num_iterations * spg)
SETTINGS = [
    (20, 4, 2, 1),  # per_device 8, G 4, one process, no accumulation
    (20, 4, 4, 2),  # gradient_accumulation_steps=2 (steps_per_generation follows it)
    (31, 8, 3, 1),  # chunks not dividing the pool: the last partial chunk is dropped
    (64, 2, 8, 6),  # num_iterations=2, steps_per_generation=3
    (16, 4, 4, 4),  # two processes x per_device 4 x steps_per_generation 2, num_iterations 2
]


def make_sampler(n: int, g: int, b: int, r: int, policy: str = "adaptive", seed: int = 0) -> CurriculumSampler:
    return CurriculumSampler(Curriculum(n, CurriculumConfig(policy=policy), seed=seed), g, b, r)


def structure(seq: list[int], g: int, b: int, r: int) -> np.ndarray:
    """(chunks, repeat, b, g) view of a sampler's output; asserts the repetition pattern on the way."""
    arr = np.asarray(seq).reshape(-1, r, b, g)  # (C, R, B, G)
    assert (arr == arr[..., :1]).all(), "each id repeats mini_repeat_count times in a row"
    assert (arr == arr[:, :1]).all(), "each chunk repeats repeat_count times"
    for chunk in arr[:, 0, :, 0]:
        assert np.unique(chunk).size == b, "a chunk holds batch_size distinct prompts"
    return arr


@pytest.mark.parametrize(("n", "g", "b", "r"), SETTINGS)
def test_the_layout_matches_trls_repeat_sampler(n: int, g: int, b: int, r: int) -> None:
    ours = make_sampler(n, g, b, r)
    theirs = RepeatSampler(list(range(n)), mini_repeat_count=g, batch_size=b, repeat_count=r, seed=0)
    seq_ours, seq_theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs) == len(seq_ours) == len(seq_theirs)
    a, t = structure(seq_ours, g, b, r), structure(seq_theirs, g, b, r)
    assert a.shape == t.shape


@pytest.mark.parametrize(("n", "g", "b", "r"), SETTINGS)
def test_the_uniform_policy_visits_every_prompt_at_most_once_per_pass_like_repeat_sampler(
    n: int, g: int, b: int, r: int
) -> None:
    ids = structure(list(make_sampler(n, g, b, r, policy="uniform")), g, b, r)[:, 0, :, 0].ravel()
    assert np.unique(ids).size == ids.size == (n // b) * b


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    g=st.integers(1, 5),
    b=st.integers(1, 8),
    r=st.integers(1, 4),
    seed=st.integers(0, 99),
)
def test_the_layout_property_holds_for_any_setting(n: int, g: int, b: int, r: int, seed: int) -> None:
    if b > n:
        with pytest.raises(ValueError, match="distinct prompts"):
            make_sampler(n, g, b, r)
        return
    sampler = make_sampler(n, g, b, r, seed=seed)
    seq = list(sampler)
    assert len(seq) == len(sampler) == len(RepeatSampler(list(range(n)), g, b, r))
    structure(seq, g, b, r)
    assert all(0 <= i < n for i in seq)


def test_proposals_are_made_lazily_one_chunk_at_a_time() -> None:
    g, b, r = 4, 2, 3
    sampler = make_sampler(20, g, b, r)
    it = iter(sampler)
    assert sampler.curriculum.proposals == 0  # nothing drawn before the loader asks
    next(it)
    assert sampler.curriculum.proposals == 1 and sampler.lag == 1
    for _ in range(g * b * r - 1):  # the rest of the chunk, all its copies
        next(it)
    assert sampler.curriculum.proposals == 1
    next(it)  # first index of the next chunk
    assert sampler.curriculum.proposals == 2 and sampler.lag == 2


def test_mark_observed_retires_the_oldest_chunk_and_reports_the_lag() -> None:
    sampler = make_sampler(20, 4, 2, 1)
    it = iter(sampler)
    for _ in range(9):  # chunk 0 (8 indices) and the first index of chunk 1
        next(it)
    first, second = sampler.pending
    assert sampler.mark_observed(first) == 1
    assert sampler.chunks_observed == 1 and np.array_equal(sampler.pending[0], second)


@pytest.mark.parametrize("lookahead", [0, 1, 2])
def test_drawing_ahead_after_each_observe_yields_the_chunks_the_loader_would_have_drawn(lookahead: int) -> None:
    """A loader `lookahead` chunks ahead of the trainer (1: accelerate's read-ahead); the trainer observes each
    chunk and, in one run, draws the next chunk right away. Same chunks, same curriculum state."""
    g, b, r, steps = 4, 3, 2, 12

    def run(ahead: bool) -> tuple[list[int], str]:
        sampler = make_sampler(60, g, b, r)
        rng, it, seq = np.random.default_rng(0), iter(sampler), []
        taken = lambda: len(seq) // (g * b * r)  # noqa: E731
        for chunk in range(steps):
            while taken() < chunk + 1 + lookahead:  # the loader reads ahead
                seq.extend(next(it) for _ in range(g * b * r))
            ids = np.asarray(seq[chunk * g * b * r : chunk * g * b * r + g * b : g])  # (b,) one per group
            sampler.curriculum.observe(np.repeat(ids, g), (rng.random(ids.size * g) < 0.4).astype(float))
            assert sampler.mark_observed(ids) == lookahead
            if ahead and chunk < steps - 1:
                proposals = sampler.curriculum.proposals
                sampler.propose_ahead()
                assert sampler.curriculum.proposals == proposals + 1  # drawn now, before the loader asks
                assert sampler.lag == lookahead  # a chunk drawn ahead is not in flight
        return seq, state_hash(sampler.curriculum.state_dict())

    (lazy_seq, lazy_state), (ahead_seq, ahead_state) = run(False), run(True)
    assert ahead_seq == lazy_seq and ahead_state == lazy_state


@pytest.mark.parametrize("core_first", [False, True])  # the trainer marks first; a plain loop may observe first
def test_the_pending_chunks_are_the_cores_pending_ids_and_a_chunk_leaves_whole(core_first: bool) -> None:
    g, b = 4, 3
    sampler = make_sampler(30, g, b, 1)
    it = iter(sampler)
    for _ in range(2 * g * b):  # two chunks taken
        next(it)
    cur = sampler.curriculum
    first, second = sampler.pending
    assert np.array_equal(np.concatenate([first, second]), cur.pending), "one list: the core's"
    scored = first[:2]  # the third group could not be scored: the core observes two of the three
    if core_first:
        cur.observe(np.repeat(scored, g), np.ones(2 * g))
        sampler.mark_observed(first)
    else:
        sampler.mark_observed(first)
        cur.observe(np.repeat(scored, g), np.ones(2 * g))
    assert np.array_equal(cur.pending, second) and sampler.chunks_observed == 1
    with pytest.raises(RuntimeError, match="not the oldest proposed chunk"):
        sampler.mark_observed(second[::-1])
    assert np.array_equal(cur.pending, second), "a refused mark changes nothing"


@pytest.mark.parametrize("policy", ["uniform", "static", "adaptive", "band"])
@pytest.mark.parametrize("ahead", [1, 2])
def test_an_id_drawn_again_before_its_feedback_keeps_its_later_copy_pending(policy: str, ahead: int) -> None:
    """Uniform draws across an epoch's end (and a small pool read far ahead) can propose a prompt still pending in an
    earlier chunk: the trainer's flow (observe the scored groups, then mark the chunk observed) must keep the later
    copy pending, chunk after chunk."""
    g, b = 2, 8
    sampler = make_sampler(20, g, b, 1, policy=policy)
    cur, it, rng = sampler.curriculum, iter(sampler), np.random.default_rng(0)
    taken = []
    for step in range(60):
        while len(taken) < step + 1 + ahead:  # the loader reads ahead, within an epoch
            chunk = [next(it, None) for _ in range(g * b)][::g]
            if chunk[0] is not None:
                taken.append(chunk)
            elif len(taken) > step:
                break  # the epoch's end: the next epoch's loader starts once the trainer is done with this one
            else:
                it = iter(sampler)
        chunk = np.asarray(taken[step])
        scored = chunk[rng.random(b) < 0.8]  # some groups could not be scored
        cur.observe(np.repeat(scored, g), (rng.random(scored.size * g) < 0.5).astype(float))
        sampler.mark_observed(chunk)
        sampler.propose_ahead()
        assert cur.pending.size % b == 0
        if len(taken) > step + 1:
            assert np.array_equal(sampler.oldest_pending(), taken[step + 1])


def test_a_checkpoint_whose_core_kept_its_pending_ids_in_another_order_is_read() -> None:
    """Before the pending chunks were the core's own rows, the core kept a chunk's ids in the policy's order."""
    sampler = make_sampler(30, 4, 3, 1)
    it = iter(sampler)
    for _ in range(12):
        next(it)
    core, state = sampler.curriculum.state_dict(), sampler.state_dict()
    core["pending"] = np.sort(core["pending"])  # the same ids, as an earlier release saved them
    fresh = make_sampler(30, 4, 3, 1)
    fresh.curriculum.load_state_dict(core)
    fresh.load_state_dict(state)
    assert np.array_equal(np.concatenate(fresh.pending), np.concatenate(sampler.pending))
    assert next(iter(fresh)) == next(iter(sampler.pending))[0], "the resumed pass replays the pending chunk"


def test_observing_a_chunk_that_was_not_proposed_raises_naming_the_cause() -> None:
    sampler = make_sampler(20, 4, 2, 1)
    with pytest.raises(RuntimeError, match="never proposed"):
        sampler.mark_observed(np.array([0, 1]))
    next(iter(sampler))
    wrong = (sampler.pending[0] + 1) % 20
    with pytest.raises(RuntimeError, match="not the oldest proposed chunk"):
        sampler.mark_observed(wrong)


def test_a_restored_sampler_replays_the_pending_chunks_before_proposing() -> None:
    original = make_sampler(40, 4, 2, 1)
    it = iter(original)
    for _ in range(9):
        next(it)
    original.mark_observed(original.pending[0])  # chunk 0 observed, chunk 1 pending (the loader read ahead)
    sd = original.state_dict()
    core = original.curriculum.state_dict()

    restored = make_sampler(40, 4, 2, 1)
    restored.curriculum.load_state_dict(core)
    restored.load_state_dict(sd)
    replay = list(iter(restored))[:8]
    assert replay == np.repeat(sd["pending"][0], 4).tolist()
    assert restored.curriculum.proposals > core["proposals"]  # later chunks were proposed fresh


def test_the_sampler_rejects_a_checkpoint_with_another_chunk_size() -> None:
    sd = make_sampler(40, 4, 2, 1).state_dict()
    with pytest.raises(ValueError, match="generation_batch_size"):
        make_sampler(40, 4, 4, 1).load_state_dict(sd)


def test_the_sampler_drives_a_torch_dataloader_with_repeat_samplers_batches() -> None:
    g, b, r = 4, 2, 2
    loader = torch.utils.data.DataLoader(list(range(20)), batch_size=g * b, sampler=make_sampler(20, g, b, r))
    batches = [batch.tolist() for batch in loader]
    assert len(batches) == (20 // b) * r
    assert batches[0] == batches[1]  # the re-used micro-step sees the same chunk
