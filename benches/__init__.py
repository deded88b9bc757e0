"""Dev rigs and measurements: the curriculum's share of a GRPO step (`curriculum bench --trainer` / `--cold`), a
streamed pool's window against a map-style pool (`bench --stream`), and the two-process check (_dist_check.py, run
with `accelerate launch`). Built on recipes; nothing imports a bench but the CLI, by module name."""

from __future__ import annotations

import recipes  # noqa: F401  (offline mode, set before a bench's imports reach huggingface_hub)
