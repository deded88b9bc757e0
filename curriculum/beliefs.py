"""The vocabulary the ability model (ability.py) and the policies (policies/) share, numpy only: pass rates from
logits, and the tables the model hands a policy (`AbilityUpdate` after an observe, `UnseenTable` for prompts never
observed)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable (np.logaddexp is ~20x slower); -softplus(-x) is log sigmoid(x)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def probit(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pass rate of a logit belief N(m, v), integrated with the probit approximation sigmoid(m / sqrt(1 + pi v / 8))."""
    return sigmoid(m / np.sqrt(1.0 + (math.pi / 8.0) * v))


class UnseenTable(NamedTuple):
    """Per label (L,) each: a never-observed prompt's predicted pass rate, the chance its group is informative, and
    the share of the label's population predicted beyond reach (below exclude_below)."""

    pass_rate: np.ndarray
    informativeness: np.ndarray
    beyond_share: np.ndarray


class AbilityUpdate(NamedTuple):
    """What `AbilityModel.update` learned about the prompts it absorbed, each (U,) in the order given."""

    before: np.ndarray  # pass rate predicted before this step's evidence
    after: np.ndarray  # pass rate predicted now
    low: np.ndarray  # posterior probability that the pass rate now is below exclude_below (0: no verdict possible)
    high: np.ndarray  # posterior probability that it is above retire_above
