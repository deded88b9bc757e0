"""A small CurriculumGRPOTrainer run that kills itself (SIGKILL: no cleanup, no flush) at a chosen point, for the
fault-injection test (tests/test_fault_injection.py). Resumes from the newest complete checkpoint when there is one.

    python tests/fault_run.py OUTPUT_DIR [POINT CALL]    # POINT: one of KILL_POINTS; CALL: which call, from 1
    FAULT_SAVE_TOTAL_LIMIT=1 python tests/fault_run.py ...  # with save_total_limit

On exit it prints the final curriculum state hash as `HASH <hex>`.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from conftest import TOKENIZER, lucky_30, plain_sums, tiny_model, toy_args  # noqa: E402
from transformers import Trainer  # noqa: E402

import rl.trl.checkpoint as ckpt  # noqa: E402
from curriculum import state_hash, statefile  # noqa: E402
from rl import CurriculumGRPOTrainer  # noqa: E402

KILL_POINTS = {
    # mid-training: inside the trainer's observation of a generation chunk
    "observe": (CurriculumGRPOTrainer, "_observe", "before"),
    # a save has begun: the checkpoint folder's model files are not written yet
    "before_model_files": (CurriculumGRPOTrainer, "save_model", "before"),
    # the model files are written, the optimiser's, the RNG's and the curriculum's not yet
    "after_model_files": (Trainer, "_save_optimizer_and_scheduler", "before"),
    # the model, optimiser and RNG files are written, the curriculum's not yet
    "before_curriculum_state": (ckpt, "save_state", "before"),
    # inside the curriculum's write: its npz is in place, its JSON not yet (the 2nd atomic write of a save; the
    # middle's, which write_state calls: the completion mark's own write is not counted)
    "between_state_files": (statefile, "write_atomic", "before"),
    # every file written, the completion mark not yet
    "before_mark": (ckpt, "mark_complete", "before"),
    # the new checkpoint is complete and the older ones rotated away
    "after_rotation": (ckpt, "rotate", "after"),
}
MAX_STEPS, SAVE_STEPS = 8, 2


def arm(point: str, call: int) -> None:
    owner, name, when = KILL_POINTS[point]
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        out = original(*args, **kwargs)
        if calls["n"] == call:
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    setattr(owner, name, wrapped)


def main(out: Path) -> None:
    limit = int(os.environ.get("FAULT_SAVE_TOTAL_LIMIT", "0")) or None
    args = toy_args(str(out), MAX_STEPS, save_strategy="steps", save_steps=SAVE_STEPS, save_total_limit=limit)
    trainer = CurriculumGRPOTrainer(
        model=tiny_model(), reward_funcs=[lucky_30], processing_class=TOKENIZER, args=args, train_dataset=plain_sums()
    )
    resume = ckpt.last_complete_checkpoint(out)[0] is not None
    trainer.train(resume_from_checkpoint=True if resume else None)
    print("HASH", state_hash(trainer.curriculum.state_dict()), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        arm(sys.argv[2], int(sys.argv[3]))
    main(Path(sys.argv[1]))
