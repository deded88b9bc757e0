"""The oracle arm of `curriculum ablate`: the adaptive walk told each candidate's true pass rate under the current
policy, so its gain over uniform is the most that any better prediction of pass rates could add.

    curriculum ablate --config configs/ablations/bands.yaml      # arm `oracle: {policy: adaptive, oracle: true}`

The pass rate is computed, not sampled: a completion passes when its first line is the reference answer, and at
the training temperature (plain sampling, no top-k / top-p) the probability of that is, to within the rare ways
around it, the probability of the answer's tokens followed by the end of the completion (end of sequence, or a
new line). One teacher-forced forward pass over the candidates gives it, with no randomness drawn, no rollout
trained on and none counted in the budget. `check_against_sampling` measures how close it comes to a sampled pass
rate (`python -m studies.oracle_check`; the figures are in docs/adaptive.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from curriculum.policies.adaptive import AdaptivePolicy

from .evaluate import pad


@torch.no_grad()
def exact_pass_rates(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    answers: Sequence[str],
    max_new_tokens: int,
    temperature: float = 1.0,
    batch_size: int = 256,
) -> np.ndarray:
    """(U,) probability that a sampled completion of each prompt is `answer` then an end (EOS or a new line);
    an answer longer than `max_new_tokens` never fits (0); one exactly that long needs no end."""
    was_training = model.training
    model.eval()
    newline = tokenizer.convert_tokens_to_ids("\n")
    ends = [tokenizer.eos_token_id] + ([newline] if newline not in (None, tokenizer.unk_token_id) else [])
    out = np.zeros(len(prompts))
    for lo in range(0, len(prompts), batch_size):
        rows, spans = [], []
        for prompt, answer in zip(prompts[lo : lo + batch_size], answers[lo : lo + batch_size], strict=True):
            p_ids = tokenizer(prompt)["input_ids"]
            a_ids = tokenizer(str(answer).strip(), add_special_tokens=False)["input_ids"]
            rows.append(p_ids + a_ids)
            spans.append((len(p_ids), len(a_ids)))
        ids = pad(rows, tokenizer.pad_token_id, "right").to(model.device)  # (B, T)
        mask = pad([[1] * len(r) for r in rows], 0, "right").to(model.device)
        logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float() / temperature, dim=-1)
        for j, (start, length) in enumerate(spans):
            if length == 0 or length > max_new_tokens:
                continue
            steps = torch.arange(start - 1, start + length - 1, device=logp.device)  # positions predicting the answer
            answer_logp = logp[j, steps, ids[j, start : start + length]].sum()
            end = 1.0 if length == max_new_tokens else float(logp[j, start + length - 1, ends].exp().sum())
            out[lo + j] = float(answer_logp.exp()) * end
    model.train(was_training)
    return out


def install_oracle(trainer: Any, max_new_tokens: int, temperature: float) -> None:
    """Hand the trainer's adaptive walk the true pass rates of the trainer's current model, in place of its predictions
    (`AdaptivePolicy.use_pass_rates`)."""
    policy = trainer.curriculum.policy
    if not isinstance(policy, AdaptivePolicy):
        raise ValueError(
            f"the oracle is a pass-rate source for the adaptive policy, not {policy.name!r}; set policy=adaptive"
        )
    dataset = trainer.train_dataset
    prompts, answers = list(dataset["prompt"]), [str(a) for a in dataset["answer"]]

    def oracle(ids: np.ndarray) -> np.ndarray:
        pick = [int(i) for i in ids]
        return exact_pass_rates(
            trainer.model,
            trainer.processing_class,
            [prompts[i] for i in pick],
            [answers[i] for i in pick],
            max_new_tokens,
            temperature,
        )

    policy.use_pass_rates(oracle)


def check_against_sampling(
    model: Any, tokenizer: Any, rows: Sequence[Any], max_new_tokens: int, samples: int = 64, seed: int = 0
) -> dict[str, float]:
    """The exact pass rate against a sampled one (`samples` completions a prompt, verified): mean of each, mean and
    largest absolute difference, and the sampled rate's own standard error (the noise floor of the difference)."""
    from tasks import task_for_row

    from .evaluate import as_example, generate

    examples = [as_example(r) for r in rows]
    exact = exact_pass_rates(model, tokenizer, [e.prompt for e in examples], [e.answer for e in examples], max_new_tokens)
    outs = generate(model, tokenizer, [e.prompt for e in examples], samples, 1.0, max_new_tokens=max_new_tokens, seed=seed)
    sampled = np.array(
        [np.mean([task_for_row(e.family).verify(e, c) for c in o]) for e, o in zip(examples, outs, strict=True)]
    )
    return {
        "prompts": float(len(examples)),
        "exact_mean": float(exact.mean()),
        "sampled_mean": float(sampled.mean()),
        "mean_abs_diff": float(np.abs(exact - sampled).mean()),
        "max_abs_diff": float(np.abs(exact - sampled).max()),
        "sampling_se": float(np.sqrt(sampled * (1 - sampled) / samples).mean()),
    }


OracleFn = Callable[[np.ndarray], np.ndarray]
