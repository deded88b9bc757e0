"""The tiny offline model: character tokenizer, model, warm-up, greedy evaluation and the cache."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recipes.evaluate import evaluate_levels, generate
from recipes.tiny import (
    DEFAULT_TINY_CONFIG,
    build_char_tokenizer,
    build_tiny_model,
    cache_key,
    cache_root,
    load_or_build_tiny,
    tiny_config,
    warm_up,
    warmup_examples,
)
from tasks import Arithmetic, Example, build_eval, get_task

QUICK = {"warmup": {"steps": 20, "batch_size": 16}, "eval": {"per_level": 2}}
"""A warm-up too short to learn anything: enough to exercise building and caching."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-cache")


@pytest.fixture(scope="module")
def built(cache):
    return load_or_build_tiny(cache, QUICK, progress=False)


# ---- tokenizer -----------------------------------------------------------------------------------------
def test_tokenizer_round_trips_unusual_characters_it_was_given():
    text = "naïve café ∑x² → 42\n\tend  "
    tok = build_char_tokenizer(extra_texts=[text])
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and tok.unk_token_id not in ids
    assert len(ids) == len(text) + 1, "one token per character"
    assert tok.decode(ids, skip_special_tokens=True) == text


def test_tokenizer_maps_unseen_characters_to_unk_instead_of_failing():
    tok = build_char_tokenizer()
    ids = tok("1+1=😀")["input_ids"]
    assert ids[-1] == tok.unk_token_id
    assert tok.decode(ids, skip_special_tokens=True) == "1+1="


def test_tokenizer_has_distinct_pad_bos_eos_and_unk():
    tok = build_char_tokenizer()
    special = [tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id]
    assert None not in special and len(set(special)) == 4
    assert tok.eos_token == "<eos>" and tok.decode([tok.eos_token_id], skip_special_tokens=True) == ""


# ---- model and warm-up ---------------------------------------------------------------------------------
def test_tiny_model_has_about_half_a_million_parameters_and_runs_forward():
    tok = build_char_tokenizer()
    model = build_tiny_model(DEFAULT_TINY_CONFIG["model"], tok)
    assert 3e5 < sum(p.numel() for p in model.parameters()) < 7e5
    batch = tok(["3+4=", "sort dca="], padding=True, return_tensors="pt")
    logits = model(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], len(tok))


def test_model_initialisation_is_seeded_and_leaves_the_global_rng_alone():
    tok = build_char_tokenizer()
    state = torch.random.get_rng_state()
    a, b = (build_tiny_model(DEFAULT_TINY_CONFIG["model"], tok, seed=3) for _ in range(2))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_warm_up_lowers_the_loss_on_the_answer_tokens():
    tok = build_char_tokenizer()
    model = build_tiny_model(DEFAULT_TINY_CONFIG["model"], tok)
    examples = [Arithmetic().generate(1, seed) for seed in range(200)]
    report = warm_up(model, tok, examples, steps=30, batch_size=32, lr=3e-3, progress=False)
    assert len(report["losses"]) == 30
    assert sum(report["losses"][-5:]) < 0.5 * sum(report["losses"][:5])


def test_warm_up_examples_follow_the_level_weights():
    examples = warmup_examples(["digit_sum", "sorting"], {"1": 3.0, "2": 1.0, "5": 0.0}, 400, seed=0)
    levels = [ex.difficulty for ex in examples]
    assert set(levels) == {1, 2} and levels.count(1) > 2 * levels.count(2)
    assert {ex.family for ex in examples} == {"digit_sum", "sorting"}


def test_warm_up_examples_carry_each_levels_share_of_common_mistakes():
    examples = warmup_examples(["digit_sum", "sorting"], {"1": 1.0, "2": 1.0}, 2000, seed=0, mistakes={"1": 0.0, "2": 0.5})
    clean = warmup_examples(["digit_sum", "sorting"], {"1": 1.0, "2": 1.0}, 2000, seed=0)
    assert [e.prompt for e in examples] == [e.prompt for e in clean], "mistakes change answers, not prompts"
    wrong = {1: 0, 2: 0}
    for ex, ok in zip(examples, clean, strict=True):
        if ex.answer != ok.answer:
            assert ex.answer == get_task(ex.family).mistake(ok)
            wrong[ex.difficulty] += 1
    n2 = sum(e.difficulty == 2 for e in examples)
    assert wrong[1] == 0 and 0.4 * n2 < wrong[2] < 0.55 * n2  # a few mistakes coincide with the answer


# ---- evaluation ----------------------------------------------------------------------------------------
def test_batched_greedy_generation_matches_one_prompt_at_a_time(built):
    model, tok, _ = built
    prompts = ["3+4=", "sort qdcaxbm=", "12+5=", "digits 4721="]
    batched = generate(model, tok, prompts, batch_size=4, max_new_tokens=6)
    single = [generate(model, tok, [p], batch_size=1, max_new_tokens=6)[0] for p in prompts]
    assert batched == single and all(len(c) == 1 for c in batched)
    assert all("<" not in text[0] for text in batched), "special tokens are dropped"


def test_sampled_generation_is_seeded_and_leaves_the_global_rng_alone(built):
    model, tok, _ = built
    state = torch.random.get_rng_state()
    a = generate(model, tok, ["3+4=", "sort dca="], samples=5, temperature=1.5, max_new_tokens=6, seed=1)
    b = generate(model, tok, ["3+4=", "sort dca="], samples=5, temperature=1.5, max_new_tokens=6, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert a == b and [len(c) for c in a] == [5, 5]
    assert len(set(a[0]) | set(a[1])) > 2, "an untrained model samples different completions"


def test_a_levels_interval_counts_prompts_not_samples(built):
    model, tok, _ = built
    examples = [Example(f"{a}+1=", str(a + 1), 1, "arithmetic") for a in range(10)]
    calls = iter(range(10**6))
    report = evaluate_levels(model, tok, examples, samples=2, verify=lambda ex, c: next(calls) % 2 == 0)
    assert report.accuracy[1] == pytest.approx(0.5)
    assert report.half_width[1] == pytest.approx(0.0), "every prompt solved 1 of its 2 samples: no spread"


def test_evaluate_levels_reads_dataset_rows_and_reports_each_level_and_family(built):
    model, tok, _ = built
    rows = build_eval(["digit_sum", "sorting"], None, per_level=2, seed=0)
    report = evaluate_levels(model, tok, rows, batch_size=8, max_new_tokens=8, samples=2)
    assert list(report.accuracy) == [1, 2, 3, 4, 5] and all(0.0 <= a <= 1.0 for a in report.accuracy.values())
    assert report.prompts == {lv: 4 for lv in range(1, 6)}
    assert set(report.by_family) == {"digit_sum", "sorting"}


def test_evaluate_levels_uses_the_verifier_it_is_given_and_reports_each_levels_interval(built):
    model, tok, _ = built
    examples = [
        Example("3+4=", "7", 1, "arithmetic"),
        Example("1+1=", "2", 2, "arithmetic"),
        Example("2+1=", "3", 2, "arithmetic"),
        Example("5+1=", "6", 2, "arithmetic"),
    ]
    report = evaluate_levels(model, tok, examples, verify=lambda ex, c: ex.prompt != "5+1=" and ex.difficulty == 2)
    assert report.accuracy == {1: 0.0, 2: pytest.approx(2 / 3)}
    assert report.half_width[2] == pytest.approx(1.96 * np.std([1, 1, 0], ddof=1) / np.sqrt(3))
    assert report.mean == pytest.approx(1 / 3)


# ---- cache ---------------------------------------------------------------------------------------------
def test_a_second_call_loads_the_cached_model_instead_of_training(built, cache):
    model, tok, info = built
    again_model, again_tok, again = load_or_build_tiny(cache, QUICK, progress=False)
    assert info["cached"] is False and again["cached"] is True and again["path"] == info["path"]
    assert again["warmup_seconds"] == info["warmup_seconds"] and again["accuracy"] == info["accuracy"]
    for p, q in zip(model.parameters(), again_model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert again_tok("sort dca=")["input_ids"] == tok("sort dca=")["input_ids"]
    assert again_tok.eos_token_id == tok.eos_token_id


def test_the_cache_holds_only_finished_builds(built, cache):
    _, _, info = built
    assert [p.name for p in cache.iterdir()] == [Path(info["path"]).name]
    assert {"config.json", "info.json", "tokenizer.json"} <= {p.name for p in Path(info["path"]).iterdir()}


def test_the_cache_key_changes_with_the_config_and_the_extra_characters():
    base = tiny_config(QUICK)
    assert cache_key(base, "") == cache_key(tiny_config(QUICK), "")
    assert cache_key(base, "") != cache_key(tiny_config({**QUICK, "warmup": {"steps": 21}}), "")
    assert cache_key(base, "") != cache_key(base, "é")


def test_the_cache_folder_comes_from_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RLVR_CURRICULUM_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("RLVR_CURRICULUM_CACHE")
    assert cache_root() == Path("~/.cache/rlvr-curriculum").expanduser()


def test_a_misspelt_config_key_is_rejected():
    with pytest.raises(ValueError, match=r"unknown keys \['step'\] in tiny config \[warmup\]"):
        tiny_config({"warmup": {"step": 10}})


@pytest.mark.slow
def test_the_default_warm_up_leaves_a_spread_of_difficulty():
    """Builds (once; ~45-110 s on 2 cores) or loads the default model from the user's cache folder."""
    _, _, info = load_or_build_tiny(progress=False)
    for family in ("digit_sum", "sorting"):
        accuracy = info["accuracy"][family]
        assert accuracy[1] >= 0.9 and accuracy[5] <= 0.1, family
        assert any(0.2 < accuracy[level] < 0.6 for level in (3, 4)), family


@pytest.mark.filterwarnings("ignore:.*gradient_checkpointing.*:FutureWarning")  # inside transformers/TRL
def test_grpo_trainer_takes_a_step_with_the_tiny_model_and_the_task_rewards(built, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    from tasks import build_pool, correctness_reward, format_reward

    model, tok = copy.deepcopy(built[0]), built[1]  # the fixture's model stays as cached
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=8,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
    )
    pool = build_pool(["digit_sum", "sorting"], [1, 2], per_level=4, seed=0)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[correctness_reward, format_reward],
        args=args,
        train_dataset=pool,
        processing_class=tok,
    )
    trainer.train()
    logged = trainer.state.log_history[0]
    assert "rewards/correctness_reward/mean" in logged and "rewards/format_reward/mean" in logged


def test_the_shortcut_measures_per_level_tell_a_fixed_answer_from_one_that_follows_the_input(built, monkeypatch):
    import recipes.evaluate as evaluate

    model, tok, _ = built

    def answers(model, tok, prompts, *args, **kwargs):  # level 4 ("last 77="): always "3"; level 1: the digit itself
        return [["3"] if len(p) == 8 else [p[5:-1]] for p in prompts]

    examples = [Example(f"last {d}{d}=", str(d), 4, "last_digit") for d in range(10)]
    examples += [Example(f"last {d}=", str(d), 1, "last_digit") for d in range(10)]
    monkeypatch.setattr(evaluate, "generate", answers)
    report = evaluate.evaluate_levels(model, tok, examples)
    assert report.mode_share_by_level["last_digit"] == {1: pytest.approx(0.1), 4: 1.0}
    # the fixed answer scores what it scores against shuffled references: no dependence on the input
    assert report.by_family["last_digit"][4] == pytest.approx(0.1)
    assert report.chance_by_level["last_digit"][4] == pytest.approx(0.1)
    assert report.by_family["last_digit"][1] - report.chance_by_level["last_digit"][1] == pytest.approx(0.9)
    again = evaluate.LevelReport.from_json(json.loads(json.dumps(report.to_json())))
    assert again.chance_by_level == report.chance_by_level and again.mode_share_by_level == report.mode_share_by_level
