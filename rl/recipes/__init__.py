"""The applications built on the drop-in: `curriculum train` / `ablate` / `simulate` / `bench` (cli.py), the run
config, the tiny model and its testbed, held-out evaluation, the ablation harness with its statistics and plots,
the benchmarks, DAPO-style dynamic sampling (the ablations' peer baseline) and the two-process check.

The library (`rl/*.py` next to this folder) never imports from here.
"""
