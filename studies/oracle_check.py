"""How close the oracle arm's computed pass rate comes to a sampled one, on the default pool and warm model.

python -m studies.oracle_check          # 400 pool prompts, 64 sampled completions each
python -m studies.oracle_check 1000
"""

from __future__ import annotations

import sys

import numpy as np

from recipes.build import build_data, build_model
from recipes.oracle import check_against_sampling
from recipes.run_config import load_run_config
from recipes.train import quiet_libraries


def main(count: int = 400) -> dict[str, float]:
    quiet_libraries()
    cfg = load_run_config(None, [])
    train, _ = build_data(cfg)
    model, tokenizer, _ = build_model(cfg, list(train["prompt"]) + [str(a) for a in train["answer"]])
    pick = np.random.default_rng(0).permutation(len(train))[:count]
    return check_against_sampling(model, tokenizer, [train[int(i)] for i in pick], cfg.max_completion_length)


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
    print(", ".join(f"{k} {v:.3f}" for k, v in result.items()))
