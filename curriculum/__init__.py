"""rlvr-curriculum core: which prompts to train on next, framework-free (numpy only).

    from curriculum import Curriculum, CurriculumConfig
    cur = Curriculum(num_prompts=10_000, config=CurriculumConfig(policy="adaptive"), seed=0)
    ids = cur.propose(64); ...; cur.observe(prompt_ids, rewards)

Pieces: `tracker` (rolling per-prompt pass rates), `ability` (online IRT ability model), `features` (unseen
prompts predicted from their features), `pools` + `streams` (O(k) bookkeeping over any pool size), `policies`
(uniform / static / adaptive), `statecheck` (a state dict checked before it is loaded), `simulator`
(`curriculum simulate`), `bench` (`curriculum bench`). This package must never import torch, transformers, trl,
`rl` or `tasks` (tests/test_layout.py checks it).
"""

from .config import CurriculumConfig
from .core import FORMAT_VERSION, Curriculum, StepReport, state_hash

__all__ = ["Curriculum", "CurriculumConfig", "FORMAT_VERSION", "StepReport", "state_hash"]
