"""Every evaluation of a run: held-out accuracy per difficulty level (greedy, or pass@1 sampled at a temperature),
the pool's pass counts (`pass_counts`, `probe_pool`) and the before/after table.

    from recipes.evaluate import evaluate_levels
    report = evaluate_levels(model, tokenizer, held_out, samples=4, temperature=1.0)   # sampled pass@1
    report.accuracy            # {level: mean success over prompts and samples}
    report.half_width          # {level: 95% half-width of that estimate (prompts as the unit)}
    report.by_family           # {family: {level: accuracy}}

`samples=0` decodes greedily (one completion per prompt). `samples=k` draws k completions per prompt at
`temperature` (pure sampling: no top-k/top-p), the pass@1 that RLVR papers report as avg@k, and the
quantity GRPO itself optimises when `temperature` is the training temperature. Sampling uses its own
seeded generator (`torch.random.fork_rng`), so evaluating never moves the training run's random streams
and the same model, prompts and seed always give the same report.

A level's half-width treats prompts as the unit: the standard error of the per-prompt success rates
(each the mean over its k samples), times 1.96. Rows without a difficulty count as level 0; rows of no
known task family are checked by exact match of the completion's first line.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tasks import Example, task_for_row
from tasks.base import extract_answer

if TYPE_CHECKING:
    from .run_config import RunConfig


@dataclass
class LevelReport:
    accuracy: dict[int, float]
    """{level: mean success}, levels ascending."""
    half_width: dict[int, float]
    """{level: 95% half-width of the accuracy} (prompts as the unit)."""
    prompts: dict[int, int]
    """{level: held-out prompts}."""
    by_family: dict[str, dict[int, float]] = field(default_factory=dict)
    per_prompt: dict[int, list[float]] = field(default_factory=dict, repr=False)
    """{level: success rate of each held-out prompt}, in the order the examples were given."""
    mode_share: dict[str, float] = field(default_factory=dict)
    """{family: share of its completions giving its most frequent answer}: near 1 when the model answers the same
    whatever the input (a shortcut); compare with reference_mode_share."""
    reference_mode_share: dict[str, float] = field(default_factory=dict)
    """{family: share of its held-out prompts whose reference is the most frequent reference answer}."""
    mode_share_by_level: dict[str, dict[int, float]] = field(default_factory=dict)
    """{family: {level: share of its completions giving the most frequent answer}}: the shortcut, level by level."""
    chance_by_level: dict[str, dict[int, float]] = field(default_factory=dict)
    """{family: {level: accuracy the same answers would get against the references shuffled across the level's
    prompts}} (sum over answers a of q(a) r(a)): by_family minus this is how much the answers depend on the input
    (0: a guess from a fixed answer distribution)."""

    @property
    def mean(self) -> float:
        """Mean accuracy over levels (each level weighs the same)."""
        return sum(self.accuracy.values()) / len(self.accuracy) if self.accuracy else math.nan

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LevelReport:
        """Inverse of to_json after a JSON round trip (which turns the int level keys into strings)."""
        levels = {key: {int(k): v for k, v in d[key].items()} for key in ("accuracy", "half_width", "prompts", "per_prompt")}

        def by_level(key: str) -> dict[str, dict[int, float]]:
            return {fam: {int(k): v for k, v in acc.items()} for fam, acc in (d.get(key) or {}).items()}

        return cls(
            by_family=by_level("by_family"),
            mode_share_by_level=by_level("mode_share_by_level"),
            chance_by_level=by_level("chance_by_level"),
            mode_share=dict(d.get("mode_share", {})),
            reference_mode_share=dict(d.get("reference_mode_share", {})),
            **levels,
        )


def as_example(row: Example | Mapping[str, Any]) -> Example:
    """An `Example` from itself or a dataset row; rows without difficulty go to level 0."""
    if isinstance(row, Example):
        return row
    difficulty = row.get("difficulty")
    return Example(
        prompt=row["prompt"],
        answer=str(row["answer"]),
        difficulty=0 if difficulty is None else int(difficulty),
        family=row.get("family") or "",
    )


def pad(rows: list[list[int]], value: int, side: str) -> torch.Tensor:
    width = max(len(r) for r in rows)
    fill = [[value] * (width - len(r)) for r in rows]
    return torch.tensor([f + r if side == "left" else r + f for r, f in zip(rows, fill, strict=True)])


@torch.no_grad()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    samples: int = 0,
    temperature: float = 1.0,
    batch_size: int = 256,
    max_new_tokens: int = 12,
    seed: int = 0,
) -> list[list[str]]:
    """Completions per prompt, in the order given: one greedy (`samples=0`) or `samples` sampled ones."""
    was_training = model.training
    model.eval()
    encoded = tokenizer(list(prompts))["input_ids"]
    by_length = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # less padding per batch
    out: list[list[str]] = [[] for _ in encoded]
    sampling = samples > 0
    with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(by_length), batch_size):
            idx = by_length[start : start + batch_size]
            rows = [encoded[i] for i in idx]
            input_ids = pad(rows, tokenizer.pad_token_id, "left").to(model.device)  # (B, T)
            mask = pad([[1] * len(r) for r in rows], 0, "left").to(model.device)  # (B, T)
            repeat = samples if sampling else 1
            generated = model.generate(
                input_ids=input_ids.repeat_interleave(repeat, 0),
                attention_mask=mask.repeat_interleave(repeat, 0),
                do_sample=sampling,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                **({"temperature": temperature, "top_k": 0, "top_p": 1.0} if sampling else {}),
            )  # (B * repeat, T + new)
            texts = tokenizer.batch_decode(generated[:, input_ids.shape[1] :], skip_special_tokens=True)
            for j, i in enumerate(idx):
                out[i] = texts[j * repeat : (j + 1) * repeat]
    model.train(was_training)
    return out


def evaluate_levels(
    model: Any,
    tokenizer: Any,
    examples: Iterable[Example | Mapping[str, Any]],
    samples: int = 0,
    temperature: float = 1.0,
    verify: Callable[[Example, str], bool] | None = None,
    batch_size: int = 256,
    max_new_tokens: int = 12,
    seed: int = 0,
) -> LevelReport:
    """Accuracy per level (and per family and level); see the module docstring."""
    rows = [as_example(e) for e in examples]
    check = verify or (lambda ex, c: task_for_row(ex.family).verify(ex, c))
    completions = generate(model, tokenizer, [r.prompt for r in rows], samples, temperature, batch_size,
                           max_new_tokens, seed)  # fmt: skip
    per_prompt: dict[int, list[float]] = defaultdict(list)
    per_family: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    level_answers: dict[tuple[str, int], Counter] = defaultdict(Counter)
    level_references: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for ex, outs in zip(rows, completions, strict=True):
        rate = sum(bool(check(ex, c)) for c in outs) / len(outs)
        per_prompt[ex.difficulty].append(rate)
        per_family[ex.family][ex.difficulty].append(rate)
        level_answers[ex.family, ex.difficulty].update(extract_answer(c) for c in outs)
        level_references[ex.family, ex.difficulty][str(ex.answer).strip()] += 1
    accuracy, half, count = {}, {}, {}
    for level in sorted(per_prompt):
        v = torch.tensor(per_prompt[level], dtype=torch.float64)
        accuracy[level] = float(v.mean())
        half[level] = 1.96 * float(v.std()) / math.sqrt(v.numel()) if v.numel() > 1 else math.nan
        count[level] = int(v.numel())
    by_family = {f: {lv: sum(v) / len(v) for lv, v in sorted(d.items())} for f, d in sorted(per_family.items())}
    return LevelReport(
        accuracy,
        half,
        count,
        by_family,
        {lv: list(v) for lv, v in sorted(per_prompt.items())},
        **_shortcut_measures(level_answers, level_references),
    )


def _mode_share(c: Counter) -> float:
    """Share of the counted answers that are the most frequent one."""
    return c.most_common(1)[0][1] / sum(c.values())


def _chance(q: Counter, r: Counter) -> float:
    """Accuracy of answers drawn as `q` against references drawn as `r`, independently."""
    return sum(q[a] * r[a] for a in r) / (sum(q.values()) * sum(r.values()))


def _shortcut_measures(
    level_answers: Mapping[tuple[str, int], Counter], level_references: Mapping[tuple[str, int], Counter]
) -> dict[str, dict]:
    """LevelReport's mode_share, reference_mode_share, mode_share_by_level and chance_by_level from the answers and
    references counted per (family, level); a family's counts are the sums of its levels'."""
    answers: dict[str, Counter] = defaultdict(Counter)
    references: dict[str, Counter] = defaultdict(Counter)
    mode_by_level: dict[str, dict[int, float]] = defaultdict(dict)
    chance_by_level: dict[str, dict[int, float]] = defaultdict(dict)
    for (fam, lv), q in sorted(level_answers.items()):
        answers[fam].update(q)
        references[fam].update(level_references[fam, lv])
        mode_by_level[fam][lv] = _mode_share(q)
        chance_by_level[fam][lv] = _chance(q, level_references[fam, lv])
    return {
        "mode_share": {f: _mode_share(c) for f, c in sorted(answers.items())},
        "reference_mode_share": {f: _mode_share(c) for f, c in sorted(references.items())},
        "mode_share_by_level": dict(mode_by_level),
        "chance_by_level": dict(chance_by_level),
    }


def change_half_width(before: LevelReport, after: LevelReport, level: int) -> float:
    """95% half-width of `after - before` at `level`, paired prompt by prompt (the same held-out prompts)."""
    a, b = before.per_prompt.get(level, []), after.per_prompt.get(level, [])
    if len(a) != len(b) or len(a) < 2:
        return math.nan
    d = torch.tensor(b, dtype=torch.float64) - torch.tensor(a, dtype=torch.float64)
    return 1.96 * float(d.std()) / math.sqrt(d.numel())


# ---- a run's evaluations: the held-out set, the pool's pass counts, the table -------------------------------
def evaluate_run(model: Any, tokenizer: Any, examples: Any, cfg: RunConfig) -> LevelReport:
    """Held-out accuracy per level as the run config asks: greedy, or sampled pass@1 (`eval_samples`)."""
    return evaluate_levels(
        model,
        tokenizer,
        examples,
        samples=cfg.eval_samples,
        temperature=eval_temperature(cfg),
        max_new_tokens=cfg.max_completion_length,
        seed=cfg.seed,
    )


def eval_temperature(cfg: RunConfig) -> float:
    return cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature


def metric_name(cfg: RunConfig) -> str:
    if cfg.eval_samples <= 0:
        return "greedy accuracy"
    return f"pass@1 (mean of {cfg.eval_samples} samples at temperature {eval_temperature(cfg):g})"


def pass_counts(model: Any, tokenizer: Any, rows: list[Example], cfg: RunConfig, samples: int, seed: int) -> np.ndarray:
    """(N,) successes of `samples` completions per example at the training temperature."""
    outs = generate(
        model,
        tokenizer,
        [r.prompt for r in rows],
        samples=samples,
        temperature=cfg.temperature,
        max_new_tokens=cfg.max_completion_length,
        seed=seed,
    )
    return np.array([sum(task_for_row(r.family).verify(r, c) for c in o) for r, o in zip(rows, outs, strict=True)])


def probe_pool(model: Any, tokenizer: Any, train_ds: Any, cfg: RunConfig, samples: int = 4) -> dict[str, Any]:
    """Shares of the training pool the warm model solves (greedy right) and cannot reach (greedy wrong and no
    success in `samples` draws at the training temperature); per family and level (`by_level`), its pass rate and
    the share of its groups (num_generations draws at the training temperature) holding exactly one success."""
    rows = [as_example(r) for r in train_ds]
    greedy = generate(model, tokenizer, [r.prompt for r in rows], max_new_tokens=cfg.max_completion_length, seed=cfg.seed)
    right = np.array([task_for_row(ex.family).verify(ex, g[0]) for ex, g in zip(rows, greedy, strict=True)], bool)
    never = pass_counts(model, tokenizer, rows, cfg, samples, cfg.seed) == 0
    n = max(len(rows), 1)
    groups = pass_counts(model, tokenizer, rows, cfg, cfg.num_generations, cfg.seed + 1)  # (N,) successes of G
    keys = np.array([f"{r.family}/{r.difficulty}" for r in rows])
    by_level: dict[str, dict[str, dict[str, float]]] = {}
    for key in sorted(set(keys.tolist())):
        family, level, here = *key.rsplit("/", 1), groups[keys == key]
        by_level.setdefault(family, {})[level] = {
            "prompts": int(here.size),
            "pass_rate": float(here.mean()) / cfg.num_generations,
            "lone_share": float((here == 1).mean()),
        }
    return {
        "solved": float(right.sum()) / n,
        "beyond": float((~right & never).sum()) / n,
        "prompts": len(rows),
        "beyond_samples": samples,
        "lone_share": float((groups == 1).mean()) if len(rows) else math.nan,
        "by_level": by_level,
    }


def eval_table(
    before: LevelReport, after: LevelReport, metric: str = "accuracy", names: Mapping[int, str] | None = None
) -> str:
    """Before -> after per level, each with its 95% interval (held-out prompts as the unit; the change paired
    prompt by prompt), and the mean. `names`: a label per level (a gym pool's "task cell")."""
    lines = [
        f"Held-out {metric} per level, ± 95% interval of each estimate:",
        "",
        "| level | prompts | before | after | change |",
        "|---|---|---|---|---|",
    ]
    for k in sorted(before.accuracy, key=lambda x: (str(type(x)), x)):
        a, b = before.accuracy[k], after.accuracy.get(k, float("nan"))
        ha, hb = before.half_width.get(k, float("nan")), after.half_width.get(k, float("nan"))
        hc = change_half_width(before, after, k)
        label = f"{k} {names[k]}" if names and k in names else str(k)
        lines.append(
            f"| {label} | {before.prompts.get(k, 0)} | {a:.3f} ± {ha:.3f} | {b:.3f} ± {hb:.3f} | {b - a:+.3f} ± {hc:.3f} |"
        )
    lines.append(
        f"| mean | {sum(before.prompts.values())} | {before.mean:.3f} | {after.mean:.3f} | {after.mean - before.mean:+.3f} |"
    )
    return "\n".join(lines)
