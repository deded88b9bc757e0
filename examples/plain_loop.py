"""GRPO with a hand-written PyTorch loop (no TRL trainer), the curriculum choosing every step's prompts.

The pool, the model and the held-out set are `curriculum train`'s (configs/default.yaml): digit sums and letter
sorting at levels 1-5, the tiny character-level Llama warmed up offline and cached (recipes/tiny.py), greedy
held-out accuracy per level before and after. What the curriculum asks of a loop is four calls:

    driver = CurriculumDriver(Curriculum(N, CurriculumConfig(policy="adaptive"), seed=seed, prior=labels), group_size=G)
    for step in range(steps):
        ids = driver.propose(P)                 # P distinct prompt ids (rows of the pool)
        ...                                     # G completions each at temperature 1, scored by the task's verifier
        driver.feedback(ids, rewards)           # rewards (P * G,), grouped by prompt in ids' order
        ...                                     # the GRPO update
    torch.save(driver.state_dict(), out)        # the curriculum's whole state (driver.load_state_dict reads it)

The update is the plainest GRPO: advantage = (reward - group mean) / (group std + 1e-4), loss = -mean over the
completion tokens of advantage * log-prob, one AdamW step. One update per batch of fresh samples is on-policy, so it
needs no probability ratio, no clipping and no KL term.

    HF_HUB_OFFLINE=1 python examples/plain_loop.py                    # ~30 s on 2 CPU cores once the model is cached
    HF_HUB_OFFLINE=1 python examples/plain_loop.py --steps 50 --out runs/plain_loop/driver.pt

It prints the held-out greedy accuracy per level before -> after (0.515 -> 0.741 on average with the defaults, seed 0)
and saves the driver's state, numpy arrays in a dict: `torch.load(out, weights_only=False)` reads it back.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curriculum import Curriculum, CurriculumConfig
from curriculum.driver import CurriculumDriver
from recipes.build import build_data, build_model
from recipes.evaluate import LevelReport, as_example, eval_table, evaluate_run
from recipes.run_config import load_run_config
from recipes.train import quiet_libraries
from tasks import Example, task_for_row


@dataclass
class LoopResult:
    before: LevelReport
    """Greedy held-out accuracy of the warm model, per level."""
    after: LevelReport
    """The same after training."""
    driver: CurriculumDriver
    labels: np.ndarray
    """(N,) the pool's levels, the curriculum's prior: a fresh driver that loads the saved state needs the same."""
    proposed: list[np.ndarray]
    """[steps] the (P,) prompt ids each step trained on."""
    mean_reward: list[float]
    """[steps] the mean reward of each step's P * G completions."""
    seconds: float


# ---- one step's pieces -----------------------------------------------------------------------------------------
@torch.no_grad()
def sample(model: Any, tokenizer: Any, prompts: list[str], group_size: int, max_new_tokens: int, seed: int) -> dict:
    """`group_size` completions per prompt at temperature 1, grouped by prompt (rows p*G .. p*G + G-1: prompt p)."""
    enc = tokenizer(prompts, padding=True, return_tensors="pt")  # left-padded, (P, T)
    with torch.random.fork_rng(devices=[]):  # the step's own seed: the global RNG is not moved
        torch.manual_seed(seed)
        seqs = model.generate(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=max_new_tokens,
            num_return_sequences=group_size,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )  # (P*G, T+C)
    completion = seqs[:, enc["input_ids"].shape[1] :]  # (P*G, C)
    is_eos = completion == tokenizer.eos_token_id
    completion_mask = (is_eos.cumsum(1) - is_eos.long()) == 0  # (P*G, C) the tokens up to and including the first <eos>
    prompt_mask = enc["attention_mask"].repeat_interleave(group_size, 0)  # (P*G, T)
    return {
        "seqs": seqs,
        "attention_mask": torch.cat([prompt_mask, completion_mask.long()], 1),  # (P*G, T+C)
        "completion_mask": completion_mask,
        "texts": tokenizer.batch_decode(completion, skip_special_tokens=True),  # [P*G]
    }


def verify(examples: list[Example], texts: list[str], group_size: int) -> torch.Tensor:
    """(P*G,) 1.0 where the task's verifier accepts the completion, else 0.0."""
    rows = [ex for ex in examples for _ in range(group_size)]
    return torch.tensor([float(task_for_row(ex.family).verify(ex, t)) for ex, t in zip(rows, texts, strict=True)])


def group_advantages(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """(P*G,) rewards -> (P*G,) advantages: (reward - group mean) / (group std + 1e-4)."""
    r = rewards.view(-1, group_size)  # (P, G)
    return ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1)


def grpo_update(model: Any, optimizer: torch.optim.Optimizer, batch: dict, advantages: torch.Tensor) -> float:
    """One AdamW step on loss = -mean over completion tokens of advantage * log-prob; returns the loss."""
    seqs, mask = batch["seqs"], batch["completion_mask"].float()  # (B, T+C), (B, C)
    positions = (batch["attention_mask"].cumsum(1) - 1).clamp(min=0)  # as generate numbered them (left padding)
    logits = model(input_ids=seqs, attention_mask=batch["attention_mask"], position_ids=positions).logits
    c = mask.shape[1]
    logp = torch.log_softmax(logits[:, -c - 1 : -1].float(), -1)  # (B, C, V): position t predicts token t+1
    token_logp = logp.gather(-1, seqs[:, -c:, None]).squeeze(-1)  # (B, C)
    loss = -(advantages[:, None] * token_logp * mask).sum() / mask.sum()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


# ---- the loop --------------------------------------------------------------------------------------------------
def load(seed: int, sizes: dict[str, int | None]) -> tuple[Any, list[Example], Any, Any, Any]:
    """`curriculum train`'s run config (configs/default.yaml, `sizes` where not None), training pool (prompt, answer,
    difficulty 1-5, family), held-out set and warm tiny model: (cfg, pool examples, held-out set, model, tokenizer)."""
    cfg = load_run_config(None, [f"seed={seed}"] + [f"{k}={v}" for k, v in sizes.items() if v is not None])
    pool, held_out = build_data(cfg)
    model, tokenizer, _ = build_model(cfg, list(pool["prompt"]) + list(pool["answer"]))
    return cfg, [as_example(row) for row in pool], held_out, model, tokenizer


def run(
    steps: int = 225,
    prompts_per_step: int = 8,
    group_size: int = 8,
    lr: float = 5e-5,
    seed: int = 0,
    out: str | Path | None = None,
    per_level: int | None = None,
    eval_per_level: int | None = None,
    warmup_steps: int | None = None,
) -> LoopResult:
    """Train for `steps` steps of `prompts_per_step` prompts x `group_size` completions, print the held-out accuracy
    before -> after, save the driver's state to `out` (if given). `per_level`, `eval_per_level`: training and held-out
    prompts per family and level; `warmup_steps`: the tiny model's warm-up; None: configs/default.yaml's (300, 150,
    600)."""
    sizes = {"per_level": per_level, "eval_per_level": eval_per_level, "tiny_warmup_steps": warmup_steps}
    cfg, examples, held_out, model, tokenizer = load(seed, sizes)
    before = evaluate_run(model, tokenizer, held_out, cfg)  # greedy accuracy per level

    labels = np.asarray([ex.difficulty for ex in examples])  # (N,) the levels: the curriculum's prior
    curriculum = Curriculum(len(examples), CurriculumConfig(policy="adaptive"), seed=seed, prior=labels)
    driver = CurriculumDriver(curriculum, group_size=group_size)  # 1. the curriculum, for any loop
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    proposed, mean_reward, start = [], [], time.perf_counter()
    for step in range(steps):
        ids = driver.propose(prompts_per_step)  # 2. (P,) distinct prompt ids
        chosen = [examples[i] for i in ids]
        batch = sample(model, tokenizer, [ex.prompt for ex in chosen], group_size, cfg.max_completion_length,
                       seed=seed * 1_000_003 + step)  # fmt: skip
        rewards = verify(chosen, batch["texts"], group_size)  # (P*G,) 1.0 correct, 0.0 otherwise
        driver.feedback(ids, rewards.numpy())  # 3. what the curriculum learns from
        loss = grpo_update(model, optimizer, batch, group_advantages(rewards, group_size))
        proposed.append(ids)
        mean_reward.append(float(rewards.mean()))
        if (step + 1) % max(1, steps // 10) == 0:
            print(f"step {step + 1:>4}/{steps}  reward {np.mean(mean_reward[-10:]):.2f}  loss {loss:+.3f}  "
                  f"ability {driver.metrics()['curriculum/ability']:+.2f}", flush=True)  # fmt: skip
    seconds = time.perf_counter() - start

    after = evaluate_run(model, tokenizer, held_out, cfg)
    print("\n" + eval_table(before, after, "greedy accuracy"))
    print(f"\nheld-out greedy accuracy {before.mean:.3f} -> {after.mean:.3f}; {steps} steps in {seconds:.0f} s", flush=True)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        torch.save(driver.state_dict(), out)  # 4. the curriculum's whole state
        print(f"curriculum state: {out}")
    return LoopResult(before, after, driver, labels, proposed, mean_reward, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=225, help="GRPO steps")
    parser.add_argument("--prompts-per-step", type=int, default=8, help="prompts the curriculum proposes a step")
    parser.add_argument("--group-size", type=int, default=8, help="completions per prompt (G)")
    parser.add_argument("--lr", type=float, default=5e-5, help="AdamW learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seeds the pool, the curriculum and the sampling")
    parser.add_argument("--out", default="runs/plain_loop/driver.pt", help="where the driver's state is saved")
    parser.add_argument("--per-level", type=int, default=None, help="training prompts per family and level (300)")
    parser.add_argument("--eval-per-level", type=int, default=None, help="held-out prompts per family and level (150)")
    parser.add_argument("--warmup-steps", type=int, default=None, help="the tiny model's warm-up (default 600)")
    args = parser.parse_args(argv)
    quiet_libraries()  # no progress bars of model loading: the step lines and the table are what a reader reads
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)  # a 0.44M-parameter model: one thread is faster than several contending
    run(**vars(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
