"""The product: the `curriculum` command (cli.py; its `simulate` and `bench` run on numpy alone) and `curriculum
train` with its parts: the run config, the tiny model and its testbed, held-out evaluation, the oracle arm, the run's
summary, statistics and plots, and DAPO-style dynamic sampling (the ablations' peer baseline).

Layers: studies/ and benches/ import this package; it imports the library (`rl`, `tasks`, `curriculum`), never them
(the CLI reaches them by module name). The library never imports an application.
"""

from __future__ import annotations

import os

# The applications run offline (no model or data set is downloaded at run time): set before any of them imports
# huggingface_hub, which reads it once, at import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
