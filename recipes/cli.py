"""The `curriculum` command.

    curriculum simulate [--scenario mixed ...] [--policy adaptive ...] [--seeds 3] [--phases] [--out runs/simulate.json]
    curriculum bench [--sizes 1e5 1e7] [--trainer [--trainer-policy uniform]] [--cold]
    curriculum bench --stream [--sizes 1e6] [--windows 1024 4096 16384]   # a streamed pool's window (imports datasets)
    curriculum bench --text-features --sizes 1e6                         # building the text-feature table once
    curriculum train [--config configs/default.yaml] [key=value ...]
    curriculum ablate --config configs/ablations/bands.yaml [key=value ...]

`simulate` and `bench` run on numpy alone (torch is never imported for them).

The applications above this one (`ablate` in studies/, `bench`'s rigs in benches/) are reached by module name through
importlib (`_app`), never by an import statement: they import recipes, and recipes imports none of them.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType

from curriculum.config import POLICIES

PROJECT = ("curriculum", "rl", "tasks", "recipes", "studies", "benches")
"""The project's packages: a missing module outside them is a third-party one the install left out."""


def _at_least_one(text: str) -> int:
    """argparse type: an int >= 1 (seeds, steps, k, group sizes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _pool_size(text: str) -> int:
    """argparse type: a pool size >= 1, as an int or in float notation (1e5)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a pool size such as 1e5 or 20000, got {text!r}") from None
    if not (math.isfinite(value) and value >= 1 and value.is_integer()):
        raise argparse.ArgumentTypeError(f"expected a whole number of prompts >= 1, got {text!r}")
    return int(value)


def _plain_value(raw: str) -> object:
    """A number or a word, as YAML would read it, without yaml."""
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return {"true": True, "false": False, "null": None}.get(raw.strip().lower(), raw.strip())


def _key_value(text: str) -> tuple[str, object]:
    """argparse type: KEY=VALUE with VALUE read as YAML (0.4 -> float, 10 -> int, adaptive -> str)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (a CurriculumConfig field), got {text!r}")
    try:  # here, not at the top: `curriculum simulate` and `bench` run on a numpy-only install
        import yaml
    except ImportError:
        return key.strip(), _plain_value(raw)
    try:
        return key.strip(), yaml.safe_load(raw)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"cannot read the value of {text!r} (a number or a word)") from None


def _simulate(args: argparse.Namespace) -> int:
    from curriculum import CurriculumConfig
    from curriculum.tools.simulator import (
        PREDICTION_COLUMNS,
        SCENARIOS,
        SIM_POLICIES,
        TOLD,
        format_phases,
        format_table,
        simulate,
        write_json,
    )

    names = args.scenario or list(SCENARIOS)
    config = CurriculumConfig.from_dict(dict(args.set))  # a bad field or value: ValueError naming it (exit 2)
    known = tuple(p for p in SIM_POLICIES if p in args.policy) if args.policy else SIM_POLICIES  # in table order
    policies = known + tuple(sorted(set(args.policy or ()) - set(known)))  # unknown ones: simulate() names them
    results = simulate(names, policies, seeds=args.seeds, progress=not args.quiet, config=config)
    print(f"curriculum simulate: {args.seeds} seed(s) per cell, groups of 8; mean over seeds\n")
    print("What each policy draws:\n")
    print(format_table(results))
    predicted = {s: {p: m for p, m in per.items() if p not in TOLD} for s, per in results.items()}  # told: no predictions
    if any(predicted.values()):
        print(
            "\nPredictions made before each group was rolled out, against its true pass rate (the reference: each "
            "label's mean over the last 10 steps' groups):\n"
        )
        print(format_table(predicted, PREDICTION_COLUMNS))
    if args.phases:
        print("\nPhase by phase (shares of each phase's draws; first-visit bias of the curriculum's predictions):")
        print(format_phases(results))
    write_json(results, args.out, args.seeds, config)
    print(f"\nwrote {args.out}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from curriculum.tools.bench import bench_curriculum, format_bench

    sizes = args.sizes
    if args.k > min(sizes):
        print(
            f"curriculum bench: error: --k {args.k} exceeds the smallest of --sizes ({min(sizes)}): propose(k) draws "
            "k distinct prompts",
            file=sys.stderr,
        )
        return 2
    if args.stream:
        return _bench_stream(args)
    if args.text_features:
        return _bench_text_features(args.sizes)
    results = []
    for n in sizes:
        print(f"bench: N={n:.0e} ...", file=sys.stderr, flush=True)
        results.append(bench_curriculum(n, k=args.k, group=args.group, steps=args.steps, features=args.features))
    with_features = f", {args.features} features per prompt" if args.features else ""
    print(
        f"curriculum bench: propose({args.k}) + observe({args.k} x {args.group}) per step{with_features}, one process, "
        f"median of {args.steps} steps after warm-up\n"
    )
    print(format_bench(results))
    if args.trainer:
        overhead = _app("benches.overhead")
        print(
            f"\nbench: timing the curriculum inside GRPO training steps ({args.trainer_setup} set-up) ...",
            file=sys.stderr,
            flush=True,
        )
        setup = overhead.default_setup() if args.trainer_setup == "default" else {}
        setup["curriculum_policy"] = args.trainer_policy
        r = overhead.measure_overhead(steps=args.trainer_steps, logging_steps=10**6, **setup)
        print(
            f"\ncurriculum share of a GRPO step ({args.trainer_setup} set-up, policy {args.trainer_policy}, "
            f"{args.trainer_steps} steps): "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items() if not isinstance(v, dict)
            )
        )
    if args.cold:
        cold = _app("benches.overhead").measure_cold_routines()
        print(
            "\nnumpy routines on 8 numbers right after a model step (cold) and at once again (warm), median us: "
            + "; ".join(
                f"{name} {t['cold'] * 1e6:.1f}" + (f" / {t['warm'] * 1e6:.1f}" if "warm" in t else "")
                for name, t in cold.items()
            )
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps([r.__dict__ | {"reference_ratio": r.reference_ratio} for r in results], indent=2)
        )
    return 0


def _bench_text_features(sizes: list[int]) -> int:
    """The one-off cost of curriculum_features="text" (the default without labels): building the table for a pool of
    each size, over generated prompts of 40-90 characters (numpy only: curriculum/text_features.py)."""
    import resource
    import time

    from curriculum.text_features import text_features

    print("curriculum bench --text-features: the text-feature table of a pool (built once, before training)\n")
    print("| prompts | build s | table MiB | peak RSS MiB |\n|---|---|---|---|")
    for n in sizes:
        prompts = _bench_prompts(n)
        start = time.perf_counter()
        table = text_features(prompts)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        print(f"| {n:.0e} | {seconds:.1f} | {table.nbytes / 2**20:.0f} | {peak:.0f} |", flush=True)
    return 0


def _bench_prompts(n: int) -> list[str]:
    """n generated prompts, digit sums and letter sorting alternating, 40-90 characters, the same every time."""
    import random

    rng = random.Random(0)
    out = []
    for i in range(n):
        if i % 2:
            out.append(f"What is the sum of the digits of {rng.randrange(10 ** rng.randint(2, 12))}? Answer with a number.")
        else:
            word = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(3, 12)))
            out.append(f"Sort the letters of {word} alphabetically.")
    return out


def _bench_stream(args: argparse.Namespace) -> int:
    stream_bench = _app("benches.stream_bench")
    too_small = [w for w in args.windows if w < 2 * args.k]
    if too_small:
        print(f"curriculum bench: error: --windows {too_small} below 2 x --k {args.k}", file=sys.stderr)
        return 2
    for n in args.sizes:
        print(f"bench: N={n:.0e}, map-style and streamed ...", file=sys.stderr, flush=True)
        rows = stream_bench.bench_stream(n, args.windows, k=args.k, group=args.group, steps=args.steps)
        print(
            f"\ncurriculum bench --stream: propose({args.k}) + observe({args.k} x {args.group}) per step, with the "
            f"window's refills, median of {args.steps} steps after warm-up\n"
        )
        print(stream_bench.format_stream_bench(n, rows))
    return 0


def _app(module: str) -> ModuleType:
    """An application module by name: studies/ and benches/ sit above recipes (they import it), so the CLI reaches
    them through importlib, never an import statement (tests/test_layout.py holds recipes to that)."""
    return importlib.import_module(module)


APPS = {"train": "recipes.train", "ablate": "studies.ablate"}
"""The module whose main(config, overrides) each of `curriculum train` / `ablate` runs."""


def _run_app(command: str, args: argparse.Namespace) -> int:
    """`curriculum train` / `ablate`: the application's main, or a message when the install lacks it (the core alone,
    `pip install rlvr-curriculum`, has numpy only)."""
    module = APPS[command]
    try:
        app_main = _app(module).main
    except ModuleNotFoundError as exc:
        if exc.name in (module, module.partition(".")[0]):  # the module, or its package, left out of this build
            print(f"curriculum {command} is not available in this build", file=sys.stderr)
            return 2
        if exc.name and not exc.name.startswith(PROJECT):
            print(
                f"curriculum {command} needs {exc.name}, which the core install leaves out: "
                'pip install "rlvr-curriculum[trl]"',
                file=sys.stderr,
            )
            return 2
        raise
    return app_main(args.config, args.overrides)


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("simulate", help="compare the policies on simulated drifting prompt pools")
    s.add_argument("--scenario", action="append", help="scenario name (repeatable; default: all)")
    s.add_argument("--policy", action="append", help="policy name (repeatable; default: all, oracle and bayes included)")
    s.add_argument("--seeds", type=_at_least_one, default=3)
    s.add_argument("--out", default="runs/simulate.json")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--phases", action="store_true", help="also the draws and first-visit bias phase by phase of a run")
    s.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_key_value,
        help="a CurriculumConfig field for every policy, e.g. --set target=0.4, --set band.cache=512 (repeatable)",
    )
    s.set_defaults(func=_simulate)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="curriculum", description="Adaptive curriculum sampling for RLVR / GRPO.")
    sub = p.add_subparsers(dest="command", required=True)
    _add_simulate(sub)
    b = sub.add_parser("bench", help="per-step cost and memory of the core at several pool sizes")
    b.add_argument("--sizes", nargs="+", type=_pool_size, default=[10**5, 10**7], help="pool sizes (e.g. 1e5 1e7)")
    b.add_argument("--k", type=_at_least_one, default=512, help="prompts proposed per step")
    b.add_argument("--group", type=_at_least_one, default=16, help="rollouts per prompt")
    b.add_argument("--steps", type=_at_least_one, default=60)
    b.add_argument(
        "--features", type=int, default=0, help="features per prompt given to the core (0: none; e.g. 64, float32 table)"
    )
    b.add_argument("--out", default="runs/bench.json")
    b.add_argument("--stream", action="store_true", help="a streamed pool's window vs a map-style pool of --sizes")
    b.add_argument("--windows", nargs="+", type=_at_least_one, default=[1024, 4096, 16384], help="window sizes of --stream")
    b.add_argument(
        "--text-features", action="store_true", help="the one-off cost of the text-feature table at each of --sizes"
    )
    b.add_argument("--trainer", action="store_true", help="also time the curriculum inside GRPO steps (imports torch)")
    b.add_argument(
        "--cold", action="store_true", help="also time small numpy routines right after a model step vs warm (imports torch)"
    )
    b.add_argument("--trainer-steps", type=_at_least_one, default=100, help="timed GRPO steps (after 10 warm-up steps)")
    b.add_argument(
        "--trainer-policy",
        choices=POLICIES,
        default="adaptive",
        help="curriculum_policy of the timed run (uniform: the tracking and metrics alone, plain GRPO sampling)",
    )
    b.add_argument(
        "--trainer-setup",
        choices=["toy", "default"],
        default="toy",
        help="toy: a random-init model of the default's shape on a+b= prompts (no warm-up); default: "
        "curriculum train's embedded default (the warmed tiny model, its task pool and rewards)",
    )
    b.set_defaults(func=_bench)
    t = sub.add_parser("train", help="GRPO with the curriculum (default: the embedded tiny model)")
    t.add_argument("--config", default=None, help="YAML run config (default: configs/default.yaml)")
    t.add_argument("overrides", nargs="*", help="key=value overrides, e.g. max_steps=20 output_dir=runs/x")
    t.set_defaults(func=functools.partial(_run_app, "train"))
    a = sub.add_parser("ablate", help="uniform vs static vs adaptive bands at an equal rollout budget")
    a.add_argument("--config", default="configs/ablations/bands.yaml")
    a.add_argument("overrides", nargs="*")
    a.set_defaults(func=functools.partial(_run_app, "ablate"))
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if not getattr(exc, "user_error", False):  # a bug: the traceback is what helps
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
