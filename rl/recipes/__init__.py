"""The applications built on the drop-in: `curriculum train` / `ablate` / `simulate` / `bench` (cli.py), the run
config, the tiny model and its testbed, held-out evaluation, the ablation harness with its statistics and plots,
the benchmarks, DAPO-style dynamic sampling (the ablations' peer baseline) and the two-process check.

The library (`rl/*.py` next to this folder) never imports from here.
"""

from __future__ import annotations

import os

# The applications run offline (no model or data set is downloaded at run time): set before any of them imports
# huggingface_hub, which reads it once, at import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
