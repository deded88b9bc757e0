"""Multi-process check: every rank holds an identical curriculum after every step (gloo on CPU).

    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no benches/_dist_check.py --steps 3 --output_dir /tmp/dist_check

(`accelerate launch --cpu --num_processes 2` silently runs ONE process; `--multi_gpu` with
`use_cpu=True` gives two gloo processes.) Trains the toy model of benches/overhead.py with
`curriculum_sync_check=True`: after every observe the ranks compare their full curriculum state hash
(a mismatch raises, naming the generation step). At the end the ranks compare the hash once more and
that the world really had `--expect_world_size` processes; rank 0 prints one line
`DIST_CHECK OK world_size=2 steps=3 observes=3 hash=...`, and every process exits with status 0.
A checkpoint is written at --save_steps. `--stream_window W` streams the prompts (an `IterableDataset`) through a
window of W: every rank reads the whole stream, and the windows must agree as the curriculums do.
`--corrupt_at_step N` is the negative control: the last rank's curriculum is nudged after step N, and the run must
fail naming generation step N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--output_dir", default="/tmp/rlvr_dist_check")
    p.add_argument("--num_prompts", type=int, default=64)
    p.add_argument("--save_steps", type=int, default=2)
    p.add_argument("--expect_world_size", type=int, default=2)
    p.add_argument(
        "--stream_window",
        type=int,
        default=0,
        help="stream the prompts (an IterableDataset) through a window of this many (0: a map-style pool)",
    )
    p.add_argument(
        "--corrupt_at_step",
        type=int,
        default=0,
        help="negative control: nudge the last rank's curriculum after this step; the run must fail",
    )
    return p.parse_args(argv)


class Corrupt(TrainerCallback):
    """Nudges the last rank's ability estimate after `step` (a negative control: the ranks must notice)."""

    def __init__(self, trainer: Any, step: int) -> None:
        self.trainer, self.step = trainer, step

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        acc = self.trainer.accelerator
        if state.global_step == self.step and acc.process_index == acc.num_processes - 1:
            self.trainer.curriculum.ability.theta += 0.25


def run(argv: list[str] | None = None) -> str:
    """Train, check the ranks agree; return rank 0's report line ("" on other ranks)."""
    from accelerate.utils import gather_object

    from curriculum import state_hash
    from recipes.toy import answer_reward, toy_args, toy_dataset, toy_model, toy_tokenizer
    from rl.trl.trainer import CurriculumGRPOTrainer

    opts = _parse(argv)
    tokenizer = toy_tokenizer()
    args = toy_args(
        opts.output_dir,
        opts.steps,
        curriculum_sync_check=True,
        save_strategy="steps",
        save_steps=opts.save_steps,
        per_device_train_batch_size=4,
    )
    dataset = toy_dataset(opts.num_prompts)
    if opts.stream_window:
        from datasets import IterableDataset

        rows = dataset.to_list()
        dataset = IterableDataset.from_generator(lambda: iter(rows))
        args.curriculum_stream_window = opts.stream_window
    trainer = CurriculumGRPOTrainer(
        model=toy_model(tokenizer),
        reward_funcs=[answer_reward],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    if opts.stream_window and trainer.curriculum_window is None:
        raise RuntimeError(f"the stream fell back to GRPOTrainer: {trainer.curriculum_fallback}")
    if opts.corrupt_at_step:
        trainer.add_callback(Corrupt(trainer, opts.corrupt_at_step))
    trainer.train()
    world = trainer.accelerator.num_processes
    if world != opts.expect_world_size:
        raise RuntimeError(f"ran with {world} processes, expected {opts.expect_world_size} (use --multi_gpu, not --cpu)")
    final = state_hash(trainer.curriculum.state_dict())
    if trainer.curriculum_window is not None:  # the windows too: the same rows in the same slots
        window = {k: getattr(v, "tolist", lambda v=v: v)() for k, v in trainer.curriculum_window.state_dict().items()}
        final += json.dumps(window, sort_keys=True)
    hashes = gather_object([final])
    if len(set(hashes)) != 1:
        raise RuntimeError(f"final curriculum state differs across ranks: {hashes}")
    observes = trainer.curriculum_sampler.chunks_observed
    if observes != opts.steps:
        raise RuntimeError(f"{observes} observe calls for {opts.steps} steps")
    saved = Path(opts.output_dir) / f"checkpoint-{opts.save_steps}" / "curriculum_state.json"
    if trainer.accelerator.is_main_process and opts.save_steps <= opts.steps:
        meta = json.loads(saved.read_text())
        if meta["num_prompts"] != (opts.stream_window or opts.num_prompts):
            raise RuntimeError(f"{saved} has num_prompts {meta['num_prompts']}")
    trainer.accelerator.wait_for_everyone()
    if not trainer.accelerator.is_main_process:
        return ""
    return f"DIST_CHECK OK world_size={world} steps={opts.steps} observes={observes} hash={final[:16]}"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    line = run(argv)
    if line:
        print(line, flush=True)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()  # a live gloo group at interpreter exit can abort the process
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: background threads of the stack can abort at exit
