"""The policy layer: a policy sees a read-only view, and a new one is a module plus its line in the registry.

`NearestTargetPolicy` below is such a module, whole: registering it (`POLICY_CLASSES[name] = cls`, here through
monkeypatch) is all `CurriculumConfig(policy=...)` and `Curriculum` need."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.config import POLICIES, SETTINGS
from curriculum.policies import POLICY_CLASSES, AdaptivePolicy, BasePolicy, PolicyView, SharedSettings
from tests.test_layout import _protocol_names, policy_violations


class NearestTargetPolicy(BasePolicy):
    """Of candidate_mult * k prompts drawn at random, the k predicted nearest the target pass rate."""

    name = "nearest_target"

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        size = min(view.num_prompts, view.config.candidate_mult * k)
        cand = rng.choice(view.num_prompts, size=size, replace=False)
        return cand[np.argsort(np.abs(view.predict(cand) - view.config.target), kind="stable")[:k]]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(POLICY_CLASSES, NearestTargetPolicy.name, NearestTargetPolicy)  # its registration line


def run(cur: Curriculum, p_true: np.ndarray, steps: int, rng: np.random.Generator) -> list[np.ndarray]:
    draws = []
    for _ in range(steps):
        ids = cur.propose(8)
        draws.append(ids)
        cur.observe(np.repeat(ids, 4), (rng.random(ids.size * 4) < np.repeat(p_true[ids], 4)).astype(float))
    return draws


def test_a_registered_policy_runs_saves_and_resumes_like_the_built_in_ones(registered: None) -> None:
    n = 200
    p_true = np.linspace(0.0, 1.0, n)
    cur = Curriculum(n, CurriculumConfig(policy="nearest_target"), seed=3, prior=np.arange(n) % 4)
    draws = run(cur, p_true, 12, np.random.default_rng(0))
    assert all(np.unique(d).size == 8 for d in draws), "k distinct ids a call"
    assert cur.stats()["observed_rollouts"] == 12 * 8 * 4
    twin = Curriculum(n, CurriculumConfig(policy="nearest_target"), seed=3, prior=np.arange(n) % 4)
    twin.load_state_dict(cur.state_dict())
    assert state_hash(twin.state_dict()) == state_hash(cur.state_dict())
    np.testing.assert_array_equal(twin.propose(8), cur.propose(8))


def test_the_example_policy_passes_the_layout_check_and_an_unregistered_name_is_refused() -> None:
    source = inspect.getsource(NearestTargetPolicy)
    assert policy_violations(source, _protocol_names(PolicyView), _protocol_names(SharedSettings)) == []
    with pytest.raises(ValueError, match="policy='nearest_target': choose one of uniform, static, adaptive, band"):
        CurriculumConfig(policy="nearest_target")


def test_the_names_and_the_settings_come_from_the_registry() -> None:
    assert POLICIES == tuple(POLICY_CLASSES) == ("uniform", "static", "adaptive", "band")
    assert SETTINGS == {name: cls.Settings for name, cls in POLICY_CLASSES.items() if cls.Settings is not None}
    config = CurriculumConfig()
    for name, kind in SETTINGS.items():
        assert isinstance(getattr(config, name), kind), f"CurriculumConfig.{name} holds the {name} policy's settings"


@pytest.mark.parametrize("policy", POLICIES)
def test_the_view_gives_a_policy_read_only_arrays_that_follow_the_core(policy: str) -> None:
    cur = Curriculum(50, CurriculumConfig(policy=policy), seed=0, prior=np.arange(50) % 2)
    view = cur.view
    for name in ("attempts", "last_step", "status", "pending", "labels", "prior_groups"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(view, name)[:1] = 1
    ids = cur.propose(5)
    assert set(view.pending.tolist()) == set(ids.tolist())
    cur.observe(np.repeat(ids, 2), np.ones(10))
    assert (view.attempts[ids] == 2).all() and view.step == 1 and view.seen_prompts() == 5


def test_a_pass_rate_source_goes_to_the_adaptive_policy_not_the_core() -> None:
    cur = Curriculum(30, CurriculumConfig(policy="adaptive"), seed=0)
    assert not hasattr(cur, "oracle")
    assert isinstance(cur.policy, AdaptivePolicy)
    cur.policy.use_pass_rates(lambda ids: np.full(ids.size, 0.5))
    assert cur.propose(4).size == 4
