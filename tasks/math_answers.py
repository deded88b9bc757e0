"""A TRL reward for GSM8K/MATH-style answers, built on `math_verify`, that cannot hang training.

The final answer is taken from the last `\\boxed{...}` of the completion, else from the text after its
last `####` (GSM8K); the reference `answer` may be a bare answer ("72", "\\frac{1}{2}") or a full
solution in either style. Both go through `math_verify.parse` and `math_verify.verify`, so
`\\boxed{0.5}` matches `\\frac12`. A completion without either marker scores 0.0.

Bounding the cost. Sympy can spend minutes on a short adversarial answer (`\\boxed{9^{9^{9^{9}}}}`),
so every answer is checked under a wall-clock limit (`timeout_s`, default 2 s), and a timeout scores
0.0 and is counted in `stats.timeouts` (and logged through TRL's `log_metric` when given):

- only the last `max_chars` characters of a completion are searched, and answers longer than
  `MAX_ANSWER_CHARS` are rejected before sympy sees them;
- backend "signal": a SIGALRM timer (`setitimer`) around parse + verify. Cheap, but signals only
  reach the main thread, and math_verify's own timeouts are signal-based too (whole seconds), so
  those are switched off and ours is the only timer;
- backend "process": the check runs in a one-process worker pool (spawned once, ~2 s); on timeout the
  worker is killed and a fresh one started on the next call. Works from any thread, and stops even a
  computation stuck in C, which a signal cannot interrupt;
- backend "auto" (default): "signal" in the main thread of a POSIX process, "process" elsewhere.

    from tasks.math_answers import math_reward
    math_reward(prompts=["..."], completions=["... so \\\\boxed{72}"], answer=["#### 72"])  # [1.0]
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from math_verify import parse, verify

from tasks.base import completion_text, reference_text

MAX_ANSWER_CHARS = 300
"""Longer extracted answers score 0.0 without being parsed."""

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")


class _NoTimeoutWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:  # we time out ourselves; see the docstring
        return not record.getMessage().startswith("Timeout is disabled")


for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).addFilter(_NoTimeoutWarning())


class MathTimeout(BaseException):
    """Raised by the SIGALRM handler; a BaseException so math_verify's `except Exception` lets it through."""


def _boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (braces matched) or `\\boxed 5`, or None."""
    starts = [m.end() for m in _BOXED.finditer(text)]
    for start in reversed(starts):
        if start < len(text) and text[start] != "{":
            token = re.match(r"[^\s$]+", text[start:])
            return token.group(0) if token else None
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1 : i].strip()
    return None


def extract_math_answer(text: str) -> str | None:
    """The final answer of a solution: last `\\boxed{...}`, else the line after the last `####`."""
    boxed = _boxed(text)
    if boxed is not None:
        return boxed
    if "####" in text:
        tail = text.rsplit("####", 1)[1].strip()
        return tail.split("\n", 1)[0].strip() or None
    return None


def answers_match(predicted: str, reference: str) -> bool:
    """math_verify's equivalence of two extracted answers, with no time limit: call it bounded."""
    gold = parse(f"\\boxed{{{reference}}}", parsing_timeout=None)
    pred = parse(f"\\boxed{{{predicted}}}", parsing_timeout=None)
    return bool(gold and pred and verify(gold, pred, timeout_seconds=None))


def _with_alarm(seconds: float, fn: Any, *args: Any) -> Any:
    def on_alarm(signum: int, frame: Any) -> None:
        raise MathTimeout

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:  # someone else's timer was running: re-arm what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - (time.monotonic() - start), 1e-3))


@dataclass
class MathStats:
    calls: int = 0
    correct: int = 0
    no_answer: int = 0
    no_reference: int = 0
    """Rows whose reference answer is None, NaN or blank: scored 0.0 whatever the completion."""
    timeouts: int = 0


class MathAnswerVerifier:
    """`verify(completion, reference) -> bool` under a time limit; see the module docstring."""

    def __init__(
        self,
        timeout_s: float = 2.0,
        max_chars: int = 4000,
        backend: Literal["auto", "signal", "process"] = "auto",
    ) -> None:
        if backend not in ("auto", "signal", "process"):
            raise ValueError(f"backend must be 'auto', 'signal' or 'process', not {backend!r}")
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.backend = backend
        self.stats = MathStats()
        self._pool: Any = None  # multiprocessing.pool.Pool, started on first use

    def verify(self, completion: Any, reference: str | None) -> bool:
        self.stats.calls += 1
        reference = reference_text(reference)
        if reference is None:
            self.stats.no_reference += 1
            return False
        predicted = extract_math_answer(completion_text(completion)[-self.max_chars :])
        gold = extract_math_answer(reference) or reference
        if predicted is None or len(predicted) > MAX_ANSWER_CHARS:
            self.stats.no_answer += 1
            return False
        try:
            ok = self._check(predicted, gold)
        except MathTimeout:
            self.stats.timeouts += 1
            return False
        self.stats.correct += ok
        return ok

    def _check(self, predicted: str, gold: str) -> bool:
        use_signal = self.backend == "signal" or (
            self.backend == "auto" and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )
        if use_signal:
            return _with_alarm(self.timeout_s, answers_match, predicted, gold)
        if self._pool is None:
            # spawn, not fork: the parent may hold torch / tokenizer threads
            self._pool = multiprocessing.get_context("spawn").Pool(1)
            self._pool.apply(answers_match, ("1", "1"))  # import math_verify now, outside the limit
        try:
            return self._pool.apply_async(answers_match, (predicted, gold)).get(self.timeout_s)
        except multiprocessing.TimeoutError:
            self.close()  # the worker may be stuck in C: kill it
            raise MathTimeout from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pool": None}


class MathReward:
    """TRL reward: 1.0 if the completion's final answer equals the row's `answer`, else 0.0.

    A callable object (picklable) whose `__name__` is what TRL logs the reward under.
    """

    def __init__(
        self,
        timeout_s: float = 2.0,
        max_chars: int = 4000,
        backend: Literal["auto", "signal", "process"] = "auto",
        name: str = "math_reward",
    ) -> None:
        self.__name__ = name
        self.verifier = MathAnswerVerifier(timeout_s, max_chars, backend)

    def __call__(self, prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
        if "answer" not in kwargs:
            raise ValueError(f"{self.__name__} needs an 'answer' column (got {sorted(kwargs)}); add it to the dataset")
        timeouts = self.verifier.stats.timeouts
        scores = [float(self.verifier.verify(c, a)) for c, a in zip(completions, kwargs["answer"], strict=True)]
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric(f"{self.__name__}/timeouts", float(self.verifier.stats.timeouts - timeouts))
        return scores


math_reward = MathReward()
