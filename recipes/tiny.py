"""A tiny offline model: character tokenizer, ~0.5M-parameter Llama, supervised warm-up, cache.

Nothing is downloaded. From random init every GRPO reward is 0, so the model is first taught the task
families of `tasks/` by teacher forcing (loss on the answer and EOS only), with most of the batches
on easy levels and none on level 5, which it never sees. Part of the warm-up answers at levels 2-5 come from
each family's common mistake (`Task.mistake`: the digit sum without its last digit, letters sorted z to a), as
fine-tuning data mixes careful and sloppy solutions: the warm model has learned both procedures and picks
either, so reinforcement learning with the verifier has something to learn quickly, and what it learns on one
level carries to the others (the same procedure on longer inputs). That is what makes GRPO learn at this scale;
see docs/train.md "The testbed". The default build (600 steps x 128 examples, 0.44M parameters; ~46 s on 2 cores),
greedy accuracy on 50 held-out prompts per level, seed 0 (`python -m recipes.tiny`):

    digit_sum    L1 1.00   L2 0.98   L3 0.52   L4 0.28   L5 0.02
    sorting      L1 1.00   L2 0.64   L3 0.38   L4 0.30   L5 0.00

(the numbers move by a few points with the thread count, which changes float summation order).

- `build_char_tokenizer(extra_texts)`: `tokenizers` WordLevel over single characters (printable ASCII,
  newline, tab, plus every character of `extra_texts`), `Split(Regex("."), "isolated")`, `Fuse()`
  decoder, and a post-processor that puts `<bos>` in front, as TRL's `processing_class(text=...)` does
  for a plain-string prompt. Unknown characters become `<unk>`, never an error.
- `build_tiny_model(model_config, tokenizer)`: a `LlamaForCausalLM` from a config dict.
- `warm_up(model, tokenizer, examples, steps)`: AdamW, linear warm-up then cosine decay, tqdm bar.
- `load_or_build_tiny(cache_dir, config)`: the warmed model, cached under
  `<cache>/tiny-<hash of the full config>/` (cache: argument, else $RLVR_CURRICULUM_CACHE, else
  ~/.cache/rlvr-curriculum). Built in a temporary folder and renamed into place, so a crash never
  leaves half a cache; a second call loads it (`info["cached"] is True`).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python -m recipes.tiny           # build (or load) and print the spread
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import WordLevel
from tqdm.auto import tqdm
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from recipes.evaluate import as_example, evaluate_levels, pad
from recipes.run_config import deep_merge
from tasks import Example, get_task

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
BASE_CHARS = tuple(chr(i) for i in range(32, 127)) + ("\n", "\t")
"""Printable ASCII, newline and tab: always in the vocabulary."""

TINY_VERSION = 2
"""Part of the cache key: bump it when the warm-up code changes what it builds."""

DEFAULT_TINY_CONFIG: dict[str, Any] = {
    "model": {
        "hidden_size": 128,
        "intermediate_size": 384,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "max_position_embeddings": 128,
        "tie_word_embeddings": True,
        "attn_implementation": "eager",  # faster than sdpa at these sizes on CPU
    },
    "tasks": {
        "families": ["digit_sum", "sorting"],
        # most batches on easy levels, none on level 5: it stays out of reach (figures: module docstring)
        "level_weights": {"1": 0.4, "2": 0.3, "3": 0.2, "4": 0.1, "5": 0.0},
        # share of each level's examples answered by the family's common mistake (Task.mistake): none on level 1,
        # so it is mastered; half from level 3 on, so reinforcement learning has a procedure to learn to prefer
        "mistakes": {"1": 0.0, "2": 0.3, "3": 0.5, "4": 0.5, "5": 0.5},
    },
    "warmup": {"steps": 600, "batch_size": 128, "lr": 3e-3, "warmup_frac": 0.05, "seed": 0},
    "eval": {"per_level": 50, "max_new_tokens": 12, "batch_size": 128},
}
"""What `load_or_build_tiny` builds; a `config` argument is merged over it key by key."""


# ---- tokenizer ----------------------------------------------------------------------------------------
def extra_chars(texts: Iterable[str]) -> str:
    """The characters of `texts` not in `BASE_CHARS`, sorted: what a tokenizer must add for them."""
    return "".join(sorted(set("".join(texts)) - set(BASE_CHARS)))


def build_char_tokenizer(extra_texts: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """A character-level tokenizer; see the module docstring. Token ids: specials, base chars, extras."""
    chars = list(BASE_CHARS) + list(extra_chars(list(extra_texts)))
    return char_tokenizer(chars, model_max_length=DEFAULT_TINY_CONFIG["model"]["max_position_embeddings"])


def char_tokenizer(
    chars: Sequence[str], prepend_bos: bool = True, model_max_length: int | None = None
) -> PreTrainedTokenizerFast:
    """One token per character of `chars` after the specials (pad, bos, eos, unk: ids 0-3), padding on the left;
    `prepend_bos` starts every encoding with <bos>. The tiny model's tokenizer and the toy's (recipes/toy.py)."""
    vocab = {tok: i for i, tok in enumerate([*SPECIAL_TOKENS, *chars])}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")
    tok.decoder = decoders.Fuse()
    if prepend_bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", vocab["<bos>"])]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        padding_side="left",
        clean_up_tokenization_spaces=False,
        **({"model_max_length": model_max_length} if model_max_length is not None else {}),
    )


# ---- model --------------------------------------------------------------------------------------------
def build_tiny_model(model_config: Mapping[str, Any], tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> LlamaForCausalLM:
    """A freshly initialised `LlamaForCausalLM` (seeded, without touching the global RNG)."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **model_config,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def warmup_examples(
    families: Sequence[str],
    level_weights: Mapping[Any, float],
    n: int,
    seed: int,
    mistakes: Mapping[Any, float] | None = None,
) -> list[Example]:
    """`n` examples, levels in proportion to `level_weights`, the families that have a level in turn, from a 'warmup'
    stream.

    `mistakes` ({level: rate}): that share of a level's examples carries the answer of the family's common
    mistake (`Task.mistake`) instead of the right one, as fine-tuning data mixes careful and sloppy solutions.
    """
    rng = torch.Generator().manual_seed(seed)
    levels = sorted(int(k) for k in level_weights)
    weights = torch.tensor([float(level_weights[k]) for k in sorted(level_weights, key=int)])  # [L]
    drawn = torch.multinomial(weights, n, replacement=True, generator=rng)  # (n,) indices into levels
    tasks = [get_task(f) for f in families]
    seeds = torch.randint(0, 2**62, (n,), generator=rng)  # (n,)
    coins = torch.rand(n, generator=rng).tolist()  # (n,) whether an example carries the mistake
    rates = {int(k): float(v) for k, v in (mistakes or {}).items()}
    out = []
    owners = {lv: [t for t in tasks if lv in t.levels] for lv in levels}  # families sharing levels take turns
    for i in range(n):
        level = levels[int(drawn[i])]
        if owners[level]:
            task = owners[level][i % len(owners[level])]
            ex = task.generate(level, int(seeds[i]))
            if coins[i] < rates.get(level, 0.0):
                ex = dataclasses.replace(ex, answer=task.mistake(ex))
            out.append(ex)
    return out


def _teacher_forcing_batch(tokenizer: PreTrainedTokenizerFast, batch: Sequence[Example]) -> dict:
    """<bos> prompt answer <eos>, right-padded; labels only on `answer <eos>` (-100 elsewhere)."""
    prompts = tokenizer([ex.prompt for ex in batch])["input_ids"]
    answers = tokenizer([ex.answer for ex in batch], add_special_tokens=False)["input_ids"]
    ids = [p + a + [tokenizer.eos_token_id] for p, a in zip(prompts, answers, strict=True)]
    labels = [[-100] * len(p) + a + [tokenizer.eos_token_id] for p, a in zip(prompts, answers, strict=True)]
    return {
        "input_ids": pad(ids, tokenizer.pad_token_id, "right"),  # (B, T)
        "attention_mask": pad([[1] * len(r) for r in ids], 0, "right"),  # (B, T)
        "labels": pad(labels, -100, "right"),  # (B, T)
    }


def warm_up(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    examples: Sequence[Example | Mapping[str, Any]],
    steps: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    warmup_frac: float = 0.05,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Supervised warm-up by teacher forcing; returns {"seconds", "final_loss", "losses"}.

    Batches are consecutive slices of seeded permutations of `examples` (reshuffled each epoch).
    Learning rate: linear warm-up over `warmup_frac` of the steps, then cosine decay to 10%.
    """
    data = [as_example(e) for e in examples]
    if not data:
        raise ValueError("warm_up needs at least one example")
    rng = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    ramp = max(1, int(warmup_frac * steps))

    def lr_factor(step: int) -> float:
        cosine = 0.5 * (1 + math.cos(math.pi * min(step / max(steps, 1), 1.0)))  # 1 -> 0
        return min(1.0, (step + 1) / ramp) * (0.1 + 0.9 * cosine)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    order, cursor, losses = torch.randperm(len(data), generator=rng), 0, []
    model.train()
    start = time.perf_counter()
    for _ in tqdm(range(steps), desc="tiny warm-up", disable=not progress, mininterval=1.0):
        if cursor + batch_size > len(order):
            order, cursor = torch.randperm(len(data), generator=rng), 0
        batch = [data[int(i)] for i in order[cursor : cursor + batch_size]]
        cursor += batch_size
        inputs = {k: v.to(model.device) for k, v in _teacher_forcing_batch(tokenizer, batch).items()}
        loss = model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    tail = losses[-20:] or [float("nan")]
    return {"seconds": time.perf_counter() - start, "final_loss": sum(tail) / len(tail), "losses": losses}


# ---- cache --------------------------------------------------------------------------------------------
def tiny_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`DEFAULT_TINY_CONFIG` with `config` merged over it key by key (a level's weight or mistake rate can be changed
    alone: {"tasks": {"mistakes": {"2": 0.0}}}); lists such as `families` are replaced whole."""
    merged = copy.deepcopy(DEFAULT_TINY_CONFIG)
    for section, values in (config or {}).items():
        if section not in merged:
            raise ValueError(f"unknown tiny config section {section!r}; sections: {sorted(merged)}")
        unknown = set(values) - set(merged[section]) - ({"gym"} if section == "tasks" else set())
        if section != "model" and unknown:
            raise ValueError(f"unknown keys {sorted(unknown)} in tiny config [{section}]; keys: {sorted(merged[section])}")
        merged[section] = deep_merge(merged[section], _str_level_keys(dict(values)))
    for name in ("level_weights", "mistakes"):  # JSON-stable keys
        merged["tasks"][name] = {str(k): float(v) for k, v in (merged["tasks"].get(name) or {}).items()}
    return merged


def _str_level_keys(values: dict[str, Any]) -> dict[str, Any]:
    """Level maps keyed by str, as DEFAULT_TINY_CONFIG is ({2: 0.0} and {"2": 0.0} are the same override)."""
    return {
        k: ({str(lv): w for lv, w in v.items()} if k in ("level_weights", "mistakes") and isinstance(v, dict) else v)
        for k, v in values.items()
    }


def gym_warmup(spec: Any, tiny: Mapping[str, Any]) -> dict[str, Any]:
    """The tiny config for a reasoning-gym pool: warmed up on its tasks' own answers, each task's cells weighted and
    mixed with wrong answers (`GymTask.mistake`: a common wrong procedure, or another item's answer) as the default
    levels are (more on the easy cells, none on the last: it stays out of reach); the spec is part of the config,
    hence of the cache key. `tiny` (the run's) is merged over it."""
    from tasks.gym import gym_families

    families = gym_families(spec)
    weights: dict[str, float] = {}
    mistakes: dict[str, float] = {}
    default_mistakes = DEFAULT_TINY_CONFIG["tasks"]["mistakes"]
    for levels in spec.levels().values():
        n = len(levels)
        for c, lv in enumerate(levels, start=1):
            weights[str(lv)] = (n - c) / max(n * (n - 1) / 2, 1) if n > 1 else 1.0
            mistakes[str(lv)] = default_mistakes.get(str(c), 0.5)
    base = {"tasks": {"families": families, "level_weights": weights, "mistakes": mistakes, "gym": spec.to_json()}}
    return deep_merge(base, dict(tiny))


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """`cache_dir`, else $RLVR_CURRICULUM_CACHE, else ~/.cache/rlvr-curriculum."""
    chosen = cache_dir or os.environ.get("RLVR_CURRICULUM_CACHE") or "~/.cache/rlvr-curriculum"
    return Path(chosen).expanduser()


def cache_key(config: Mapping[str, Any], chars: str) -> str:
    blob = json.dumps({"version": TINY_VERSION, "config": config, "extra_chars": chars}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _build(config: dict[str, Any], chars: str, progress: bool) -> tuple[Any, Any, dict[str, Any]]:
    from tasks import build_eval

    tokenizer = build_char_tokenizer([chars])
    warm, tasks_cfg, ev = config["warmup"], config["tasks"], config["eval"]
    if tasks_cfg.get("gym"):  # register the reasoning-gym families it was built for
        from tasks.gym import GymSpec, gym_families

        gym_families(GymSpec(**tasks_cfg["gym"]))
    model = build_tiny_model(config["model"], tokenizer, seed=warm["seed"])
    examples = warmup_examples(
        tasks_cfg["families"],
        tasks_cfg["level_weights"],
        warm["steps"] * warm["batch_size"],
        warm["seed"],
        tasks_cfg.get("mistakes"),
    )
    report = warm_up(model, tokenizer, examples, warm["steps"], warm["batch_size"], warm["lr"],
                     warm["warmup_frac"], warm["seed"], progress)  # fmt: skip
    accuracy: dict[str, dict[int, float]] = {}
    if ev["per_level"] > 0:
        for family in tasks_cfg["families"]:
            held_out = build_eval([family], None, ev["per_level"], seed=warm["seed"])
            accuracy[family] = evaluate_levels(
                model, tokenizer, held_out, batch_size=ev["batch_size"], max_new_tokens=ev["max_new_tokens"]
            ).accuracy
    info = {
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "warmup_seconds": round(report["seconds"], 2),
        "final_loss": round(report["final_loss"], 4),
        "accuracy": accuracy,
    }
    return model, tokenizer, info


def _load(path: Path) -> tuple[Any, Any, dict[str, Any]]:
    info = json.loads((path / "info.json").read_text())
    attn = info["config"]["model"].get("attn_implementation")  # not kept in config.json
    model = LlamaForCausalLM.from_pretrained(path, **({"attn_implementation": attn} if attn else {}))
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    info["accuracy"] = {f: {int(k): v for k, v in acc.items()} for f, acc in info.get("accuracy", {}).items()}
    return model, tokenizer, info


def load_or_build_tiny(
    cache_dir: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    warmup_steps: int | None = None,
    seed: int | None = None,
    extra_texts: Iterable[str] = (),
    progress: bool = True,
) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, dict[str, Any]]:
    """The warmed-up tiny model and its tokenizer, from the cache or built (and cached) now.

    `config` is merged over `DEFAULT_TINY_CONFIG`; `warmup_steps` and `seed` are shortcuts for
    `config["warmup"]["steps"]` / `["seed"]`. `extra_texts` (e.g. the dataset's prompts and answers)
    add their characters to the vocabulary. `info`: cached, path, key, config, num_parameters,
    warmup_seconds, final_loss, accuracy ({family: {level: greedy held-out accuracy}}).
    """
    merged = tiny_config(config)
    if warmup_steps is not None:
        merged["warmup"]["steps"] = int(warmup_steps)
    if seed is not None:
        merged["warmup"]["seed"] = int(seed)
    chars = extra_chars(list(extra_texts))
    key = cache_key(merged, chars)
    root = cache_root(cache_dir)
    final = root / f"tiny-{key}"
    if (final / "info.json").exists():
        model, tokenizer, info = _load(final)
        return model, tokenizer, {**info, "cached": True, "path": str(final)}

    model, tokenizer, info = _build(merged, chars, progress)
    info = {"key": key, "config": merged, "extra_chars": chars, **info}
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tiny-{key}.", dir=root))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "info.json").write_text(json.dumps(info, indent=1, sort_keys=True))
        os.rename(tmp, final)  # atomic; fails if another process got there first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (final / "info.json").exists():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return model, tokenizer, {**info, "cached": False, "path": str(final)}


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Build (or load) the tiny model and print its spread.")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--steps", type=int, default=None, help="warm-up steps")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    _, _, info = load_or_build_tiny(args.cache_dir, warmup_steps=args.steps, seed=args.seed)
    print(f"{info['path']}  cached={info['cached']}  params={info['num_parameters']}  "
          f"warm-up {info['warmup_seconds']} s  final loss {info['final_loss']}")  # fmt: skip
    for family, acc in info["accuracy"].items():
        print(f"{family:>12}: " + "  ".join(f"L{lvl} {a:.2f}" for lvl, a in acc.items()))


if __name__ == "__main__":
    _main()
