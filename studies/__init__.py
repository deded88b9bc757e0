"""The studies: `curriculum ablate` (ablate.py) and the analyses of its runs: the ablation tables and statistics, the
lucky-success tables, the oracle's check against sampling. Built on recipes (a study's runs are `curriculum train`
runs); nothing imports a study but the CLI, by module name."""

from __future__ import annotations

import recipes  # noqa: F401  (offline mode, set before a study's imports reach huggingface_hub)
