"""The oracle arm's pass rate: the probability of the answer's tokens and then an end, computed, not sampled."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TOKENIZER

from recipes.oracle import exact_pass_rates


class FixedNextToken(torch.nn.Module):
    """A stand-in causal LM whose next-token distribution is the same at every position: `probs` {token id: p}, the
    rest of the mass spread evenly."""

    def __init__(self, vocab: int, probs: dict[int, float]) -> None:
        super().__init__()
        rest = (1.0 - sum(probs.values())) / (vocab - len(probs))
        p = torch.full((vocab,), rest)
        for token, q in probs.items():
            p[token] = q
        self.register_buffer("log_p", p.log())
        self.device = torch.device("cpu")

    def forward(self, input_ids, attention_mask=None):  # noqa: ANN001
        batch, length = input_ids.shape
        return type("Out", (), {"logits": self.log_p.expand(batch, length, -1).clone()})()


def test_the_pass_rate_is_the_answers_probability_times_that_of_an_end():
    seven, eos = TOKENIZER.convert_tokens_to_ids("7"), TOKENIZER.eos_token_id
    model = FixedNextToken(len(TOKENIZER), {seven: 0.5, eos: 0.25})
    rates = exact_pass_rates(model, TOKENIZER, ["3+4=", "7+0=", "1+6="], ["7", "77", "777"], max_new_tokens=3)
    assert rates[0] == pytest.approx(0.5 * 0.25)
    assert rates[1] == pytest.approx(0.5**2 * 0.25)
    assert rates[2] == pytest.approx(0.5**3), "an answer as long as the completion needs no end"
    assert exact_pass_rates(model, TOKENIZER, ["x"], ["7777"], max_new_tokens=3)[0] == 0.0, "it cannot fit"
    assert model.training, "the model's mode is restored"


def test_the_pass_rate_follows_the_sampling_temperature():
    seven, eos = TOKENIZER.convert_tokens_to_ids("7"), TOKENIZER.eos_token_id
    model = FixedNextToken(len(TOKENIZER), {seven: 0.5, eos: 0.25})
    cold = exact_pass_rates(model, TOKENIZER, ["3+4="], ["7"], max_new_tokens=3, temperature=0.5)[0]
    p = torch.softmax(model.log_p / 0.5, dim=0)
    assert cold == pytest.approx(float(p[seven] * p[eos])) and not math.isclose(cold, 0.125)
