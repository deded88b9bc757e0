"""CurriculumGRPOTrainer as a drop-in for TRL's GRPOTrainer: config parsing, the TRL contract we rely on,
feedback and metrics end to end, bad input, LoRA. A random tiny character-level Llama, CPU only."""

from __future__ import annotations

import inspect
import json
import math
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import TOKENIZER, record_chunks, tiny_model, toy_args
from datasets import Dataset, IterableDataset
from transformers import HfArgumentParser
from trl import GRPOConfig, GRPOTrainer, TrlParser
from trl.trainer.utils import RepeatSampler

from curriculum import CurriculumConfig
from rl import CurriculumGRPOConfig, CurriculumGRPOTrainer
from rl.trl.sampler import CurriculumSampler
from rl.trl.trainer import curriculum_args

pytestmark = pytest.mark.filterwarnings("ignore:.*(gradient|activation)_checkpointing.*:FutureWarning")


# ---- toy fixture: character tokenizer, random tiny Llama, a+b= prompts ------------------------------------


def sums(n: int = 32, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    level = rng.integers(1, 4, n)
    a, b = rng.integers(0, 10**level), rng.integers(0, 10**level)
    return Dataset.from_dict(
        {
            "prompt": [f"{x}+{y}=" for x, y in zip(a, b, strict=True)],
            "answer": [str(x + y) for x, y in zip(a, b, strict=True)],
            "level": level.tolist(),
        }
    )


def correct(completions: list[str], answer: list[str], **kwargs) -> list[float]:
    return [float(c.strip() == a) for c, a in zip(completions, answer, strict=True)]


def lucky(completions: list[str], level: list[int], **kwargs) -> list[float]:
    """A pseudo-verifier with known pass rates per level (0.8, 0.4, 0.03): plenty of mixed groups."""
    rate = {1: 0.8, 2: 0.4, 3: 0.03}
    return [float(zlib.crc32(c.encode()) / 2**32 < rate[lv]) for c, lv in zip(completions, level, strict=True)]


def grpo_args(tmp_path: Path, **overrides) -> CurriculumGRPOConfig:
    """The toy run's settings (3 steps unless overridden)."""
    return toy_args(str(tmp_path), **{"max_steps": 3, **overrides})


def make_trainer(tmp_path: Path, dataset: Dataset | None = None, reward_funcs=None, **overrides):
    return CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=reward_funcs or [lucky, correct],
        args=grpo_args(tmp_path, **overrides),
        train_dataset=sums() if dataset is None else dataset,
        processing_class=TOKENIZER,
    )


def logged(trainer: CurriculumGRPOTrainer, key: str) -> list[float]:
    return [h[key] for h in trainer.state.log_history if key in h]


# ---- the config --------------------------------------------------------------------------------------
def test_the_config_maps_curriculum_fields_to_a_core_config(tmp_path: Path) -> None:
    args = grpo_args(
        tmp_path,
        curriculum_policy="static",
        curriculum_band_low=0.3,
        curriculum_target=0.6,
        curriculum={"tracker_half_life": 20.0},
    )
    cfg = args.curriculum_config
    assert (cfg.policy, cfg.band_low, cfg.target, cfg.tracker_half_life) == ("static", 0.3, 0.6, 20.0)
    assert args.ignore_data_skip is True
    assert isinstance(args, GRPOConfig)


def test_a_policys_settings_go_nested_in_the_curriculum_mapping_and_a_flat_field_maps_to_its_nested_one(
    tmp_path: Path,
) -> None:
    args = grpo_args(tmp_path, curriculum={"adaptive": {"retention": 0.3}, "band.cache": 64}, curriculum_explore_frac=0.2)
    cfg = args.curriculum_config
    assert (cfg.adaptive.retention, cfg.band.cache, cfg.band.explore_frac) == (0.3, 64, 0.2)
    assert grpo_args(tmp_path, curriculum={"band": {"explore_frac": 0.1}}).curriculum_explore_frac == 0.1
    with pytest.raises(
        ValueError, match=r"curriculum_explore_frac=0.2 and curriculum \{'band.explore_frac': 0.1\} disagree"
    ):
        grpo_args(tmp_path, curriculum={"band": {"explore_frac": 0.1}}, curriculum_explore_frac=0.2)
    with pytest.raises(ValueError, match=r"retention is now adaptive\.retention"):
        grpo_args(tmp_path, curriculum={"retention": 0.3})


def test_a_flat_field_may_also_come_through_the_curriculum_mapping(tmp_path: Path) -> None:
    args = grpo_args(tmp_path, curriculum={"band_low": 0.3, "policy": "static"})
    assert (args.curriculum_config.band_low, args.curriculum_band_low) == (0.3, 0.3)
    assert args.curriculum_config.policy == args.curriculum_policy == "static"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"curriculum_policy": "greedy"}, "curriculum_policy='greedy': choose one of uniform, static, adaptive, band"),
        ({"curriculum_band_low": 0.9}, "band_low"),
        ({"curriculum_fluke_damping": "clip"}, "curriculum_fluke_damping"),
        ({"curriculum_fluke_cap": 0.0}, "curriculum_fluke_cap"),
        ({"curriculum": {"bogus": 1}}, "unknown CurriculumConfig fields"),
        ({"curriculum": {"target": 0.4}, "curriculum_target": 0.6}, "curriculum_target=0.6 and .* disagree"),
        ({"curriculum": [1, 2]}, "curriculum must be a mapping"),
        ({"curriculum": {"success_threshold": 0.9}}, "set curriculum_success_threshold instead"),
        ({"curriculum": "{not json"}, "curriculum must be a JSON object"),
        ({"curriculum_extra": {"target": 0.4}}, "curriculum_extra is now called curriculum: rename the key"),
    ],
)
def test_bad_settings_fail_at_config_time_naming_the_field(tmp_path: Path, overrides: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        grpo_args(tmp_path, **overrides)


def test_trl_parser_reads_curriculum_fields_from_yaml_and_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "grpo.yaml"
    config.write_text(
        f"output_dir: {tmp_path}\nuse_cpu: true\nreport_to: []\nper_device_train_batch_size: 8\n"
        "num_generations: 4\n"
        "curriculum_policy: static\ncurriculum_band_high: 0.7\ncurriculum_fluke_damping: cap\n"
        "curriculum: {tracker_half_life: 25.0}\ncurriculum_success_reward: correct\n"
    )
    (args,) = TrlParser((CurriculumGRPOConfig,)).parse_args_and_config(
        ["--config", str(config), "--curriculum_fluke_cap", "0.5", "--curriculum_prior_column", "level"]
    )
    assert (args.curriculum_policy, args.curriculum_fluke_damping, args.curriculum_fluke_cap) == (
        "static",
        "cap",
        0.5,
    )
    assert args.curriculum_config.band_high == 0.7 and args.curriculum_config.tracker_half_life == 25.0
    assert (args.curriculum_success_reward, args.curriculum_prior_column) == ("correct", "level")


def test_hf_argument_parser_reads_the_command_line_with_help_for_every_curriculum_field(
    tmp_path: Path,
) -> None:
    parser = HfArgumentParser(CurriculumGRPOConfig)
    (args,) = parser.parse_args_into_dataclasses(
        [
            "--output_dir",
            str(tmp_path),
            "--use_cpu",
            "--report_to",
            "none",
            "--per_device_train_batch_size",
            "8",
            "--num_generations",
            "4",
            "--curriculum_policy",
            "uniform",
            "--curriculum",
            '{"candidate_mult": 8}',
            "--curriculum_sync_check",
        ]
    )
    assert args.curriculum_policy == "uniform" and args.curriculum_config.candidate_mult == 8
    assert args.curriculum_sync_check is True
    help_text = parser.format_help()
    for name in (
        "curriculum_policy",
        "curriculum_fluke_damping",
        "curriculum_prior_column",
        "curriculum",
    ):
        assert f"--{name}" in help_text
    with pytest.raises(SystemExit):
        parser.parse_args_into_dataclasses(["--output_dir", str(tmp_path), "--curriculum_policy", "greedy"])


def test_the_config_serialises_like_any_training_arguments(tmp_path: Path) -> None:
    args = grpo_args(tmp_path, curriculum={"tracker_half_life": 20.0})
    d = json.loads(args.to_json_string())
    assert d["curriculum_policy"] == "adaptive" and d["curriculum"] == {"tracker_half_life": 20.0}
    assert "curriculum_config" not in d  # derived, rebuilt by __post_init__


@pytest.mark.parametrize("name", ["multi_gpu", "deepspeed_zero2", "deepspeed_zero3"])
def test_the_shipped_accelerate_configs_load_and_say_how_to_launch(name: str) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    path = Path(__file__).resolve().parents[1] / "configs" / "accelerate" / f"{name}.yaml"
    config = ClusterConfig.from_yaml_file(str(path))
    assert config.distributed_type.value == ("MULTI_GPU" if name == "multi_gpu" else "DEEPSPEED")
    assert f"accelerate launch --config_file configs/accelerate/{name}.yaml" in path.read_text()


# ---- the TRL contract this package relies on ------------------------------------------------------------
def test_the_installed_trl_keeps_what_the_drop_in_hooks_into() -> None:
    from rl.trl.trainer import trl_contract_problems

    assert trl_contract_problems() == (), "a TRL release moved what the drop-in relies on: adapt rl/trl/trainer.py"


def test_a_trl_that_moved_a_hook_gets_grpo_trainers_behaviour_with_one_line_naming_it(tmp_path, monkeypatch) -> None:
    import rl.trl.trainer

    def renamed(self, inputs, prompts, completions, completion_ids):  # a release that renamed a parameter
        raise AssertionError("never called by the contract check")

    rl.trl.trainer.trl_contract_problems.cache_clear()
    monkeypatch.setattr(GRPOTrainer, "_calculate_rewards", renamed)
    try:
        assert rl.trl.trainer.trl_contract_problems() == (
            "GRPOTrainer._calculate_rewards(self, inputs, prompts, completions, completion_ids) changed",
        )
        why = rl.trl.trainer.fallback_reason(grpo_args(tmp_path), sums(), None)
        assert why is not None and "moved what it hooks into" in why and "trl==1.16.0" in why
        trainer = make_trainer(tmp_path)
        assert trainer.curriculum is None and trainer.curriculum_fallback == why
    finally:
        rl.trl.trainer.trl_contract_problems.cache_clear()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"gradient_accumulation_steps": 2},
        {"steps_per_generation": 4, "num_iterations": 2},
        {"generation_batch_size": 16, "per_device_train_batch_size": 4},
    ],
)
def test_the_trainers_sampler_takes_repeat_samplers_settings(tmp_path: Path, overrides: dict) -> None:
    args = grpo_args(tmp_path, **overrides)
    plain = GRPOTrainer(
        model=tiny_model(),
        reward_funcs=[correct],
        train_dataset=sums(),
        args=GRPOConfig(
            **{
                k: v
                for k, v in args.to_dict().items()
                if not k.startswith("curriculum")
                and k in inspect.signature(GRPOConfig).parameters
                and k not in ("generation_batch_size", "steps_per_generation")
            },
            **{k: overrides[k] for k in ("generation_batch_size", "steps_per_generation") if k in overrides},
        ),
        processing_class=TOKENIZER,
    )
    theirs = plain._get_train_sampler()
    ours = CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[correct],
        args=args,
        train_dataset=sums(),
        processing_class=TOKENIZER,
    )._get_train_sampler()
    assert isinstance(theirs, RepeatSampler) and isinstance(ours, CurriculumSampler)
    assert (ours.mini_repeat_count, ours.batch_size, ours.repeat_count) == (
        theirs.mini_repeat_count,
        theirs.batch_size,
        theirs.repeat_count,
    )
    assert len(ours) == len(theirs)


# ---- bad input -----------------------------------------------------------------------------------------
def test_a_dataset_without_a_prompt_column_is_rejected_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rename_column"):
        make_trainer(tmp_path, dataset=sums().rename_column("prompt", "question"))


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("stream", "the train_dataset streams and the band policy keeps lists of the whole pool; set curriculum_policy"),
        ("in_order", "shuffle_dataset=False asks for the dataset's order"),
    ],
)
def test_where_the_curriculum_cannot_choose_the_trainer_is_grpo_trainer_with_one_line_saying_why(
    tmp_path: Path, caplog, setting: str, why: str
) -> None:
    if setting == "stream":
        rows = [{"prompt": f"{i}+1=", "answer": str(i + 1), "level": 1} for i in range(8)]
        stream = IterableDataset.from_generator(lambda: iter(rows))
        trainer = make_trainer(tmp_path, dataset=stream, max_steps=1, curriculum_policy="band")
    else:
        trainer = make_trainer(tmp_path, shuffle_dataset=False)
    lines = [r.getMessage() for r in caplog.records if "without the curriculum" in r.getMessage()]
    assert len(lines) == 1 and re.search(why, lines[0]), lines
    assert trainer.curriculum is None and trainer.curriculum_fallback is not None
    if setting == "in_order":  # TRL's sampler, in the dataset's order
        assert not isinstance(trainer._get_train_sampler(trainer.train_dataset), CurriculumSampler)
    assert trainer.args.ignore_data_skip is False  # TRL's fast-forward on a resume, as given


def test_a_plain_grpo_config_or_none_gives_the_curriculum_at_its_defaults(tmp_path: Path) -> None:
    plain = GRPOConfig(
        output_dir=str(tmp_path), use_cpu=True, report_to=[], per_device_train_batch_size=8, num_generations=4
    )
    trainer = CurriculumGRPOTrainer(
        model=tiny_model(), reward_funcs=[correct], train_dataset=sums(), args=plain, processing_class=TOKENIZER
    )
    assert isinstance(trainer.args, CurriculumGRPOConfig) and trainer.args.curriculum_config == CurriculumConfig()
    assert trainer.args.generation_batch_size == plain.generation_batch_size and plain.ignore_data_skip is False
    assert type(plain) is GRPOConfig  # the caller's args are left as they were
    assert curriculum_args(plain, "org/tiny-model") is not plain


def test_no_args_gives_grpo_trainers_default_output_dir(monkeypatch) -> None:
    made = []
    monkeypatch.setattr("rl.trl.trainer.CurriculumGRPOConfig", lambda output_dir: made.append(output_dir) or output_dir)
    curriculum_args(None, "org/tiny-model")
    assert made == ["tiny-model-GRPO"]  # GRPOTrainer's default name


def test_a_trl_whose_log_prob_kernel_is_missing_is_refused_before_any_model_work(tmp_path: Path, monkeypatch) -> None:
    import trl.trainer.utils

    from rl.trl.trainer import TRLCannotTrainHere

    monkeypatch.setattr(trl.trainer.utils, "_ChunkedLogProbFunction", None)  # TRL 1.15.0 without Triton

    class Untouchable:  # any model work would fail on this with another error
        def __getattr__(self, name):
            raise AssertionError(f"the model was touched ({name}) before the check")

    with pytest.raises(TRLCannotTrainHere, match=r'pip install "trl!=1.15.0" \(e.g. trl==1.16.0 or trl==1.14.2\)'):
        CurriculumGRPOTrainer(
            model=Untouchable(), reward_funcs=[correct], args=toy_args(str(tmp_path), 1), train_dataset=sums()
        )


def test_an_unknown_success_reward_is_rejected_listing_the_reward_functions(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\['lucky', 'correct'\]"):
        make_trainer(tmp_path, curriculum_success_reward="accuracy")


def test_a_missing_prior_column_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="curriculum_prior_column='difficulty'"):
        make_trainer(tmp_path, curriculum_prior_column="difficulty")


def test_the_rows_pass_on_as_given_and_a_string_prior_reaches_the_curriculum(tmp_path: Path) -> None:
    ds = sums().map(lambda row: {"source": f"src{row['level']}"})
    trainer = make_trainer(tmp_path, dataset=ds, curriculum_prior_column="source")
    assert trainer.train_dataset.column_names == ds.column_names  # no bookkeeping column
    assert trainer.curriculum.prior_type == "label" and trainer.curriculum.num_labels == 3


# ---- end to end ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_training_observes_every_generation_step_and_logs_curriculum_and_advantage_metrics(
    tmp_path: Path,
) -> None:
    trainer = make_trainer(tmp_path, max_steps=3, curriculum_sync_check=True, curriculum_advantage_metrics=True)
    chunks = record_chunks(trainer)
    trainer.train()
    assert trainer.curriculum.step == 3 and len(chunks) == 3
    assert trainer.curriculum.stats()["observed_rollouts"] == 3 * 8
    assert logged(trainer, "curriculum/lag") == [1.0, 1.0, 1.0]  # accelerate reads one chunk ahead
    for key in (
        "curriculum/ability",
        "curriculum/band_low",
        "curriculum/band_high",
        "curriculum/excluded_frac",
        "curriculum/retired_frac",
        "curriculum/informative_ratio",
        "advantage/max_abs",
    ):
        assert len(logged(trainer, key)) == 3, key
    for key in ("advantage/lone_success_share_before", "advantage/lone_success_share_after"):  # undefined where
        assert 0 < len(logged(trainer, key)) <= 3, key  # every advantage is 0: not logged then
    # only what is defined is logged: no None (TRL's stand-in for a NaN-only figure) under our keys
    ours = [k for h in trainer.state.log_history for k in h if k.startswith(("curriculum/", "advantage/"))]
    assert all(h[k] is not None for h in trainer.state.log_history for k in h if k in ours)
    assert trainer.curriculum_clock.calls["propose"] >= 3


@pytest.mark.slow
def test_gradient_accumulation_observes_once_per_generation_chunk(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, max_steps=2, gradient_accumulation_steps=2, per_device_train_batch_size=4)
    chunks = record_chunks(trainer)
    trainer.train()
    assert len(chunks) == 2 and all(len(c) == 2 for c in chunks)  # generation batch 8 = 2 prompts x 4
    assert logged(trainer, "curriculum/lag") == [1.0, 1.0]


@pytest.mark.slow
def test_uniform_sampling_without_damping_is_plain_grpo_visiting_each_prompt_once_per_epoch(
    tmp_path: Path,
) -> None:
    ds = sums(8)
    trainer = make_trainer(
        tmp_path,
        dataset=ds,
        max_steps=4,
        curriculum_policy="uniform",
        curriculum_fluke_damping="none",
        curriculum_advantage_metrics=True,
    )
    chunks = record_chunks(trainer)
    trainer.train()
    assert sorted(i for c in chunks for i in c) == list(range(8))
    before, after = (logged(trainer, f"advantage/lone_success_share_{s}") for s in ("before", "after"))
    assert [b for b in before if b is not None] == [a for a in after if a is not None]


@pytest.mark.slow
def test_without_damping_or_advantage_metrics_trls_generation_step_is_left_untouched(tmp_path: Path, monkeypatch) -> None:
    trainer = make_trainer(tmp_path, max_steps=2)
    shaped = []
    monkeypatch.setattr(trainer, "_shape", lambda *a: shaped.append(a))
    trainer.train()
    assert trainer.curriculum.step == 2 and shaped == []
    assert not [k for h in trainer.state.log_history for k in h if k.startswith("advantage/")]
    output = {"advantages": "TRL's, as they are"}  # TRL's step returns its output object itself, unread
    monkeypatch.setattr(GRPOTrainer, "_generate_and_score_completions", lambda self, *a, **k: output)
    trainer._shaping_plan = "a plan that must not be read"
    assert trainer._generate_and_score_completions([{"prompt": "1+1="}]) is output


def scripted(completions: list[str], level: list[int], **kwargs) -> list[float]:
    """A scripted verifier (rows arrive in groups of 4): one success per group on level 3, two elsewhere."""
    pattern = {3: [1.0, 0.0, 0.0, 0.0]}
    return [pattern.get(lv, [1.0, 1.0, 0.0, 0.0])[i % 4] for i, lv in enumerate(level)]


@pytest.mark.slow
def test_posterior_damping_shrinks_lone_successes_on_prompts_the_history_says_are_near_impossible(
    tmp_path: Path,
) -> None:
    ds = sums(16).map(lambda row, i: {"level": 3 if i % 2 else 1}, with_indices=True)
    trainer = make_trainer(
        tmp_path,
        dataset=ds,
        max_steps=1,
        reward_funcs=[scripted],
        curriculum_policy="uniform",
        curriculum_fluke_damping="posterior",
        per_device_train_batch_size=64,  # one chunk: all 16 prompts
    )
    hard = np.arange(1, 16, 2)
    for _ in range(4):  # history: every level-3 prompt failed 32 times
        trainer.curriculum.observe(np.repeat(hard, 8), np.zeros(hard.size * 8))
    trainer.train()
    (before,), (after,) = (logged(trainer, f"advantage/lone_success_share_{s}") for s in ("before", "after"))
    assert after < before
    # the largest |advantage| is now the 2/4 groups' 0.87 (an undamped lone success gets 1.5)
    assert logged(trainer, "advantage/max_abs") == [pytest.approx(0.866, abs=1e-3)]


@pytest.mark.slow
def test_a_step_whose_rewards_are_all_none_is_not_observed_and_training_goes_on(tmp_path: Path, caplog) -> None:
    calls = []

    def sometimes(completions: list[str], **kwargs) -> list[float | None]:  # the first step scores nothing
        calls.append(len(completions))
        return [None] * len(completions) if len(calls) == 1 else [0.0] * len(completions)

    trainer = make_trainer(tmp_path, reward_funcs=[sometimes], max_steps=2)
    trainer.train()
    assert trainer.curriculum_sampler.chunks_observed == 2 and trainer.curriculum.step == 1
    assert any("generation step 1: no completion could be scored" in r.getMessage() for r in caplog.records)
    sampler = trainer.curriculum_sampler
    assert trainer.curriculum.pending.size == (sampler.chunks_proposed - sampler.chunks_observed) * sampler.batch_size, (
        "the unscored chunk's prompts may be proposed again: only the chunks drawn ahead are pending"
    )
    from recipes.callbacks import generated_rollouts

    assert generated_rollouts(trainer) == sum(calls), "a rollout budget counts the unscored step's completions too"


@pytest.mark.slow
def test_dataloader_workers_load_the_rows_the_sampler_in_the_main_process_chooses(tmp_path: Path) -> None:
    seen = []

    def spy(completions: list[str], **kwargs) -> list[float]:
        seen.append(sorted(k for k in kwargs if k not in ("trainer_state", "log_extra", "log_metric")))
        return [0.0] * len(completions)

    trainer = make_trainer(tmp_path, reward_funcs=[spy, correct], dataloader_num_workers=1)
    trainer.train()
    assert trainer.curriculum_sampler.chunks_observed == 3 and trainer.curriculum.step == 3
    assert seen[0] == sorted(["answer", "completion_ids", "level", "prompts"])  # TRL's and the dataset's, none of ours


@pytest.mark.slow
def test_lora_training_through_peft_config(tmp_path: Path) -> None:
    from peft import LoraConfig, PeftModel

    trainer = CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[lucky],
        args=grpo_args(tmp_path, max_steps=2),
        train_dataset=sums(),
        processing_class=TOKENIZER,
        peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    trainer.train()
    assert isinstance(trainer.model, PeftModel) and trainer.curriculum.step == 2
    assert math.isfinite(trainer.state.log_history[-1]["train_loss"])


@pytest.mark.slow
def test_measure_overhead_times_the_curriculums_share_of_a_step() -> None:
    from benches.overhead import measure_overhead

    result = measure_overhead(
        steps=3,
        warmup_steps=1,
        num_prompts=64,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=4,
    )
    assert set(result) >= {"step_s", "curriculum_s", "share", "lag", "propose_s", "observe_s"}
    assert "shaping_s" not in result, "no fluke damping, no advantage metrics: TRL's advantages are not touched"
    assert 0.0 < result["curriculum_s"] < result["step_s"] and result["share"] < 0.5
    assert result["lag"] == 1.0


def test_cold_routine_timings_cover_each_routine_cold_and_warm() -> None:
    from benches.overhead import measure_cold_routines

    result = measure_cold_routines(repeats=2)
    assert set(result["first call"]) == {"cold"} and result["first call"]["cold"] > 0.0
    routines = {k: v for k, v in result.items() if k != "first call"}
    assert len(routines) >= 5 and all(set(t) == {"cold", "warm"} for t in routines.values())
    assert all(0.0 < t["cold"] < 1.0 and 0.0 < t["warm"] < 1.0 for t in routines.values())


def test_a_callback_gets_every_observes_step_report_as_it_is_made(tmp_path: Path) -> None:
    from transformers import TrainerCallback

    class Reports(TrainerCallback):
        def __init__(self) -> None:
            self.seen: list[tuple[int, int, float]] = []

        def on_curriculum_report(self, report, step: int) -> None:
            self.seen.append((step, report.ids.size, float(report.observed.mean())))

    trainer = make_trainer(tmp_path)
    reports = Reports()
    trainer.add_callback(reports)
    trainer.train()
    steps = trainer.curriculum_sampler.chunks_observed
    assert [s for s, _, _ in reports.seen] == list(range(1, steps + 1)) and steps >= 3
    assert all(n == trainer.args.per_device_train_batch_size // trainer.num_generations for _, n, _ in reports.seen)
    assert trainer.curriculum.last_report.ids.size == reports.seen[-1][1]


def test_a_trl_whose_generation_step_moved_the_advantages_falls_back_only_where_they_are_read(tmp_path, monkeypatch) -> None:
    import rl.trl.trainer

    rl.trl.trainer.trl_contract_problems.cache_clear()
    monkeypatch.setitem(rl.trl.trainer.TRL_ADVANTAGES, "snippet", '"advantages": moved_elsewhere')
    try:
        assert rl.trl.trainer.trl_contract_problems(advantages=False) == ()
        assert rl.trl.trainer.fallback_reason(grpo_args(tmp_path), sums(), None) is None, "damping off: not read"
        why = rl.trl.trainer.fallback_reason(grpo_args(tmp_path, curriculum_fluke_damping="cap"), sums(), None)
        assert why is not None and "return the advantages under 'advantages'" in why
    finally:
        rl.trl.trainer.trl_contract_problems.cache_clear()


def test_a_trl_whose_train_loader_no_longer_reads_train_dataset_is_named(monkeypatch) -> None:
    import rl.trl.trainer

    def elsewhere(self):  # a release that builds the loader from another attribute: a window could not swap in
        return self._get_dataloader(dataset=self.train_data, description="Training")

    rl.trl.trainer.trl_contract_problems.cache_clear()
    monkeypatch.setattr(GRPOTrainer, "get_train_dataloader", elsewhere)
    try:
        assert rl.trl.trainer.trl_contract_problems() == (
            "get_train_dataloader no longer seems to read self.train_dataset (a stream's window)",
        )
    finally:
        rl.trl.trainer.trl_contract_problems.cache_clear()
