"""Bad input to the core is refused up front, naming the key or field and the fix, and changes nothing.

- `load_state_dict`: a state with a key missing or unknown, a wrong shape or dtype, NaN/inf, negative counts,
  out-of-range ids, generator words numpy would refuse or garbage JSON raises ValueError before anything
  is assigned; valid states (also after an npz round trip) still load exactly.
- observations and sizes: string rewards, non-integral pool sizes, counts that overflow.
- `CurriculumConfig`: every field's type, finiteness and range.
- `curriculum simulate` / `curriculum bench`: sizes below 1 and `--set` values of the wrong type.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.ability import sigmoid
from curriculum.config import POLICIES
from recipes.cli import main

N = 240  # prompts of the toy pool


def drive(cur: Curriculum, difficulty: np.ndarray, steps: int, k: int = 16, group: int = 8, seed: int = 0) -> list:
    """`steps` propose/observe rounds against a fixed pool (as in test_core.py); the proposals."""
    rng, out = np.random.default_rng(seed), []
    for t in range(steps):
        ids = cur.propose(k)
        p = sigmoid(t / 20.0 - difficulty[ids])
        cur.observe(np.repeat(ids, group), (rng.random((ids.size, group)) < p[:, None]).astype(np.float64).ravel())
        out.append(ids)
    return out


def pool() -> np.ndarray:
    return np.random.default_rng(3).uniform(-4.0, 8.0, N)


def make(policy: str) -> Curriculum:
    return Curriculum(N, CurriculumConfig(policy=policy, static={"calibration_size": 48}, band={"cache": 64}), seed=5)


@functools.cache
def _states(policy: str) -> tuple[dict, dict]:
    """(early, late) states of one run: after 2 steps (the static band not fixed yet) and after 9 more steps plus
    one proposal awaiting feedback (pending ids, band cache, excluded/retired pools in use)."""
    cur = make(policy)
    drive(cur, pool(), 2)
    early = cur.state_dict()
    drive(cur, pool(), 9, seed=1)
    cur.propose(16)
    return early, cur.state_dict()


def states(policy: str) -> tuple[dict, dict]:
    """Fresh copies (tests mutate them)."""
    return tuple({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in sd.items()} for sd in _states(policy))


def holding_early_state(policy: str) -> tuple[Curriculum, str]:
    """A curriculum holding the early state (so a half-loaded late state would show) and its state hash."""
    cur = make(policy)
    cur.load_state_dict(states(policy)[0])
    return cur, state_hash(cur.state_dict())


def refused(policy: str, late: dict, match: str) -> Curriculum:
    cur, before = holding_early_state(policy)
    with pytest.raises(ValueError, match=match):
        cur.load_state_dict(late)
    assert state_hash(cur.state_dict()) == before, "a refused state must leave the curriculum as it was"
    return cur


# ---- load_state_dict: refused states change nothing ------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("key", ["step", "pending", "counters", "succ", "mu", "rng_observe", "pool_active"])
def test_a_state_missing_a_key_is_refused_naming_it_and_changes_nothing(policy: str, key: str) -> None:
    late = states(policy)[1]
    del late[key]
    refused(policy, late, key)


def test_a_state_with_an_unknown_key_is_refused_naming_it() -> None:
    late = states("adaptive")[1]
    late["sneaky"] = 1
    refused("adaptive", late, "sneaky")


SHARED_ARRAYS = ["succ", "tries", "attempts", "last_step", "mu", "var", "anchor", "status", "population_hist", "offset",
                 "rng_propose"]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "key"),
    [(p, k) for p in POLICIES for k in SHARED_ARRAYS] + [("band", "stream_cursor"), ("band", "stream_taken")],
)
def test_a_truncated_or_extended_array_is_refused_naming_its_shape_and_changes_nothing(policy: str, key: str) -> None:
    late = states(policy)[1]
    late[key] = late[key][:-1]
    refused(policy, late, f"{key}.*shape")
    late = states(policy)[1]
    late[key] = np.concatenate([late[key], late[key][:1]])
    refused(policy, late, f"{key}.*shape")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("succ", np.nan),
        ("tries", np.inf),
        ("mu", np.nan),
        ("var", np.nan),
        ("anchor", -np.inf),
        ("population_hist", np.nan),
        ("offset", np.nan),
        ("offset_var", np.inf),
        ("theta", np.nan),
        ("theta_var", np.inf),
        ("theta_var", 0.0),
        ("var", -1.0),
        ("succ", -1.0),
        ("population_hist", -1.0),
    ],
)
def test_nan_inf_or_negative_values_are_refused_so_predictions_never_turn_nan(key: str, value: float) -> None:
    late = states("adaptive")[1]
    if isinstance(late[key], np.ndarray):
        late[key].flat[0] = value
    else:
        late[key] = value
    cur = refused("adaptive", late, key)
    assert np.isfinite(cur.predict(np.arange(N))).all()


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("pending", N),
        ("pending", -1),
        ("band_cache", N + 3),
        ("band_cache", -2),
        ("pool_active", N),
        ("pool_excluded", -1),
        ("static_members", N),
        ("status", 7),
    ],
)
def test_out_of_range_ids_are_refused_instead_of_crashing_later(key: str, bad: int) -> None:
    policy = "static" if key == "static_members" else "band"
    late = states(policy)[1]
    assert late[key].size, f"the fixture should fill {key}"
    late[key] = late[key].astype(np.int64)
    late[key][0] = bad
    cur = refused(policy, late, key)
    ids = cur.propose(16)  # still works: nothing of the bad state got in
    cur.observe(np.repeat(ids, 4), np.zeros(ids.size * 4))


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("counters", "not json", "counters.*JSON"),
        ("counters", "[1, 2]", "counters"),
        ("counters", '{"rollouts": 5}', "counters"),
        ("last", "{}", "last"),
        ("config", "[]", "config"),
        ("config", "{", "config.*JSON"),
        (
            "counters",
            json.dumps({"rollouts": -1, "successes": 0, "groups": 0, "informative_groups": 0, "prompts_seen": 0}),
            "rollouts",
        ),
        ("last", json.dumps({"informative_ratio": "x", "pred_abs_error": 0.1, "groups": 3}), "informative_ratio"),
    ],
)
def test_garbage_json_fields_are_refused_naming_them(key: str, value: str, match: str) -> None:
    late = states("adaptive")[1]
    late[key] = value
    refused("adaptive", late, match)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("step", -1, "step"),
        ("step", 2.5, "step"),
        ("step", "7", "step"),
        ("step", None, "step"),
        ("proposals", -3, "proposals"),
        ("policy_cursor", -1, "policy_cursor"),
        ("ability_last_step", 10**6, "ability_last_step"),
        ("format_version", "x", "format_version"),
        ("num_prompts", None, "num_prompts"),
        ("succ", np.zeros(N, dtype=np.float64), "succ.*dtype"),
        ("attempts", np.zeros(N), "attempts.*dtype"),
        ("mu", np.zeros(N, dtype="<U3"), "mu.*dtype"),
        ("rng_propose", np.zeros(6, dtype=np.int64), "rng_propose"),
        ("rng_propose", np.array([1, 2, 3, 4, 0, 0], dtype=np.uint64), "rng_propose"),
        ("rng_observe", np.array([1, 2, 3, 5, 9, 0], dtype=np.uint64), "rng_observe"),
    ],
)
def test_scalars_and_dtypes_of_the_wrong_kind_are_refused_naming_the_key(key: str, value, match: str) -> None:
    late = states("adaptive")[1]
    late[key] = value
    refused("adaptive", late, match)


def test_a_state_saved_before_the_static_band_was_fixed_reloads_exactly_into_a_curriculum_whose_band_is() -> None:
    early, late = states("static")
    assert int(early["static_fixed"]) == 0 and int(late["static_fixed"]) == 1
    cur = make("static")
    cur.load_state_dict(late)
    cur.load_state_dict(early)
    assert state_hash(cur.state_dict()) == state_hash(early)


@pytest.mark.parametrize("policy", POLICIES)
def test_valid_states_still_load_exactly_also_after_an_npz_round_trip(policy: str) -> None:
    early, late = states(policy)
    cur, _ = holding_early_state(policy)
    cur.load_state_dict(late)
    assert state_hash(cur.state_dict()) == state_hash(late)
    buf = io.BytesIO()
    np.savez(buf, **late)  # scalars and strings come back as 0-d arrays
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        reread = {k: npz[k] for k in npz.files}
    twin, _ = holding_early_state(policy)
    twin.load_state_dict(reread)
    assert state_hash(twin.state_dict()) == state_hash(late)
    for a, b in zip(drive(cur, pool(), 6, seed=4), drive(twin, pool(), 6, seed=4), strict=True):
        assert np.array_equal(a, b)


# ---- the property: any mutation loads or is refused cleanly ----------------------------------------------------
ARRAY_MUTATIONS = ("truncate", "extend", "dtype", "2d", "poison", "poison", "poison")
JUNK = (
    None,
    "garbage",
    "{}",
    "[]",
    "null",
    '{"a": 1}',
    -1,
    0,
    2**70,
    1.5,
    True,
    math.nan,
    math.inf,
    [1, 2],
    np.zeros(3),
    np.zeros(N),
    np.zeros((2, 2)),
    np.array("text"),
)
FLOAT_POISON = (math.nan, math.inf, -math.inf, -1.0, -1e30, 1e30, 1e300, 0.0, 2.5)
INT_POISON = (-1, N, N + 1, 7, 2**31, 2**40, 2**63 - 1, 0, 1)
DTYPES = (np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint64, np.bool_, "<U4")


def _json_mutation(text: str, data: st.DataObject) -> str:
    try:
        obj = json.loads(text)
    except ValueError:
        return "{"
    if not isinstance(obj, dict) or not obj:
        return data.draw(st.sampled_from(["[]", "{", "3", '"x"']))
    key = data.draw(st.sampled_from(sorted(obj)))
    if data.draw(st.booleans()):
        del obj[key]
    else:
        obj[key] = data.draw(st.sampled_from([None, "x", -1, 2.5, math.nan, math.inf, 10**30, [], True, 5]))
    return json.dumps(obj)


def _array_mutation(arr: np.ndarray, data: st.DataObject) -> np.ndarray:
    how = data.draw(st.sampled_from(ARRAY_MUTATIONS))
    if arr.ndim == 0 or arr.dtype.kind not in "biuf":  # junk put there by an earlier mutation
        return np.zeros(2, dtype=np.int64)
    if how == "truncate" and arr.size:
        return arr[:-1]
    if how == "extend" or (how == "truncate" and not arr.size):
        return np.concatenate([arr, np.zeros((1, *arr.shape[1:]), dtype=arr.dtype)])
    if how == "dtype":
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return arr.astype(data.draw(st.sampled_from(DTYPES)))
    if how == "2d":
        return arr.reshape(1, -1)
    if not arr.size:
        return np.zeros(3, dtype=arr.dtype)
    out = arr.copy()
    i = data.draw(st.integers(0, arr.size - 1))
    if arr.dtype.kind == "f":
        with np.errstate(over="ignore"):  # 1e300 in a float32 array: inf
            out.flat[i] = data.draw(st.sampled_from(FLOAT_POISON))
    else:
        value = data.draw(st.sampled_from(INT_POISON))
        if out.dtype.kind == "b" or not np.iinfo(out.dtype).min <= value <= np.iinfo(out.dtype).max:
            out = out.astype(np.int64)  # every poison fits int64
        out.flat[i] = value
    return out


def mutate(sd: dict, data: st.DataObject) -> tuple[str, str]:
    """Mutate `sd` in place at random; return (key, what was done) for the failure report."""
    key = data.draw(st.sampled_from(sorted(sd)))
    how = data.draw(st.sampled_from(["drop", "unknown", "junk", "value", "value", "value"]))
    value = sd[key]
    if how == "drop":
        del sd[key]
    elif how == "unknown":
        sd[f"{key}_extra"] = value
    elif how == "junk":
        sd[key] = data.draw(st.sampled_from(JUNK))
    elif isinstance(value, np.ndarray):
        sd[key] = _array_mutation(value, data)
    elif isinstance(value, str):
        sd[key] = _json_mutation(value, data)
    elif isinstance(value, float):
        sd[key] = data.draw(st.sampled_from(FLOAT_POISON))
    else:
        sd[key] = data.draw(st.sampled_from(INT_POISON + (-(2**70),)))
    return key, how


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_state_loads_or_is_refused_leaving_the_curriculum_unchanged(policy: str, data) -> None:
    late = states(policy)[1]
    for _ in range(data.draw(st.integers(1, 2))):
        key, how = mutate(late, data)
    cur, before = holding_early_state(policy)
    try:
        cur.load_state_dict(late)
    except ValueError:
        assert state_hash(cur.state_dict()) == before, f"refused {how} of {key!r} but the state changed"
        return
    # accepted: the curriculum must still work and predict pass rates
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow / invalid value: a corrupt state got in
        for ids in drive(cur, pool(), 2, seed=2):
            assert ids.size == 16 and np.unique(ids).size == 16
            p = cur.predict(ids)
            assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
        cur.stats()
        cur.load_state_dict(states(policy)[1])  # and a valid state loads exactly afterwards
    assert state_hash(cur.state_dict()) == state_hash(states(policy)[1])


# ---- observations and sizes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rewards", [["1", "0"], np.array(["1.0", "0.0"]), [b"1", b"0"], [None, 1.0], [1 + 0j, 0j]])
def test_rewards_that_are_not_numbers_are_refused_and_change_nothing(rewards) -> None:
    cur = make("adaptive")
    drive(cur, pool(), 2)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError, match="rewards must be numbers"):
        cur.observe([0, 1], rewards)
    assert state_hash(cur.state_dict()) == before


def test_boolean_rewards_are_successes() -> None:
    cur = Curriculum(4, seed=0)
    cur.observe([0, 0, 1], [True, False, True])
    assert cur.counters["successes"] == 2


@pytest.mark.parametrize("num_prompts", [2.7, 3.0, "3", True, None, 0, -4])
def test_a_pool_size_that_is_not_a_positive_int_is_refused(num_prompts) -> None:
    with pytest.raises(ValueError, match="num_prompts"):
        Curriculum(num_prompts)


@pytest.mark.parametrize("seed", [1.5, "3", True, None, -1])
def test_a_seed_that_is_not_a_non_negative_int_is_refused(seed) -> None:
    with pytest.raises(ValueError, match="seed"):
        Curriculum(10, seed=seed)


def test_numpy_ints_are_fine_sizes_and_seeds() -> None:
    cur = Curriculum(np.int64(12), seed=np.uint32(3))
    assert cur.num_prompts == 12 and cur.seed == 3 and isinstance(cur.num_prompts, int)


@pytest.mark.parametrize(
    ("rollouts", "successes"),
    [
        (np.array([2**64 - 1, 4], dtype=np.uint64), np.array([1, 1], dtype=np.uint64)),
        (np.array([2**40, 4]), np.array([1, 1])),
        (np.array([2**63 - 1, 4]), np.array([2**63 - 1, 1])),
    ],
)
def test_counts_that_overflow_or_exceed_the_trackers_range_are_refused(rollouts, successes) -> None:
    cur = make("adaptive")
    drive(cur, pool(), 2)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError, match="rollouts"):
        cur.observe_counts([0, 1], rollouts, successes)
    assert state_hash(cur.state_dict()) == before
    assert (cur.tracker.attempts >= 0).all()


@pytest.mark.parametrize("how", ["counts", "rollouts"])
def test_more_rollouts_of_one_prompt_in_a_step_than_the_cap_are_refused_naming_the_prompt(how: str) -> None:
    cur = Curriculum(10, CurriculumConfig(max_rollouts_per_prompt=16), seed=0)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError, match="prompt 3 has 17 rollouts in one step, more than max_rollouts_per_prompt=16"):
        if how == "counts":
            cur.observe_counts([1, 3], [8, 17], [2, 5])
        else:
            cur.observe(np.repeat([1, 3], [8, 17]), np.zeros(25))
    assert state_hash(cur.state_dict()) == before
    cur.observe_counts([1, 3], [8, 16], [2, 5])  # at the cap: fine
    assert CurriculumConfig().max_rollouts_per_prompt >= 4096, "the default is beyond any honest group"


def test_large_but_sane_counts_are_fine() -> None:
    cur = Curriculum(4, seed=0)
    cur.observe_counts(np.array([1, 2], dtype=np.uint64), np.array([1000, 8], dtype=np.uint16), np.array([3, 8]))
    assert cur.tracker.attempts[1] == 1000 and cur.counters["successes"] == 11


# ---- CurriculumConfig -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("prompt_drift", math.nan, r"prompt_drift must be .*\[0, "),
        ("prompt_drift", math.inf, "prompt_drift"),
        ("ability_drift", math.nan, "ability_drift"),
        ("ability_drift", math.inf, "ability_drift"),
        ("label_drift", -1e-3, "label_drift"),
        ("revisit_noise", math.nan, "revisit_noise"),
        ("revisit_noise", -1.0, "revisit_noise"),
        ("thompson_scale", math.inf, "thompson_scale"),
        ("adaptive.keep_power", math.inf, "adaptive.keep_power"),
        ("adaptive.keep_power", math.nan, "adaptive.keep_power"),
        ("tracker_half_life", math.inf, "tracker_half_life"),
        ("tracker_half_life", 5e-324, "tracker_half_life"),
        ("prompt_prior_sd", math.inf, "prompt_prior_sd"),
        ("pass_rate_prior_sd", 1e200, "pass_rate_prior_sd"),
        ("success_threshold", 5, r"success_threshold must be in \(0, 1\]"),
        ("success_threshold", 0.0, r"success_threshold must be in \(0, 1\]"),
        ("success_threshold", -0.5, "success_threshold"),
        ("success_threshold", math.nan, "success_threshold"),
        ("band.explore_frac", math.nan, "band.explore_frac"),
        ("adaptive.reprobe_share", math.nan, "adaptive.reprobe_share"),
        ("adaptive.reprobe_share", 1.5, "adaptive.reprobe_share"),
        ("adaptive.revisit_gap", -1, "adaptive.revisit_gap"),
        ("revisit_min_gap", -1, "revisit_min_gap"),
        ("revisit_min_gap", 2.5, "revisit_min_gap must be an int"),
        ("candidate_mult", 2.5, "candidate_mult must be an int"),
        ("candidate_mult", True, "candidate_mult must be an int"),
        ("band.cache", 1e9, "band.cache must be an int"),
        ("band.reprobe_scan", 2**40, "band.reprobe_scan"),
        ("static.calibration_size", "64", "static.calibration_size must be an int"),
        ("target", "abc", "target must be a number"),
        ("target", None, "target must be a number"),
        ("target", True, "target must be a number"),
        ("band_low", [0.1], "band_low must be a number"),
        ("policy", 3, "policy"),
        ("prior_type", None, "prior_type"),
    ],
)
def test_config_refuses_each_field_of_the_wrong_type_or_out_of_range_naming_it(field: str, value, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CurriculumConfig.from_dict({field: value})


def test_config_takes_ints_for_float_fields_and_numpy_scalars_as_plain_python() -> None:
    cfg = CurriculumConfig(
        tracker_half_life=30, adaptive={"keep_power": np.float32(2.0)}, candidate_mult=np.int64(8), success_threshold=1
    )
    assert cfg.tracker_half_life == 30 and cfg.success_threshold == 1
    assert type(cfg.adaptive.keep_power) is float and type(cfg.candidate_mult) is int
    json.dumps(cfg.to_dict())  # numpy scalars would not serialise


def test_a_policys_settings_nest_under_its_name_and_a_former_flat_spelling_is_refused_naming_the_new() -> None:
    cfg = CurriculumConfig.from_dict({"policy": "band", "band.cache": 64, "adaptive": {"retention": 0.3}})
    assert (cfg.band.cache, cfg.band.explore_frac, cfg.adaptive.retention) == (64, 0.06, 0.3)
    assert CurriculumConfig.from_dict(cfg.to_dict()) == cfg and cfg.to_dict()["band"]["cache"] == 64
    assert cfg.replace(adaptive={"keep_power": 2.0}).adaptive == dataclasses.replace(cfg.adaptive, keep_power=2.0)
    with pytest.raises(ValueError, match=r"reprobe_share is now adaptive\.reprobe_share"):
        CurriculumConfig.from_dict({"reprobe_share": 0.1})
    with pytest.raises(ValueError, match=r"unknown band settings \['band.bogus'\]"):
        CurriculumConfig.from_dict({"band": {"bogus": 1}})
    with pytest.raises(ValueError, match="static must be a StaticSettings or a mapping"):
        CurriculumConfig(static=3)


def test_a_nan_drift_can_no_longer_make_predictions_nan() -> None:
    with pytest.raises(ValueError, match="prompt_drift"):
        Curriculum(10, CurriculumConfig(prompt_drift=math.nan))


# ---- the CLI ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["simulate", "--seeds", "0"], "--seeds"),
        (["simulate", "--seeds", "-2"], "--seeds"),
        (["simulate", "--seeds", "1.5"], "--seeds"),
        (["bench", "--steps", "0"], "--steps"),
        (["bench", "--k", "0"], "--k"),
        (["bench", "--group", "0"], "--group"),
        (["bench", "--sizes", "0"], "--sizes"),
        (["bench", "--sizes", "1e5", "-3"], "--sizes"),
        (["bench", "--sizes", "2.5"], "--sizes"),
        (["bench", "--sizes", "abc"], "--sizes"),
        (["bench", "--sizes", "inf"], "--sizes"),
        (["bench", "--sizes", "nan"], "--sizes"),
        (["bench", "--trainer-steps", "0"], "--trainer-steps"),
        (["simulate", "--set", "target"], "--set"),
        (["simulate", "--set", "target=[0.4"], "--set"),
    ],
)
def test_simulate_and_bench_refuse_sizes_below_one_like_argparse(argv: list[str], option: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--out", "/dev/null"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err


def test_bench_refuses_k_larger_than_the_smallest_pool(capsys) -> None:
    assert main(["bench", "--sizes", "100", "--k", "200", "--steps", "1", "--out", "/dev/null"]) == 2
    assert "--k" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("target=abc", ("target", "number")),
        ("candidate_mult=2.5", ("candidate_mult", "int")),
        ("prompt_drift=.nan", ("prompt_drift", "[0, ")),
        ("success_threshold=5", ("success_threshold", "(0, 1]")),
    ],
)
def test_simulate_set_with_a_bad_value_is_a_one_line_error_naming_the_field(setting: str, words, capsys) -> None:
    assert main(["simulate", "--seeds", "1", "--quiet", "--out", "/dev/null", "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert all(w in err for w in words), err
