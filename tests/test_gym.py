"""reasoning-gym as a task source (tasks/gym.py) and `dataset=gym:...` in the run config."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("reasoning_gym")

from recipes.cli import main
from recipes.run_config import load_run_config
from recipes.tiny import gym_warmup, tiny_config, warmup_examples
from tasks import Example, build_eval, build_pool, task_for_row
from tasks.base import _REGISTRY
from tasks.gym import TAG_PROMPT, GymSpec, gym_families, gym_reward, level_names

ROOT = Path(__file__).resolve().parents[1]
SPEC = GymSpec(["chain_sum", "spell_backward"], trim=True)


@pytest.fixture(autouse=True)
def registry():
    """The task registry as it was: the gym families a test registers do not outlive it."""
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def test_each_task_and_cell_is_one_label_and_the_levels_follow_the_tasks_in_order() -> None:
    families = gym_families(SPEC)
    pool = build_pool(families, None, per_level=4, seed=0)
    pairs = {(r["family"], r["difficulty"]) for r in pool}
    assert families == ["gym:chain_sum", "gym:spell_backward"]
    assert {d for f, d in pairs if f == "gym:chain_sum"} == {1, 2, 3, 4, 5}
    assert {d for f, d in pairs if f == "gym:spell_backward"} == {6, 7, 8, 9, 10}
    assert level_names(SPEC)[7] == "spell_backward 2"


def test_a_pool_is_fixed_by_its_seed_and_the_held_out_set_shares_no_prompt_with_it() -> None:
    families = gym_families(SPEC)
    a, b = build_pool(families, None, 20, seed=3), build_pool(families, None, 20, seed=3)
    assert a["prompt"] == b["prompt"] and a["answer"] == b["answer"]
    assert build_pool(families, None, 20, seed=4)["prompt"] != a["prompt"]
    held_out = build_eval(families, None, 10, seed=3, exclude=a)
    assert len(held_out) == 100 and not set(held_out["prompt"]) & set(a["prompt"])


def test_the_question_is_the_tasks_own_unless_trimmed() -> None:
    full = build_pool(gym_families(GymSpec(["spell_backward"])), [1], 2, seed=0)
    short = build_pool(gym_families(GymSpec(["spell_backward"], trim=True)), [1], 2, seed=0)
    assert all(p.startswith("Spell this word backward (example: sun -> nus): ") for p in full["prompt"])
    assert [p.split(": ")[-1] for p in full["prompt"]] == [p.split(": ")[-1] for p in short["prompt"]]
    assert all(p.startswith("backward: ") for p in short["prompt"])


def test_the_reward_is_reasoning_gyms_graded_score_and_success_is_a_score_of_one() -> None:
    gym_families(SPEC)
    rows = {"answer": ["olleh", "olleh", "-12", None], "family": ["gym:spell_backward"] * 2 + ["gym:chain_sum"] * 2}
    scores = gym_reward([""] * 4, ["olleh\nmore", "ollxx", "-12", "None"], **rows)
    assert scores[0] == 1.0 and 0 < scores[1] < 1 and scores[2] == 1.0 and scores[3] == 0.0
    task = task_for_row("gym:spell_backward")
    assert task.verify("olleh", "olleh") and not task.verify("olleh", "ollxx")


def test_a_model_that_reasons_first_is_scored_on_its_last_tagged_answer() -> None:
    spec = GymSpec(["chain_sum"], answer="tag")
    row = build_pool(gym_families(spec), [1], 1, seed=0)[0]
    assert row["prompt"].startswith(TAG_PROMPT) and "=" in row["prompt"]
    task = task_for_row("gym:chain_sum")
    right = f"<think>7 and so on</think><answer>0</answer> <answer>{row['answer']}</answer>"
    assert task.verify(row["answer"], right)
    assert not task.verify(row["answer"], row["answer"]), "an untagged answer is no answer"
    with pytest.raises(ValueError, match="gym.answer"):
        load_run_config(ROOT / "configs/smoke.yaml", ["dataset=gym:chain_sum", "gym.answer=box"])


def test_the_warm_up_mistakes_are_a_common_wrong_procedure_where_one_is_known_and_another_items_answer_elsewhere() -> None:
    families = gym_families(GymSpec(["chain_sum", "spell_backward", "basic_arithmetic"], trim=True))
    chain, spell, other = (task_for_row(f) for f in families)
    ex = Example(prompt="12 - 5 + 30 =", answer="37", difficulty=4, family="gym:chain_sum")
    assert chain.mistake(ex) == "7", "the last term forgotten"
    assert spell.mistake(Example("backward: ahull", "lluha", 8, "gym:spell_backward")) == "ahull", "not reversed"
    pool = build_pool([families[2]], [11], 20, seed=0)
    wrong = [other.mistake(Example(r["prompt"], r["answer"], 11, r["family"])) for r in pool]
    assert wrong == [other.mistake(Example(r["prompt"], r["answer"], 11, r["family"])) for r in pool], "fixed by the prompt"
    assert sum(w != r for w, r in zip(wrong, pool["answer"], strict=True)) >= 15


def test_a_grid_replaces_a_tasks_cells() -> None:
    spec = GymSpec(["spell_backward"], grids={"spell_backward": [{"min_word_len": 3, "max_word_len": 3}]})
    pool = build_pool(gym_families(spec), None, 5, seed=0)
    assert set(pool["difficulty"]) == {1} and all(len(a) == 3 for a in pool["answer"])


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["dataset=gym:chain_sum,no_such_task"], ["no_such_task", "spell_backward"]),
        (["dataset=gym:chain_sum", "gym.grids={chain_sum: [{max_termz: 3}]}"], ["max_termz", "max_terms"]),
        (["dataset=gym:chain_sum", "gym.grids={spell_backward: [{}]}"], ["spell_backward", "chain_sum"]),
        (["dataset=gym:chain_sum", "gym.trimm=true"], ["gym.trimm", "trim"]),
        (["gym.trim=true"], ["dataset=gym:"]),
        (["dataset=gym:,"], ["names no reasoning-gym task"]),
        (["dataset=gym:chain_sum", "level_counts={9: 5}"], ["level_counts", "level 9", "1..5"]),
        (["level_counts={6: 5}"], ["level_counts", "level 6", "1..5"]),
        (["dataset=gym:chain_sum", "gym.grids={chain_sum: [{min_terms: 9, max_terms: 2}]}"], ["cell 1", "refuses"]),
    ],
)
def test_bad_tasks_and_settings_are_refused_before_any_model_work_naming_the_valid_ones(overrides, words) -> None:
    with pytest.raises(ValueError) as err:
        load_run_config(ROOT / "configs/smoke.yaml", overrides)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_level_counts_weigh_a_gym_pools_cells_and_leave_its_held_out_set_even() -> None:
    from recipes.build import build_data

    cfg = load_run_config(
        ROOT / "configs/smoke.yaml",
        ["dataset=gym:spell_backward,gcd", "level_counts={2: 3, 7: 5, 10: 0}", "eval_per_level=2"],
    )
    train, held_out = build_data(cfg)
    assert sorted(train["difficulty"]) == [2] * 3 + [7] * 5
    assert set(train["family"]) == {"gym:spell_backward", "gym:gcd"}
    assert sorted(held_out["difficulty"]) == sorted(list(range(1, 11)) * 2)
    assert not set(held_out["prompt"]) & set(train["prompt"])


def test_a_gym_pool_scores_with_reasoning_gym_unless_other_rewards_were_asked_for() -> None:
    cfg = load_run_config(ROOT / "configs/smoke.yaml", ["dataset=gym:chain_sum"])
    assert (cfg.rewards, cfg.success_reward) == (["gym_reward"], "gym_reward")
    cfg = load_run_config(ROOT / "configs/smoke.yaml", ["dataset=gym:chain_sum", "rewards=[correctness_reward]"])
    assert (cfg.rewards, cfg.success_reward) == (["correctness_reward"], "correctness_reward")


def test_the_tiny_warm_up_weights_each_tasks_cells_like_the_default_levels_and_keys_its_cache_on_the_grid() -> None:
    config = tiny_config(gym_warmup(SPEC, {}))
    weights, mistakes = config["tasks"]["level_weights"], config["tasks"]["mistakes"]
    assert [weights[str(k)] for k in range(1, 6)] == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0])
    assert [mistakes[str(k)] for k in range(6, 11)] == pytest.approx([0.0, 0.3, 0.5, 0.5, 0.5])
    assert [weights[str(k)] for k in range(6, 11)] == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0])
    other = tiny_config(gym_warmup(GymSpec(["chain_sum", "spell_backward"], trim=False), {}))
    assert other["tasks"]["gym"] != config["tasks"]["gym"], "the grid and trim are part of the cache key"
    examples = warmup_examples(config["tasks"]["families"], weights, 200, seed=0)
    assert len(examples) == 200, "each drawn level goes to the task that owns it"
    assert {e.family for e in examples} == {"gym:chain_sum", "gym:spell_backward"}
    assert max(e.difficulty for e in examples if e.family == "gym:chain_sum") <= 4


@pytest.mark.slow
def test_curriculum_train_on_a_gym_pool_reports_before_and_after_per_task_and_level(tmp_path, capsys) -> None:
    out = tmp_path / "gym"
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}",
            "dataset=gym:chain_sum,spell_backward", "gym.trim=true", "per_level=8", "eval_per_level=3", "max_steps=3",
            "plots=false"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "spell_backward 5" in printed and "| mean | 30 |" in printed


@pytest.mark.parametrize("path", ["configs/gym.yaml", "configs/recipes/qwen2.5-1.5b-instruct_gym_1gpu.yaml"])
def test_the_shipped_gym_configs_load(path) -> None:
    cfg = load_run_config(ROOT / path)
    assert cfg.gym_spec().tasks and cfg.success_reward in cfg.rewards
