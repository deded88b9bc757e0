"""A small CurriculumGRPOTrainer run that kills itself (SIGKILL: no cleanup, no flush) at a chosen point, for the
fault-injection test (tests/test_fault_injection.py). Resumes from the newest complete checkpoint when there is one.

    python tests/fault_run.py OUTPUT_DIR [POINT CALL]    # POINT: one of KILL_POINTS; CALL: which call, from 1

On exit it prints the final curriculum state hash as `HASH <hex>`.
"""

from __future__ import annotations

import os
import signal
import sys
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import rl.checkpoint as ckpt  # noqa: E402
from curriculum import state_hash  # noqa: E402
from rl import CurriculumGRPOConfig, CurriculumGRPOTrainer  # noqa: E402
from rl.recipes.toy import toy_model, toy_tokenizer  # noqa: E402

KILL_POINTS = {
    # mid-training: inside the trainer's observation of a generation chunk
    "observe": (CurriculumGRPOTrainer, "_observe"),
    # the model, optimiser and RNG files are written, the curriculum's not yet
    "before_curriculum_state": (ckpt, "save_state"),
    # during the curriculum's write: its npz is in place, its JSON not yet (the 2nd atomic write of a save)
    "between_state_files": (ckpt, "_write_atomic"),
    # every file written, the completion mark not yet
    "before_mark": (ckpt, "mark_complete"),
}
MAX_STEPS, SAVE_STEPS = 8, 2


def arm(point: str, call: int) -> None:
    owner, name = KILL_POINTS[point]
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(owner, name, wrapped)


def lucky(completions: list[str], **kwargs) -> list[float]:
    return [float(zlib.crc32(c.encode()) / 2**32 < 0.3) for c in completions]


def main(out: Path) -> None:
    tokenizer = toy_tokenizer("".join(map(chr, range(32, 127))))
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 48), rng.integers(0, 100, 48)
    from datasets import Dataset

    data = Dataset.from_dict(
        {
            "prompt": [f"{x}+{y}=" for x, y in zip(a, b, strict=True)],
            "answer": [str(x + y) for x, y in zip(a, b, strict=True)],
        }
    )
    args = CurriculumGRPOConfig(
        output_dir=str(out),
        max_steps=MAX_STEPS,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=4,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="steps",
        save_steps=SAVE_STEPS,
        seed=0,
        disable_tqdm=True,
    )
    trainer = CurriculumGRPOTrainer(
        model=toy_model(tokenizer, hidden=64, seed=0),
        reward_funcs=[lucky],
        processing_class=tokenizer,
        args=args,
        train_dataset=data,
    )
    resume = ckpt.last_complete_checkpoint(out)[0] is not None
    trainer.train(resume_from_checkpoint=True if resume else None)
    print("HASH", state_hash(trainer.curriculum.state_dict()), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        arm(sys.argv[2], int(sys.argv[3]))
    main(Path(sys.argv[1]))
