"""The framework-free middle (curriculum/driver.py) and prime-rl's TaskSampler shape over it (rl/prime_rl.py),
checked without prime-rl installed."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.driver import CurriculumDriver
from curriculum.text_features import TEXT_DIM
from rl.prime_rl import CurriculumTaskSampler, use_curriculum

TASK_SAMPLER_PROTOCOL = ("__next__", "observe", "state_dict", "load_state_dict", "metrics")
"""prime-rl's TaskSampler interface (prime_rl/orchestrator/curriculum/samplers/base.py)."""


@dataclass(frozen=True)
class Task:
    """verifiers.v1.Task as prime-rl's samplers read it: a unique `key`, the taskset's row under `data`."""

    key: str
    data: SimpleNamespace
    hash: str = ""


@dataclass
class Trace:
    reward: float | None
    has_error: bool = False
    agent: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(trainable=True))


@dataclass
class Episode:
    """verifiers.v1.Episode as prime-rl's samplers read it: its task and its traces (one reward each)."""

    task: Task
    traces: list[Trace]


def episodes(task: Task, rewards: list[float | None]) -> list[Episode]:
    return [Episode(task, [Trace(r)]) for r in rewards]


def driver(n: int = 60, group: int = 4, **kw) -> CurriculumDriver:
    labels = np.arange(n) % 3
    return CurriculumDriver(Curriculum(n, CurriculumConfig(policy="adaptive"), seed=0, prior=labels), group, **kw)


def test_feedback_turns_rewards_into_one_step_and_unscored_groups_go_back_unlearned() -> None:
    d = driver()
    ids = d.propose(3)
    rewards = [1.0, 0.0, 1.0, 1.0] + [None] * 4 + [[0.0], [0.0], [1.0], [float("nan")]]  # scalars, None, rows
    report = d.feedback(ids, rewards)
    assert d.curriculum.step == 1 and d.pending.size == 0, "every group left pending; one step"
    assert sorted(report.ids.tolist()) == sorted([int(ids[0]), int(ids[2])]), "the unscored group is not observed"
    assert d.curriculum.tracker.attempts[ids].tolist() == [4, 0, 3]
    with pytest.raises(ValueError, match="one reward \\(or one row of rewards\\) per rollout"):
        d.feedback(d.propose(2), [1.0] * 7)


def test_weighted_and_named_rewards_decide_success_as_the_trl_drop_in_does() -> None:
    d = driver(reward_weights=[1.0, 0.5], success_threshold=1.0)
    assert d.successes([[1.0, 0.0], [0.6, 0.8], [0.0, None]]) == ([True, True, False], [True, True, True])
    d = driver(success_reward=1)
    assert d.successes([[1.0, 0.0], [0.0, 1.0], [1.0, None]]) == ([False, True, False], [True, True, False])


def test_groups_arriving_one_at_a_time_in_any_order_make_one_step_per_batch() -> None:
    d = driver(step_groups=4)
    first, second = d.propose(4), d.propose(4)  # an orchestrator drawing ahead
    order = [*second[:2], *first, *second[2:]]
    reports = [d.observe_group(int(i), [1.0, 0.0, 0.0, 0.0]) for i in order]
    assert [r is not None for r in reports] == [False, False, False, True] * 2
    assert d.curriculum.step == 2 and d.pending.size == 0 and d.groups_observed == 8
    assert d.curriculum.tracker.attempts[np.concatenate([first, second])].tolist() == [4] * 8


def test_the_driver_state_resumes_exactly_with_groups_still_waiting() -> None:
    a = driver(step_groups=4)
    ids = a.propose(4)
    a.observe_group(int(ids[0]), [1.0, 1.0, 0.0, 0.0])
    b = driver(step_groups=4)
    b.load_state_dict(a.state_dict())
    for d in (a, b):
        for i in ids[1:]:
            d.observe_group(int(i), [0.0, 1.0, 0.0, 0.0])
    assert state_hash(a.curriculum.state_dict()) == state_hash(b.curriculum.state_dict())
    assert np.array_equal(a.propose(5), b.propose(5))
    with pytest.raises(ValueError, match="group_size=4, this driver has 8"):
        driver(group=8).load_state_dict(a.state_dict())


def test_the_driver_saves_to_files_and_refuses_corrupt_or_foreign_ones(tmp_path) -> None:
    a = driver(step_groups=4)
    ids = a.propose(4)
    a.feedback(ids, [1.0, 0.0, 1.0, 1.0] * 4)
    a.observe_group(int(a.propose(4)[0]), [0.0, 1.0, 0.0, 0.0])  # a group waiting for its step
    a.save(tmp_path / "ok")
    b = driver(step_groups=4)
    b.load(tmp_path / "ok")
    assert state_hash(b.curriculum.state_dict()) == state_hash(a.curriculum.state_dict())
    assert b.state_dict()["groups_waiting"].tolist() == a.state_dict()["groups_waiting"].tolist()
    assert np.array_equal(a.propose(6), b.propose(6))
    (tmp_path / "ok" / "driver_state.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read the curriculum state"):
        driver().load(tmp_path / "ok")
    a.save(tmp_path / "other")
    with pytest.raises(ValueError, match="pool|prompts|num_prompts"):
        driver(n=50).load(tmp_path / "other")


def test_any_loop_gets_crash_safe_checkpoint_folders_checked_against_its_pool(tmp_path) -> None:
    """The middle's checkpoint rules without TRL: a folder counts once marked complete with the driver's state in it,
    rotation keeps the newest complete ones and deletes a crash's leftovers, and a state made on other prompts (or the
    same ones reordered) is refused naming the fix."""
    from curriculum.checkpoints import last_complete_checkpoint, mark_complete, pool_fingerprint, rotate
    from curriculum.driver import STATE_JSON, STATE_NPZ

    prompts = [f"q{i}" for i in range(60)]
    state_files = (STATE_JSON, STATE_NPZ)
    d, reference = driver(pool=pool_fingerprint(prompts)), driver()
    for step in (1, 2, 3):
        for each in (d, reference):
            each.feedback(ids := each.propose(4), [1.0, 0.0, 0.0, 0.0] * len(ids))
        d.save(tmp_path / f"checkpoint-{step}")
        if step < 3:  # the third save crashes before its mark
            mark_complete(tmp_path / f"checkpoint-{step}")
        if step == 2:
            expected = reference.state_dict()
    (tmp_path / "checkpoint-4").mkdir()  # a folder with nothing of the driver's in it
    mark_complete(tmp_path / "checkpoint-4")
    last, skipped = last_complete_checkpoint(tmp_path, state_files)
    assert last == tmp_path / "checkpoint-2"
    assert skipped == [
        "checkpoint-4: no curriculum state (driver_state.json, driver_state.npz)",
        "checkpoint-3: no checkpoint_complete.json (the save did not finish)",
    ]
    assert sorted(p.name for p in rotate(tmp_path, 1, state_files)) == ["checkpoint-1", "checkpoint-3", "checkpoint-4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]
    again = driver(pool=pool_fingerprint(prompts))
    again.load(last)
    assert state_hash(again.curriculum.state_dict()) == state_hash(expected["curriculum"])
    with pytest.raises(ValueError, match="in .*checkpoint-2 was made on another training pool: the same prompts in "):
        driver(pool=pool_fingerprint(prompts[::-1])).load(last)
    with pytest.raises(ValueError, match="another training pool: 60 prompts when saved, 59 now.*start afresh"):
        driver(pool=pool_fingerprint(prompts[:59])).load(last)
    driver().load(last)  # a driver that does not know its pool: not checked
    driver(pool=pool_fingerprint(prompts)).load_state_dict(reference.state_dict())  # nor a state without one


FINGERPRINT = """
import json, sys
from curriculum.checkpoints import pool_fingerprint
tasks = [{"q": f"q{i}", "tags": {f"t{j}" for j in range(12)}, "image": object()} for i in range(5)]
print(json.dumps([pool_fingerprint(tasks, canonical=True), pool_fingerprint(tasks)]))
"""


def test_the_canonical_fingerprint_is_the_same_in_every_process_and_for_parquets_arrays() -> None:
    """A pool of arbitrary rows (prime-rl's tasks, verl's rows) is identified the same way in the process that saves
    and the one that resumes: a set's order (PYTHONHASHSEED) and an object's address do not count. `str()`, which the
    TRL drop-in's checkpoints keep for plain prompts, would differ."""
    import json
    import os
    import subprocess
    import sys

    def fingerprints(hash_seed: str) -> list[dict]:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": os.pathsep.join(sys.path)}
        return json.loads(subprocess.run([sys.executable, "-c", FINGERPRINT], env=env, capture_output=True,
                                         text=True, check=True).stdout)  # fmt: skip

    (canonical_1, plain_1), (canonical_2, plain_2) = fingerprints("1"), fingerprints("2")
    assert canonical_1 == canonical_2
    assert plain_1 != plain_2, "the negative control: str() of these rows depends on the process"
    from curriculum.checkpoints import pool_fingerprint

    messages = [{"role": "user", "content": "3 + 4 ="}]
    as_parquet = np.empty(1, dtype=object)
    as_parquet[0] = messages[0]
    assert pool_fingerprint([as_parquet], canonical=True) == pool_fingerprint([messages], canonical=True)


def test_a_driver_that_does_not_know_its_pool_keeps_a_loaded_states() -> None:
    from curriculum.checkpoints import pool_fingerprint

    pool = pool_fingerprint([f"q{i}" for i in range(60)], canonical=True)
    blind = driver()
    blind.load_state_dict(driver(pool=pool).state_dict())
    assert blind.state_dict()["pool"] == pool, "saved again, the state still names its pool"


def test_the_task_sampler_has_prime_rls_shape_and_chooses_with_the_curriculum() -> None:
    for name in TASK_SAMPLER_PROTOCOL:
        assert callable(getattr(CurriculumTaskSampler, name, None)), name
    assert list(inspect.signature(CurriculumTaskSampler.observe).parameters) == ["self", "group"]
    tasks = [{"prompt": f"q{i}", "difficulty": ["easy", "hard"][i % 2]} for i in range(40)]
    sampler = CurriculumTaskSampler(tasks, group_size=4, batch_size=8, labels=[t["difficulty"] for t in tasks])
    drawn = []
    for _ in range(10):  # hard tasks never succeed, easy ones half the time
        batch = [next(sampler) for _ in range(8)]
        assert len({t["task_id"] for t in batch}) == 8 and all(t["prompt"] == f"q{t['task_id']}" for t in batch)
        for t in batch[::-1]:  # fed back in another order than handed out
            rewards = [0.0] * 4 if t["difficulty"] == "hard" else [1.0, 0.0, 1.0, 0.0]
            sampler.observe({"task_id": t["task_id"], "rewards": rewards})
        drawn += [t["difficulty"] for t in batch]
    metrics = sampler.metrics()
    assert metrics["observed_rollouts"] == 10 * 8 * 4 and metrics["pending"] == 0
    assert drawn[40:].count("hard") < 0.3 * 40, "the curriculum learned the hard label teaches nothing"
    state = sampler.state_dict()
    again = CurriculumTaskSampler(tasks, group_size=4, batch_size=8, labels=[t["difficulty"] for t in tasks])
    again.load_state_dict(state)
    assert [next(again)["task_id"] for _ in range(8)] == [next(sampler)["task_id"] for _ in range(8)]


def test_with_prime_rls_tasks_and_episodes_it_hands_out_the_tasks_and_learns_from_the_traces() -> None:
    """prime-rl's shape: `next` gives one of the env's tasks as it was given; `observe` takes a finalized group, a list
    of episodes of one task, and reads each episode's trainable traces without an error, as prime-rl's own
    DifficultyPoolSampler does."""
    tasks = [Task(f"t{i}", SimpleNamespace(idx=i, prompt=f"q{i}")) for i in range(40)]
    hard = {t.key for t in tasks[1::2]}
    sampler = CurriculumTaskSampler(tasks, group_size=4, batch_size=8, labels=[int(t.key in hard) for t in tasks])
    drawn = []
    for _ in range(10):
        batch = [next(sampler) for _ in range(8)]
        assert all(t in tasks for t in batch) and len({t.key for t in batch}) == 8, "the env's own task objects"
        for t in batch[::-1]:
            sampler.observe(episodes(t, [0.0] * 4 if t.key in hard else [1.0, 0.0, 1.0, 0.0]))
        drawn += [t.key in hard for t in batch]
    assert sampler.metrics()["observed_rollouts"] == 10 * 8 * 4
    assert sum(drawn[40:]) < 0.3 * 40, "the curriculum learned the hard tasks teach nothing"
    task = next(sampler)
    group = episodes(task, [1.0, 1.0, 0.0, 0.0])
    group[0].traces = [Trace(None, has_error=True)]  # an error: unscorable, not a failure
    group[1].traces = [Trace(0.0, agent=SimpleNamespace(trainable=False)), Trace(1.0)]  # an untrained agent's: left out
    before = int(sampler.driver.curriculum.tracker.attempts[tasks.index(task)])
    sampler.observe(group)
    sampler.driver.flush()
    assert int(sampler.driver.curriculum.tracker.attempts[tasks.index(task)]) == before + 3
    with pytest.raises(ValueError, match="episodes of one task this sampler handed out"):
        sampler.observe(episodes(tasks[0], [1.0, 0.0]) + episodes(tasks[1], [1.0, 0.0]))
    with pytest.raises(ValueError, match="unique"):
        CurriculumTaskSampler([tasks[0], tasks[0]], group_size=4, batch_size=1)


def test_a_resumed_task_sampler_lets_the_tasks_in_flight_go() -> None:
    """prime-rl's orchestrator checkpoint holds no rollout in flight: the tasks handed out before the save and never
    fed back must not stay pending (the walk never draws a pending task), and the tasks proposed but not handed out
    come next, as they would have."""
    tasks = [Task(f"t{i}", SimpleNamespace(idx=i, prompt=f"q{i}")) for i in range(40)]
    sampler = CurriculumTaskSampler(tasks, group_size=4, batch_size=8)
    out = [next(sampler) for _ in range(5)]  # 3 proposed and not handed out yet
    sampler.observe(episodes(out[0], [1.0, 0.0, 0.0, 0.0]))
    state = sampler.state_dict()
    again = CurriculumTaskSampler(tasks, group_size=4, batch_size=8)
    again.load_state_dict(state)
    queued = [tasks.index(t) for t in [next(sampler) for _ in range(3)]]
    assert sorted(again.driver.pending.tolist()) == sorted(queued), "only the 3 not handed out stay pending"
    assert [tasks.index(next(again)) for _ in range(3)] == queued


def test_groups_prime_rl_cut_short_or_dropped_neither_crash_it_nor_stay_pending() -> None:
    """prime-rl finalizes a group with the episodes that arrived when it drops the rest (overload), and drops stale
    groups without telling the curriculum: a short group counts the rollouts it has, and the oldest tasks handed out
    beyond `max_in_flight` leave `pending` (the walk never draws a pending task)."""
    tasks = [Task(f"t{i}", SimpleNamespace(idx=i, prompt=f"q{i}")) for i in range(60)]
    sampler = CurriculumTaskSampler(tasks, group_size=4, batch_size=4, max_in_flight=8)
    task = next(sampler)
    sampler.observe(episodes(task, [1.0, 0.0]))  # 2 of 4 arrived
    sampler.driver.flush()
    assert int(sampler.driver.curriculum.tracker.attempts[tasks.index(task)]) == 2
    with pytest.raises(ValueError, match="group of 5 episodes; this sampler was built with group_size=4"):
        sampler.observe(episodes(task, [1.0] * 5))
    handed = [next(sampler) for _ in range(40)]  # never fed back
    in_flight = sampler.driver.pending[~np.isin(sampler.driver.pending, list(sampler._queue))]
    assert in_flight.size <= 8 + 4, "at most max_in_flight, plus the batch being handed out"
    oldest = tasks.index(handed[0])
    assert oldest not in sampler.driver.pending.tolist(), "let go"
    before = int(sampler.driver.curriculum.tracker.attempts[oldest])
    sampler.observe(episodes(handed[0], [1.0, 1.0, 0.0, 0.0]))  # its feedback, late, still counts
    sampler.driver.flush()
    assert int(sampler.driver.curriculum.tracker.attempts[oldest]) == before + 4


def test_use_curriculum_puts_it_in_every_env_of_a_train_source() -> None:
    """prime-rl's TrainSource: `envs` (each with its name and config.group_size) and `curricula[name].sampler`, whose
    `tasks` are the env's finite taskset (a tuple)."""

    def env(name: str, group: int, n: int) -> tuple[SimpleNamespace, SimpleNamespace]:
        tasks = tuple(Task(f"{name}{i}", SimpleNamespace(idx=i, prompt=f"{name} {i}", level=i % 3)) for i in range(n))
        return SimpleNamespace(name=name, config=SimpleNamespace(group_size=group)), SimpleNamespace(
            sampler=SimpleNamespace(tasks=tasks)
        )

    (a, ca), (b, cb) = env("math", 8, 30), env("code", 4, 20)
    source = SimpleNamespace(envs=[a, b], curricula={"math": ca, "code": cb})
    use_curriculum(source, batch_size=16, label_of=lambda t: t.data.level)
    for name, group, n in (("math", 8, 30), ("code", 4, 20)):
        sampler = source.curricula[name].sampler
        assert isinstance(sampler, CurriculumTaskSampler) and sampler.driver.group_size == group
        assert sampler.batch_size == 16 and len(sampler.tasks) == n
        assert next(sampler).key.startswith(name)
    streaming = SimpleNamespace(envs=[a], curricula={"math": SimpleNamespace(sampler=SimpleNamespace(tasks=None))})
    with pytest.raises(ValueError, match="streams its tasks"):
        use_curriculum(streaming, batch_size=16)


def test_a_task_samplers_state_of_other_tasks_is_refused_naming_them() -> None:
    tasks = [{"prompt": f"q{i}"} for i in range(20)]
    state = CurriculumTaskSampler(tasks, group_size=4, batch_size=4).state_dict()
    with pytest.raises(ValueError, match="another training pool: the same prompts in another order"):
        CurriculumTaskSampler(tasks[::-1], group_size=4, batch_size=4).load_state_dict(state)
    without = [{"q": f"q{i}"} for i in range(20)]  # no prompt key: the tasks themselves are the identity
    state = CurriculumTaskSampler(without, group_size=4, batch_size=4).state_dict()
    with pytest.raises(ValueError, match="another training pool: other prompts"):
        CurriculumTaskSampler([{"q": f"x{i}"} for i in range(20)], group_size=4, batch_size=4).load_state_dict(state)


def test_without_labels_the_task_sampler_predicts_unseen_tasks_from_their_texts_as_the_drop_in_does() -> None:
    tasks = [{"prompt": f"digits {'7' * (1 + i % 5)}="} for i in range(20)]
    features = lambda sampler: sampler.driver.curriculum.ability.features  # noqa: E731
    assert features(CurriculumTaskSampler(tasks, group_size=4, batch_size=4)).dim == TEXT_DIM  # "auto", no labels
    assert features(CurriculumTaskSampler(tasks, group_size=4, batch_size=4, labels=[1] * 20)) is None
    assert features(CurriculumTaskSampler(tasks, group_size=4, batch_size=4, features="none")) is None
    assert features(CurriculumTaskSampler([{"q": "x"}] * 20, group_size=4, batch_size=4)) is None  # no text: none
    with pytest.raises(ValueError, match="prompt_key"):
        CurriculumTaskSampler([{"q": "x"}] * 20, group_size=4, batch_size=4, features="text")
    with pytest.raises(ValueError, match='"auto", "text" or "none"'):
        CurriculumTaskSampler(tasks, group_size=4, batch_size=4, features="txt")


def test_a_state_saved_with_other_features_is_refused_naming_them() -> None:
    """A state of a task sampler built without features (before "auto" gave it text features) names the fix."""
    tasks = [{"prompt": f"q{i}"} for i in range(20)]
    old = CurriculumTaskSampler(tasks, group_size=4, batch_size=4, features="none")
    with pytest.raises(ValueError, match='features_digest.*features="none"'):
        CurriculumTaskSampler(tasks, group_size=4, batch_size=4).load_state_dict(old.state_dict())
    CurriculumTaskSampler(tasks, group_size=4, batch_size=4, features="none").load_state_dict(old.state_dict())


def test_missing_labels_are_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="missing values; fill them"):
        CurriculumTaskSampler([{"prompt": "q"}] * 4, group_size=2, batch_size=2, labels=[1, None, 2, 1])
