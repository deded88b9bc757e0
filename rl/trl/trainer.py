"""CurriculumGRPOTrainer: TRL's GRPOTrainer with the curriculum choosing the prompts. A drop-in:

    from rl import CurriculumGRPOConfig, CurriculumGRPOTrainer
    args = CurriculumGRPOConfig(output_dir="out", curriculum_policy="adaptive", num_generations=8, ...)
    trainer = CurriculumGRPOTrainer(model=model, reward_funcs=[correct], args=args, train_dataset=ds)
    trainer.train()              # or trainer.train(resume_from_checkpoint=True)
    trainer.curriculum           # the live core `Curriculum` (identical on every rank)

A callback with a method `on_curriculum_report(report, step)` gets every observe's `StepReport` (the pass rate
predicted before each group was seen, and observed) as it is made, with the curriculum's step.

This is the only file that touches TRL's private methods; `trl_contract_problems` lists what the installed TRL
moved of what it relies on (checked at every construction: where anything moved, the trainer is GRPOTrainer, with
one line naming it; tests/test_rl_trainer.py fails on such a release):

- `_get_train_sampler`      -> `CurriculumSampler` (rl/trl/sampler.py): RepeatSampler's layout, lazy chunks (the
                               next one drawn right after each observe: the same chunk, drawn warm).
- `_calculate_rewards`      super(), then: the prompt ids of the step's rollouts are the oldest proposed
                               chunk in RepeatSampler's layout (each rank checks its rows hold those prompts),
                               label successes, one `Curriculum.observe_counts_unchecked` per generation step
                               (counts built here from that chunk), the pass rates predicted *before* it
                               (rl/trl/feedback.py); curriculum/*. The rows pass on as the dataset holds them.
- `_generate_and_score_completions`  only with fluke damping or `curriculum_advantage_metrics` (otherwise it
                               passes straight to TRL's): super(), then rescale `output["advantages"]` (this
                               rank's slice of the gathered advantages) with the fluke damping of
                               rl/trl/shaping.py; advantage/*.
- `_save_checkpoint`        super(), then the curriculum state into checkpoint-*/ (rl/trl/checkpoint.py), in the
                               folder `_get_output_dir(trial)` / "checkpoint-<global_step>".
- `train(resume_from_checkpoint=...)` (public) restores it before TRL resumes; `ignore_data_skip` is forced
                               on so TRL's fast-forward never replays the sampler (the sampler replays the
                               chunks proposed before the checkpoint instead), and `_load_rng_state` runs
                               again once the data loader's iterator exists: the resumed run trains on the
                               same chunks, with the same completions, as the uninterrupted one.
- `self._metrics["train"][name].append(value)` for metrics; `self.num_generations`, `self.num_iterations`,
  `self.reward_func_names`, `self.reward_weights`.

Success for the curriculum: the weighted sum of the rewards (or `curriculum_success_reward`'s) >=
`curriculum_success_threshold`; rollouts whose deciding reward is None/NaN are not observed (a generation step
with none scorable: nothing is observed, with a warning, and training goes on as TRL's does).

A streamed train_dataset (an `IterableDataset`) is chosen from through a bounded window of its rows
(`curriculum_stream_window`, rl/trl/stream.py): the data loader reads rows by slot (`get_train_dataloader` builds
GRPOTrainer's loader over the window's map-style view), the prompts trained on leave the window after each observe.

Where the curriculum cannot choose the prompts (no train_dataset, `shuffle_dataset=False`, a stream with the band
or static policy, rows without prompts that an environment writes) the trainer is GRPOTrainer, as given, with one
warning line saying why (`fallback_reason`; `trainer.curriculum` is None). `args` may be a CurriculumGRPOConfig, a
plain GRPOConfig (the curriculum at its defaults) or None (GRPOTrainer's default args). With
`curriculum_policy="uniform"` and `curriculum_fluke_damping="none"` the run is plain GRPO (an epoch-wise shuffle,
advantages untouched).

Every rank holds its own `Curriculum`, fed the same gathered observations in the same order; a cheap
fingerprint of its clock (and any rank's row-check error) is gathered and compared every step, and
`curriculum_sync_check=True` compares the full state hash after every observe (benches/_dist_check.py).
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import GRPOConfig, GRPOTrainer

import rl.trl.checkpoint as ckpt
from curriculum import Curriculum, state_hash
from curriculum.core import CALIBRATION_KEYS
from curriculum.policies.registry import POLICY_CLASSES
from rl.trl.config import CurriculumGRPOConfig
from rl.trl.features import PolicyFeatures, resolve_features, table_features
from rl.trl.feedback import (
    Observation,
    check_ranks_agree,
    check_rows,
    fingerprint,
    gather_checks,
    predicted_before,
    prepare_train_dataset,
    rollout_ids,
    success_labels,
)
from rl.trl.sampler import CurriculumSampler
from rl.trl.shaping import lone_success_share, make_shaper
from rl.trl.stopwatch import Stopwatch
from rl.trl.stream import StreamWindow

logger = logging.getLogger(__name__)


class _ShapingPlan(NamedTuple):
    factor: torch.Tensor | None  # (N,) factor on positive advantages ("posterior" damping), else None
    group_successes: list[int]  # (B,)
    lone_success_groups: float  # share of groups with exactly one success
    group_size: int


# ---- the installed TRL ---------------------------------------------------------------------------------
class TRLCannotTrainHere(RuntimeError):
    """The installed TRL cannot train on this machine; the message names the release to install instead."""

    user_error = True  # the CLI prints it as a one-line error (exit 2), not a traceback


def check_trl() -> None:
    """Raise, naming the fix, where the installed TRL cannot compute log-probabilities on this machine: TRL 1.15.0
    imports its chunked log-prob kernel only where Triton imports (not on a CPU-only machine) and leaves
    `_ChunkedLogProbFunction` as None, so the first training step fails deep inside TRL. 1.14.2 and 1.16.0 work."""
    import trl
    import trl.trainer.utils as trl_utils

    if getattr(trl_utils, "_ChunkedLogProbFunction", "absent") is None:
        raise TRLCannotTrainHere(
            f"TRL {trl.__version__} cannot compute log-probabilities on this machine: its chunked log-prob kernel "
            "did not import (no Triton; TRL 1.15.0 on a CPU-only machine), so its first training step would fail. "
            'Install another TRL release: pip install "trl!=1.15.0" (e.g. trl==1.16.0 or trl==1.14.2)'
        )


TRL_HOOKS = {  # TRL's private methods the drop-in overrides or calls, with the parameters it passes
    "_get_train_sampler": ["self", "dataset"],
    "_calculate_rewards": ["self", "inputs", "prompts", "completions", "completion_ids_list"],
    "_generate_and_score_completions": ["self", "inputs"],
    "_save_checkpoint": ["self", "model", "trial"],
    "_load_rng_state": ["self", "checkpoint"],
    "_get_output_dir": ["self", "trial"],
    "get_train_dataloader": ["self"],  # a streamed pool: built over the window's view, read from self.train_dataset
}
TRL_GENERATION_STEP = {  # what `_generate_and_score_completions` must still do, as its source says it
    "rewards_per_func = self._calculate_rewards(": "compute the rewards through _calculate_rewards (the feedback)",
    "self.accelerator.process_index * len(prompts)": "give each rank a contiguous slice of the batch (row checks)",
}
TRL_ADVANTAGES = {  # what only the advantage shaping and its metrics rely on (curriculum_fluke_damping, ..._metrics)
    "hook": "_generate_and_score_completions",
    "snippet": '"advantages": advantages',
    "why": "return the advantages under 'advantages' (the fluke damping)",
}
TRL_KNOWN_GOOD = "trl==1.16.0 or trl==1.14.2"


@functools.cache
def trl_contract_problems(advantages: bool = True) -> tuple[str, ...]:
    """What the drop-in relies on in TRL's private code that the installed release moved (empty: all in place);
    `advantages`: what the advantage shaping and its metrics need too (the override of
    `_generate_and_score_completions`, used only with fluke damping or curriculum_advantage_metrics)."""
    from trl.trainer.utils import RepeatSampler

    problems = []
    hooks = TRL_HOOKS if advantages else {k: v for k, v in TRL_HOOKS.items() if k != TRL_ADVANTAGES["hook"]}
    for name, expected in hooks.items():
        method = getattr(GRPOTrainer, name, None)
        got = None if method is None else list(inspect.signature(method).parameters)
        if got != expected:
            problems.append(f"GRPOTrainer.{name}" + (" is gone" if got is None else f"({', '.join(got)}) changed"))
    repeat = ["data_source", "mini_repeat_count", "batch_size", "repeat_count", "shuffle", "seed"]
    if list(inspect.signature(RepeatSampler).parameters) != repeat:
        problems.append("RepeatSampler's parameters changed (the sampler reproduces its layout)")
    try:
        source = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    except (OSError, TypeError):  # no source installed: the signatures are all that can be checked
        pass
    else:
        step = {**TRL_GENERATION_STEP, **({TRL_ADVANTAGES["snippet"]: TRL_ADVANTAGES["why"]} if advantages else {})}
        problems += [
            f"_generate_and_score_completions no longer seems to {why}"
            for snippet, why in step.items()
            if snippet not in source
        ]
    try:
        source = inspect.getsource(GRPOTrainer.get_train_dataloader)
    except (OSError, TypeError):
        pass
    else:
        if "self.train_dataset" not in source:
            problems.append("get_train_dataloader no longer seems to read self.train_dataset (a stream's window)")
    return tuple(problems)


# ---- what the trainer is given -----------------------------------------------------------------------
def curriculum_args(args: Any, model: Any) -> CurriculumGRPOConfig:
    """The run's CurriculumGRPOConfig: `args` itself; a plain GRPOConfig with the curriculum at its defaults; or, with
    no args, GRPOTrainer's default (output_dir "<model name>-GRPO")."""
    if args is None:
        name = model if isinstance(model, str) else getattr(model.config, "_name_or_path", "")
        return CurriculumGRPOConfig(f"{name.split('/')[-1]}-GRPO")
    if isinstance(args, CurriculumGRPOConfig):
        return args
    if isinstance(args, GRPOConfig):
        return CurriculumGRPOConfig.from_grpo_config(args)
    raise TypeError(
        f"args must be a CurriculumGRPOConfig or a GRPOConfig, got {type(args).__name__}; build it with "
        "CurriculumGRPOConfig(output_dir=..., ...)"
    )


def fallback_reason(args: CurriculumGRPOConfig, train_dataset: Any, environment_factory: Any) -> str | None:
    """Why the curriculum cannot choose this run's prompts (then the trainer is GRPOTrainer, as given), or None."""
    import datasets

    if train_dataset is None:
        return "no train_dataset to choose prompts from"
    streams = isinstance(train_dataset, datasets.IterableDataset)
    if not streams and not isinstance(train_dataset, datasets.Dataset):
        return f"the train_dataset is a {type(train_dataset).__name__}, not a datasets.Dataset"
    if not args.shuffle_dataset:
        return "shuffle_dataset=False asks for the dataset's order; set shuffle_dataset=True to let it choose"
    if environment_factory is not None and "prompt" not in (train_dataset.column_names or []):
        return "the rows have no 'prompt' column (the environment writes the prompts)"
    if streams and not POLICY_CLASSES[args.curriculum_policy].streamable:
        return (
            f"the train_dataset streams and the {args.curriculum_policy} policy keeps lists of the whole pool; set "
            "curriculum_policy='adaptive' (or 'uniform') to choose from a window of the stream"
        )
    moved = trl_contract_problems(reads_advantages(args))
    if moved:
        import trl

        return f"TRL {trl.__version__} moved what it hooks into ({'; '.join(moved)}); {TRL_KNOWN_GOOD} has them"
    return None


def reads_advantages(args: CurriculumGRPOConfig) -> bool:
    """Whether the drop-in reads (and with damping, rescales) TRL's advantages after `_generate_and_score_completions`:
    only with fluke damping or curriculum_advantage_metrics; otherwise that step is TRL's, untouched."""
    return args.curriculum_fluke_damping != "none" or args.curriculum_advantage_metrics


# ---- the trainer -------------------------------------------------------------------------------------
class CurriculumGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose prompts come from a `Curriculum`; same constructor, `args` a CurriculumGRPOConfig."""

    def __init__(
        self,
        model: Any,
        reward_funcs: Any = None,
        args: CurriculumGRPOConfig | GRPOConfig | None = None,
        train_dataset: Any = None,
        *rest: Any,  # GRPOTrainer's further parameters, positional as in its signature (eval_dataset, ...)
        **kwargs: Any,
    ) -> None:
        args = curriculum_args(args, model)
        check_trl()  # before any model work: a TRL that cannot train here says so now, not at the first step
        self.curriculum: Curriculum | None = None
        self.curriculum_window: StreamWindow | None = None  # a streamed pool's window (rl/trl/stream.py)
        why = self.curriculum_fallback = fallback_reason(args, train_dataset, kwargs.get("environment_factory"))
        if why is not None:  # GRPOTrainer's behaviour, with one line saying why
            logger.warning("CurriculumGRPOTrainer trains as GRPOTrainer does, without the curriculum: %s", why)
            args = copy.copy(args)  # the caller's args stay as they were
            args.ignore_data_skip = args.ignore_data_skip_as_given  # TRL's fast-forward on a resume, as given
            super().__init__(model, reward_funcs, args, train_dataset, *rest, **kwargs)
            return
        args = self._resolve_features(args, train_dataset)
        args, self.curriculum_window = self._stream_window(args, train_dataset)  # None: a map-style pool
        built = time.perf_counter()  # a text or column table: built (and a bad column refused) before the model work
        if self.curriculum_window is None:
            prior = prepare_train_dataset(train_dataset, args.curriculum_prior_column)
            features = table_features(args.curriculum_features, train_dataset)
        else:
            prior, features = self.curriculum_window.prior(), None
        build_s = time.perf_counter() - built
        super().__init__(model, reward_funcs, args, train_dataset, *rest, **kwargs)
        if args.curriculum_success_reward is not None and args.curriculum_success_reward not in self.reward_func_names:
            raise ValueError(
                f"curriculum_success_reward={args.curriculum_success_reward!r} is not one of the reward "
                f"functions {self.reward_func_names}; pass one of these names or None (sum of rewards)"
            )
        seed = args.seed if args.curriculum_seed is None else args.curriculum_seed
        built = time.perf_counter()
        if args.curriculum_features == "policy":  # needs the model: the prompts' hidden states under it
            features = PolicyFeatures(self, train_dataset["prompt"])
        self.curriculum_features = features
        self.curriculum_features_build_s = build_s + time.perf_counter() - built
        window = self.curriculum_window
        self.curriculum = Curriculum(
            len(train_dataset) if window is None else window.size,
            config=args.curriculum_config,
            seed=seed,
            prior=prior,
            features=self.curriculum_features,
        )
        self.curriculum_clock = Stopwatch()
        self.curriculum_sampler = CurriculumSampler(
            self.curriculum,
            mini_repeat_count=self.num_generations,
            batch_size=args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * args.steps_per_generation,
            clock=self.curriculum_clock,
            window=window,
        )
        # each prompt's key (a rollout's row is checked against the prompt the sampler put there) and the pool's
        # identity (a resume onto other prompts is refused); a window: its slots' keys, updated as they refill, and
        # the first window's identity (the resume re-reads the stream and checks every slot)
        if window is None:
            self.curriculum_prompt_keys, self.curriculum_pool = ckpt.pool_keys(train_dataset["prompt"])
        else:
            window.attach(self.curriculum)
            self.curriculum_prompt_keys = window.keys
            self.curriculum_pool = ckpt.pool_keys(row["prompt"] for row in window.rows)[1] | {"stream": True}
        self.curriculum_last_lag = 0
        self._shaper = make_shaper(args.curriculum_fluke_damping, args.curriculum_fluke_cap, args.curriculum_fluke_floor)
        self._needs_prediction = args.curriculum_fluke_damping == "posterior"
        self._reads_advantages = reads_advantages(args)
        self._reward_weights = self.reward_weights.detach().cpu().tolist()  # (F,) TRL's, fixed at construction
        self._shaping_plan: _ShapingPlan | None = None  # this step's, planned at the observe
        self._warn_if_saves_split_chunks(args)
        if args.dataloader_num_workers > 0:  # the sampler runs here; the loader asks it ahead for its workers
            ahead = (args.dataloader_prefetch_factor or 2) * args.dataloader_num_workers
            logger.warning(
                "dataloader_num_workers=%s: worker processes load the rows the curriculum chooses in this process; "
                "they prefetch %s batches, so the curriculum chooses with feedback up to about %s chunks old "
                "(curriculum/lag; 1 without workers)",
                args.dataloader_num_workers,
                ahead,
                -(-ahead // (self.num_iterations * args.steps_per_generation)) + 1,
            )

    @staticmethod
    def _resolve_features(args: CurriculumGRPOConfig, train_dataset: Any) -> CurriculumGRPOConfig:
        """The args with curriculum_features="auto" made what it is for this pool (a copy; the caller's stay)."""
        import datasets

        if args.curriculum_features != "auto":
            return args
        streams = isinstance(train_dataset, datasets.IterableDataset)
        args = copy.copy(args)
        args.curriculum_features = resolve_features("auto", args.curriculum_prior_column, streams)
        if args.curriculum_features == "text":
            logger.info(
                "no difficulty labels (curriculum_prior_column=None): the curriculum predicts prompts never seen from "
                "their text (curriculum_features='auto' is 'text' here; 'none' leaves them out)"
            )
        return args

    @staticmethod
    def _stream_window(args: CurriculumGRPOConfig, train_dataset: Any) -> tuple[CurriculumGRPOConfig, StreamWindow | None]:
        """A streamed train_dataset's window (its first rows read now, before the model work), or None; and the args
        (a copy without features where a stream leaves them out)."""
        import datasets

        if not isinstance(train_dataset, datasets.IterableDataset):
            return args, None
        if args.curriculum_features != "none":
            logger.warning(
                "curriculum_features=%r is left out with a streamed train_dataset (the features of a window's slots "
                "would change as they refill); the curriculum predicts unseen prompts from their label",
                args.curriculum_features,
            )
            args = copy.copy(args)  # the caller's args stay as they were
            args.curriculum_features = "none"
        chunk = args.generation_batch_size // args.num_generations
        if args.curriculum_stream_window < 3 * chunk:
            raise ValueError(
                f"curriculum_stream_window={args.curriculum_stream_window} holds fewer than 3 generation chunks of "
                f"{chunk} prompts (one training, one read ahead, one to choose); set it to at least {3 * chunk}"
            )
        return args, StreamWindow(train_dataset, args.curriculum_stream_window, args.curriculum_prior_column)

    @staticmethod
    def _warn_if_saves_split_chunks(args: CurriculumGRPOConfig) -> None:
        micro_per_chunk = args.steps_per_generation * args.num_iterations
        if args.save_strategy == "steps" and float(args.save_steps).is_integer():
            if (int(args.save_steps) * args.gradient_accumulation_steps) % micro_per_chunk:
                logger.warning(
                    "save_steps=%s falls inside generation chunks (%s micro-steps each): a resumed run skips "
                    "the rest of the chunk in progress. Use a save_steps multiple of %s for an exact resume.",
                    args.save_steps,
                    micro_per_chunk,
                    micro_per_chunk // np.gcd(micro_per_chunk, args.gradient_accumulation_steps),
                )

    # ---- sampler ----------------------------------------------------------------------------------
    def get_train_dataloader(self) -> Any:
        """GRPOTrainer's loader; a streamed pool's is built over the window's map-style view (rows by slot), so the
        sampler chooses its rows as for a map-style pool."""
        if self.curriculum_window is None:
            return super().get_train_dataloader()
        stream, self.train_dataset = self.train_dataset, self.curriculum_window.view
        try:
            return super().get_train_dataloader()
        finally:
            self.train_dataset = stream

    def _get_train_sampler(self, dataset: Any = None) -> Any:
        if self.curriculum is None:
            return super()._get_train_sampler(dataset)
        if dataset is not None and len(dataset) != self.curriculum.num_prompts:
            raise ValueError(f"the train dataset changed size ({len(dataset)} vs {self.curriculum.num_prompts})")
        return self.curriculum_sampler

    # ---- feedback ---------------------------------------------------------------------------------
    def _calculate_rewards(
        self, inputs: list[dict[str, Any]], prompts: list, completions: list, completion_ids_list: list
    ) -> torch.Tensor:
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self.curriculum is not None and self.model.training:
            self._observe(inputs, rewards_per_func)
        return rewards_per_func

    def _observe(self, inputs: list[dict[str, Any]], rewards_per_func: torch.Tensor) -> None:
        args, clock = self.args, self.curriculum_clock
        step = self.curriculum_sampler.chunks_observed + 1  # the generation step being observed, from 1
        with clock.section("gather"):
            processes = self.accelerator.num_processes
            local_fp = fingerprint(self.curriculum, self.curriculum_sampler.lag) if processes > 1 else ""
            ids = rollout_ids(self.curriculum_sampler.oldest_pending(), self.num_generations)  # (N,) global order
            rank = self.accelerator.process_index
            local_error = check_rows([row.get("prompt") for row in inputs], ids, rank, self.curriculum_prompt_keys)
            fingerprints, errors = gather_checks(local_fp, local_error, processes)
        if errors:  # every rank raises, none waits on the others
            raise RuntimeError(errors[0])
        if len(rewards_per_func) != len(ids):
            raise RuntimeError(
                f"TRL scored {len(rewards_per_func)} rollouts of a generation step whose chunk holds {len(ids)} "
                "(accelerator_config.split_batches=True is not supported: leave it False, GRPOTrainer's default)"
            )
        check_ranks_agree(fingerprints, "state (fingerprint before the observe)", step)
        with clock.section("observe"):
            success, valid = success_labels(
                rewards_per_func.detach().cpu(),  # (N, F) rank order
                self.reward_func_names,
                self._reward_weights,
                args.curriculum_success_threshold,
                args.curriculum_success_reward,
            )
            obs = Observation(ids=ids, success=success, valid=valid, group_size=self.num_generations)
            # the groups are the oldest proposed chunk: distinct ids in range, so the counts built from them go to
            # the core unchecked
            if not any(valid):  # every reward None (TRL warned): nothing to learn of this step; train on
                logger.warning(
                    "generation step %s: no completion could be scored (every reward None); the curriculum observes "
                    "nothing of it",
                    step,
                )
                self.curriculum_last_lag = self.curriculum_sampler.mark_observed(obs.group_ids)  # leaves unlearned
                self._log_defined("curriculum", {"unscorable_frac": 1.0, "lag": float(self.curriculum_last_lag)})
                self._refill(obs.group_ids)
                self.curriculum_sampler.propose_ahead()
                return
            group_successes = obs.group_successes()  # (B,)
            report = self.curriculum.observe_counts_unchecked(*obs.sorted_counts(group_successes))
            # then the chunk leaves pending whole (groups with no scored rollout: proposed again later); in this order
            # an id also pending in a later chunk (uniform draws across an epoch's end) keeps that copy
            self.curriculum_last_lag = self.curriculum_sampler.mark_observed(obs.group_ids)
            # (B,) predicted pass rate before this step's evidence (only the posterior damping reads it)
            pre_pass_rate = predicted_before(report, obs.group_ids) if self._needs_prediction else None
            if self._reads_advantages:
                self._shaping_plan = self._plan_shaping(obs, group_successes, pre_pass_rate)
            self._log_curriculum(obs)
        for callback in self.callback_handler.callbacks:  # the step's report, to the callbacks that take it (before
            hook = getattr(callback, "on_curriculum_report", None)  # a window's refill: its ids are the rows observed)
            if hook is not None:
                hook(report, self.curriculum.step)
        with clock.section("observe"):
            self._refill(obs.group_ids)
        self.curriculum_sampler.propose_ahead()  # the next chunk, while the core is warm ("propose" section)
        if args.curriculum_sync_check:
            with clock.section("sync_check"):
                self._check_state_hash(step)

    def _refill(self, group_ids: list[int]) -> None:
        """A streamed pool: the prompts just trained on leave the window; the stream's next ones take their slots. A
        slot still pending in a later chunk (drawn again before this feedback) leaves once that chunk is observed."""
        if self.curriculum_window is not None:
            pending = set(self.curriculum.pending.tolist())
            self.curriculum_window.refill([g for g in group_ids if g not in pending])

    def _check_state_hash(self, step: int) -> None:
        from accelerate.utils import gather_object

        hashes = gather_object([state_hash(self.curriculum.state_dict())])
        check_ranks_agree(hashes, "state hash (after the observe)", step)

    def _log_curriculum(self, obs: Observation) -> None:
        stats = self.curriculum.stats()
        metrics = {
            k: stats[k]
            for k in (
                "ability",
                "ability_sd",
                "band_low",
                "band_high",
                "unseen_frac",
                "excluded_frac",
                "retired_frac",
                "informative_ratio",
                "pred_abs_error",
                "observed_rollouts",
                "feature_share",
                "feature_intercept",
                "feature_slope",
                *CALIBRATION_KEYS,
            )
        }
        scored, solved = sum(obs.valid), sum(obs.success)  # success implies valid
        metrics["lag"] = float(self.curriculum_last_lag)
        metrics["batch_pass_rate"] = solved / scored if scored else float("nan")
        metrics["unscorable_frac"] = 1.0 - scored / len(obs.valid)
        self._log_defined("curriculum", metrics)

    def _log_defined(self, prefix: str, metrics: dict[str, float]) -> None:
        """This step's metrics into TRL's log as `prefix/name`, leaving out the undefined (NaN) ones: TRL would log
        None for a key with nothing but NaN at a logging step."""
        for name, value in metrics.items():
            if not math.isnan(value):
                self._metrics["train"][f"{prefix}/{name}"].append(float(value))

    # ---- advantages -------------------------------------------------------------------------------
    def _plan_shaping(self, obs: Observation, group_successes: list[int], pre_pass_rate: list[float] | None) -> _ShapingPlan:
        """What the shaping needs besides the advantages, from this step's labels (while they are at hand)."""
        factor = self._shaper.plan(obs.success, group_successes, pre_pass_rate, obs.group_size)
        return _ShapingPlan(
            factor=None if factor is None else torch.from_numpy(factor),  # (N,) on positive advantages
            group_successes=group_successes,
            lone_success_groups=group_successes.count(1) / len(group_successes),
            group_size=obs.group_size,
        )

    def _generate_and_score_completions(self, *args: Any, **kwargs: Any) -> Any:
        if self.curriculum is None or not self._reads_advantages:  # TRL's step, untouched
            return super()._generate_and_score_completions(*args, **kwargs)
        output = super()._generate_and_score_completions(*args, **kwargs)
        plan, self._shaping_plan = self._shaping_plan, None
        if plan is not None:
            with self.curriculum_clock.section("shaping"):
                output["advantages"] = self._shape(output["advantages"], plan)
        return output

    def _shape(self, local: torch.Tensor, plan: _ShapingPlan) -> torch.Tensor:
        """Rescale this rank's advantages (N_local,) using the global batch; log advantage/* metrics. In torch, on
        the advantages' device: no host round trip, and torch's code is the warm code at this point."""
        before = self.accelerator.gather(local.detach()) if self.accelerator.num_processes > 1 else local.detach()
        factor = None if plan.factor is None else plan.factor.to(device=before.device, dtype=before.dtype)
        after = self._shaper.apply(before, factor)  # (N,) rank order, as TRL computed them
        peak = after.abs().amax() if after.numel() else after.new_zeros(())
        if plan.lone_success_groups == 0.0:  # no lone success: both shares 0 (NaN when every advantage is 0)
            max_abs = float(peak)  # nothing was damped (a cap only clips): peak > 0 iff any advantage was
            share_before = share_after = 0.0 if max_abs > 0.0 else math.nan
        else:
            shares = lone_success_share(
                torch.stack([before, after]).float(),
                torch.tensor(plan.group_successes, device=before.device),
                plan.group_size,
            )
            share_before, share_after, max_abs = torch.cat([shares, peak.reshape(1).float()]).tolist()  # one sync
        metrics = {
            "lone_success_share_before": share_before,
            "lone_success_share_after": share_after,
            "max_abs": max_abs,
            "lone_success_groups": plan.lone_success_groups,
        }
        self._log_defined("advantage", metrics)  # the shares are undefined (NaN) where every advantage is 0
        if after.numel() == local.numel():  # one process: the whole batch is this rank's
            return after.to(local.dtype)
        start = self.accelerator.process_index * local.numel()
        return after[start : start + local.numel()].to(local.dtype)

    # ---- checkpoints ------------------------------------------------------------------------------
    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        """TRL's save, then the curriculum state, then the completion mark, and only then the rotation of older
        checkpoints (TRL would rotate inside its save, before the mark: a crash there could leave no complete
        checkpoint under save_total_limit=1). A failed write (a full disk) stops training naming the folder; the
        last complete checkpoint is left as it was."""
        if self.curriculum is None:
            return super()._save_checkpoint(model, trial)
        run_dir = self._get_output_dir(trial=trial)
        folder = os.path.join(run_dir, f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
        limit = self.args.save_total_limit
        try:
            if self.args.should_save:  # a folder saved over is incomplete until it is marked again
                Path(folder, ckpt.COMPLETE).unlink(missing_ok=True)
            self.args.save_total_limit = None  # no rotation inside TRL's save; ours follows the mark
            try:
                super()._save_checkpoint(model, trial)
            finally:
                self.args.save_total_limit = limit
            if self.args.should_save:
                ckpt.save_state(folder, self.curriculum, self.curriculum_sampler, extra=self.curriculum_extra_state())
            self.accelerator.wait_for_everyone()  # every rank's files (e.g. rng_state_1.pth) are written
            if self.args.should_save:
                ckpt.mark_complete(folder)  # last: a crash before this leaves a folder resume passes over
                ckpt.rotate(
                    run_dir, limit, protect=[self.state.best_model_checkpoint] if self.state.best_model_checkpoint else []
                )
        except OSError as err:
            last, _ = ckpt.last_complete_checkpoint(run_dir)
            raise ckpt.CheckpointWriteError(
                f"saving {folder} failed: {err.strerror or err} ({type(err).__name__}"
                + (f", errno {err.errno}" if err.errno else "")
                + f"); training stopped. The last complete checkpoint is {last or 'none'}, left as it was: free "
                "space (or fix the folder) and resume from it (resume=true / resume_from_checkpoint=True)"
            ) from err

    def curriculum_extra_state(self) -> dict[str, Any]:
        """What the checkpoint's curriculum_state.json holds besides the state: the step and the pool's identity. A
        subclass adds its own counters (and restores them in `restore_extra_state`)."""
        return {"global_step": self.state.global_step, "pool": self.curriculum_pool}

    def restore_extra_state(self, meta: dict[str, Any]) -> None:
        """Counterpart of `curriculum_extra_state` on a resume (`meta`: the checkpoint's curriculum_state.json)."""

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any) -> Any:
        """Trainer.train, restoring the curriculum and the sampler's cursor first when resuming."""
        if self.curriculum is None:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)
        folder = self._resolve_checkpoint(resume_from_checkpoint)
        if folder is not None:
            self.restore_curriculum(folder)
            # Trainer restores the RNG before building the DataLoader iterator, whose base seed then takes a
            # draw the uninterrupted run took at its start; restore it again once the iterator exists.
            self.curriculum_sampler.on_next_pass = functools.partial(self._load_rng_state, folder)
        # the folder chosen here, not TRL's own pick (resume_from_checkpoint=True: its newest, complete or not)
        return super().train(resume_from_checkpoint=folder, **kwargs)

    def _resolve_checkpoint(self, resume_from_checkpoint: str | bool | None) -> str | None:
        """True -> the newest complete checkpoint-* of output_dir; a path -> that folder, if complete."""
        if resume_from_checkpoint is None or resume_from_checkpoint is False:
            return None
        if resume_from_checkpoint is True:
            last, skipped = ckpt.last_complete_checkpoint(self.args.output_dir)
            for why in skipped:
                logger.warning("not resuming from an incomplete checkpoint: %s", why)
            if last is None:
                raise ValueError(
                    f"no complete checkpoint-* in {self.args.output_dir}"
                    + (f" ({'; '.join(skipped)})" if skipped else "")
                    + ": start a fresh run (resume_from_checkpoint=None) or point it at another output_dir"
                )
            return str(last)
        folder = str(resume_from_checkpoint)
        reason = ckpt.incomplete_reason(folder)
        if reason is not None:
            parent = os.path.dirname(os.path.abspath(folder))
            last, _ = ckpt.last_complete_checkpoint(parent)
            hint = f"resume from {last}" if last is not None else "start a fresh run"
            raise ValueError(f"cannot resume from {folder}: it is not a complete checkpoint ({reason}); {hint}")
        return folder

    def restore_curriculum(self, folder: str) -> None:
        """Load the curriculum state and sampler cursor saved in `folder` (a checkpoint-* directory)."""
        if not ckpt.has_state(folder):
            raise ValueError(
                f"{folder} holds no curriculum state ({ckpt.STATE_JSON}): resuming would start the curriculum "
                "afresh while the model resumes. Resume from a checkpoint written by CurriculumGRPOTrainer."
            )
        meta = ckpt.load_state(folder, self.curriculum, self.curriculum_sampler, pool=self.curriculum_pool)
        self.restore_extra_state(meta)
        logger.info(
            "curriculum restored from %s (step %s, %s pending chunks, hash %s)",
            folder,
            self.curriculum.step,
            len(self.curriculum_sampler.pending),
            meta["state_hash"][:12],
        )
