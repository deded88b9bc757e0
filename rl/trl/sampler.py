"""CurriculumSampler: TRL's RepeatSampler layout, with each generation chunk asked of the curriculum lazily.

GRPO generates once per *generation chunk*: `batch_size = generation_batch_size // num_generations`
distinct prompts. TRL's `RepeatSampler` yields each chunk `repeat_count = num_iterations *
steps_per_generation` times, each id `mini_repeat_count = num_generations` times in a row, and the
trainer keeps only the first copy (the others are the re-used micro-steps). This sampler yields the
very same layout; only the ids come from `Curriculum.propose(batch_size)`, one call per chunk, made
when the data loader reaches the chunk's first index (never earlier):

    batch_size=3, mini_repeat_count=2, repeat_count=2; the curriculum proposes [7, 2, 5], then [4, 0, 9]
    chunk 0, copy 0:  7 7 2 2 5 5      <- generated on; fed back as one `observe` call
    chunk 0, copy 1:  7 7 2 2 5 5      <- re-used micro-step (same completions)
    chunk 1, copy 0:  4 4 0 0 9 9      <- proposed only when the loader gets here
    chunk 1, copy 1:  4 4 0 0 9 9

Every rank iterates the whole sampler (accelerate's `BatchSamplerShard` hands consecutive batches to
ranks), reaches each chunk at the same point of training and holds an identical curriculum, so every
rank proposes the same ids without any communication.

Feedback and lag: proposed chunks wait in `pending` (oldest first) until the trainer observes them;
`mark_observed(group_ids)` checks that the observed prompts are the oldest pending chunk, lets it leave, and
returns the lag: chunks the loader has taken but the trainer has not observed yet, i.e. the feedback each
proposal goes without (1 with TRL's defaults: accelerate reads one batch ahead). There is one list of what
awaits feedback, the core's `Curriculum.pending` (its proposals in order, as returned): the pending chunks are
its rows of `batch_size` ids, so the sampler and the core cannot disagree about it.

Proposing ahead: `propose_ahead()`, called by the trainer right after each observe, draws the next chunk
at once instead of when the loader reaches it. The curriculum's state changes only in `observe`, and
the loader always asks for the next chunk before the next observe (that observe needs the chunk's
completions), so it is the very chunk the loader would have drawn; drawn right after the observe, the
core's code and data are still in the CPU caches, which the model's forward and backward passes evict
(cold, the same draw costs several times as much). The chunk waits in `pending`, not yet handed out.

Resume: `pending` is part of the checkpoint. A fresh iteration first replays the pending chunks
(proposed before the checkpoint, never trained on), then proposes new ones, so a resumed run trains on
exactly the chunks the uninterrupted run would have. The trainer sets `ignore_data_skip=True`: TRL's
fast-forward would iterate this sampler for the finished batches and call `propose` for each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import Sampler

from curriculum import Curriculum
from rl.trl.stopwatch import Stopwatch

if TYPE_CHECKING:
    from rl.trl.stream import StreamWindow


class CurriculumSampler(Sampler[int]):
    """Yields dataset indices in RepeatSampler's layout; chunk ids come from `curriculum.propose`."""

    def __init__(
        self,
        curriculum: Curriculum,
        mini_repeat_count: int,
        batch_size: int,
        repeat_count: int,
        clock: Stopwatch | None = None,
        window: StreamWindow | None = None,
    ) -> None:
        """`window`: a streamed pool (rl/trl/stream.py) whose slots are the curriculum's ids; the prompts each proposal
        judges out of reach leave it right after the proposal (its state is part of this sampler's)."""
        for name, value in (
            ("mini_repeat_count", mini_repeat_count),
            ("batch_size", batch_size),
            ("repeat_count", repeat_count),
        ):
            if int(value) < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if batch_size > curriculum.num_prompts:
            raise ValueError(
                f"a generation chunk needs {batch_size} distinct prompts but the dataset has only "
                f"{curriculum.num_prompts}; lower generation_batch_size / per_device_train_batch_size, or "
                "add prompts"
            )
        self.curriculum = curriculum
        self.mini_repeat_count = int(mini_repeat_count)
        self.batch_size = int(batch_size)
        self.repeat_count = int(repeat_count)
        self.clock = clock if clock is not None else Stopwatch()
        self.window = window
        self.chunks_proposed = 0
        self.chunks_observed = 0
        self._yielded = 0  # pending chunks the running iteration has handed out already (the rest: drawn ahead)
        self.on_next_pass: Callable[[], None] | None = None  # one-shot hook when the next pass starts

    @property
    def pending(self) -> list[np.ndarray]:
        """The chunks proposed and not observed yet, oldest first, each (batch_size,) int64: the core's pending ids
        in rows of batch_size (only this sampler proposes, a chunk at a time, and a chunk leaves whole)."""
        ids = self.curriculum.pending
        if ids.size % self.batch_size:
            raise RuntimeError(
                f"the curriculum holds {ids.size} pending prompt ids, not whole chunks of {self.batch_size}: only "
                "CurriculumGRPOTrainer's sampler may propose or release prompts during training"
            )
        return [row.copy() for row in ids.reshape(-1, self.batch_size)]

    @property
    def _pending_chunks(self) -> int:
        return self.curriculum.pending.size // self.batch_size

    @property
    def chunks_per_epoch(self) -> int:
        """Full chunks in one pass, as RepeatSampler (which drops the last partial chunk)."""
        return self.curriculum.num_prompts // self.batch_size

    def __len__(self) -> int:
        return self.chunks_per_epoch * self.batch_size * self.mini_repeat_count * self.repeat_count

    def __iter__(self) -> Iterator[int]:
        self._yielded = 0  # a new pass first replays what was proposed but never observed
        hook, self.on_next_pass = self.on_next_pass, None
        if hook is not None:
            hook()  # runs at the first index, after the DataLoader built its iterator
        for _ in range(self.chunks_per_epoch):
            chunk = self._next_chunk().tolist()
            #    [7, 2, 5]
            # -> 7 7 2 2 5 5  (mini_repeat_count = 2), the whole row repeat_count times
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def _next_chunk(self) -> np.ndarray:
        self.propose_ahead()  # draws only when no chunk waits (none drawn ahead, none restored from a checkpoint)
        start = self._yielded * self.batch_size
        self._yielded += 1
        return self.curriculum.pending[start : start + self.batch_size].copy()

    def _propose(self) -> None:
        with self.clock.section("propose"):
            self.curriculum.propose(self.batch_size)  # (batch_size,) int64, now the last pending chunk
            if self.window is not None:  # never pending, never in this chunk: no row handed out changes
                self.window.refill(self.curriculum.judged_out_of_reach())
        self.chunks_proposed += 1

    def propose_ahead(self) -> None:
        """Draw the next chunk now (right after an observe: see the module docstring) unless one is waiting."""
        if self._yielded == self._pending_chunks:
            self._propose()

    # ---- the feedback side ----------------------------------------------------------------------
    def oldest_pending(self) -> np.ndarray:
        """(batch_size,) the chunk the trainer observes next: the oldest proposed and not observed yet."""
        if not self._pending_chunks:
            raise RuntimeError(
                "the trainer observed a generation batch the curriculum never proposed; the train dataloader "
                "must use CurriculumGRPOTrainer's sampler (do not override get_train_dataloader or "
                "_get_train_sampler)"
            )
        return self.curriculum.pending[: self.batch_size].copy()

    def mark_observed(self, group_ids: Sequence[int]) -> int:
        """The trainer observed the chunk `group_ids` (one id per group, in sampler order): the oldest pending chunk
        leaves `pending` whole, and the lag is returned (chunks the loader has taken but the trainer not observed
        yet). Before or after the core's observe of it (which takes the groups it scored out of `pending`, each id's
        oldest copy), what is left of the chunk must be the oldest pending ids, in the chunk's order, and the rest
        whole chunks."""
        waiting = self.chunks_proposed - self.chunks_observed  # chunks proposed and not marked observed
        if waiting < 1:
            self.oldest_pending()  # raises: nothing was proposed that could have been observed
        observed, pending = np.asarray(group_ids, dtype=np.int64).reshape(-1), self.curriculum.pending
        left = pending.size - (waiting - 1) * self.batch_size  # this chunk's ids still pending: the oldest `left`
        if observed.size != self.batch_size or not 0 <= left <= self.batch_size or not _in_order(pending[:left], observed):
            raise RuntimeError(
                f"observed prompts {observed[:8].tolist()}... are not the oldest proposed chunk "
                f"{pending[: self.batch_size][:8].tolist()}...; batches were reordered between the sampler and the "
                "trainer (do not override get_train_dataloader or _get_train_sampler)"
            )
        self.curriculum.release(pending[:left])  # their oldest copies: exactly these places
        self._yielded = max(self._yielded - 1, 0)
        self.chunks_observed += 1
        return self.lag

    @property
    def lag(self) -> int:
        """Chunks the loader has taken but the trainer has not observed yet (drawn-ahead chunks do not count)."""
        return self._yielded

    # ---- checkpoint -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        pending = self.curriculum.pending.reshape(-1, self.batch_size)  # a copy of it below (astype)
        window = {} if self.window is None else {"window": self.window.state_dict()}
        return window | {
            "pending": pending.astype(np.int64),  # [P, batch_size] proposed, not observed, oldest first
            "chunks_proposed": self.chunks_proposed,
            "chunks_observed": self.chunks_observed,
            "batch_size": self.batch_size,
        }

    def check_state(self, sd: dict[str, Any]) -> None:
        """Raise ValueError naming the problem if `sd` is not a state this sampler can load; assigns nothing."""
        missing = sorted({"pending", "chunks_proposed", "chunks_observed", "batch_size"} - set(sd))
        if missing:
            raise ValueError(f"sampler state lacks {missing}")
        counts = {k: sd[k] for k in ("chunks_proposed", "chunks_observed", "batch_size")}
        for key, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"sampler state {key}={value!r}: expected an integer >= 0")
        if int(sd["batch_size"]) != self.batch_size:
            raise ValueError(
                f"the checkpoint's generation chunks hold {int(sd['batch_size'])} prompts but this run's "
                f"hold {self.batch_size}; resume with the same generation_batch_size and num_generations"
            )
        pending = sd["pending"]
        if (
            not isinstance(pending, np.ndarray)
            or pending.dtype.kind not in "iu"
            or pending.ndim != 2
            or pending.shape[1] != self.batch_size
        ):
            raise ValueError(f"sampler state pending: expected an integer array [chunks, {self.batch_size}]")
        if pending.size and (pending.min() < 0 or pending.max() >= self.curriculum.num_prompts):
            raise ValueError(f"sampler state pending holds prompt ids outside [0, {self.curriculum.num_prompts})")
        if any(np.unique(row).size != row.size for row in pending):
            raise ValueError("sampler state pending holds a chunk with a repeated prompt id")
        if int(sd["chunks_proposed"]) - int(sd["chunks_observed"]) != pending.shape[0]:
            raise ValueError(
                f"sampler state: {int(sd['chunks_proposed'])} chunks proposed and {int(sd['chunks_observed'])} "
                f"observed, but {pending.shape[0]} pending"
            )
        if ("window" in sd) != (self.window is not None):
            raise ValueError(
                "the checkpoint was made on a "
                + ("streamed" if "window" in sd else "map-style")
                + " train_dataset and this run's is not; resume with the dataset the run started with"
            )
        if self.window is not None:
            self.window.check_state(sd["window"])

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Load after the curriculum's state: the saved chunks become the core's pending ids (the same ids; a
        checkpoint of an earlier release kept them in the policy's order there)."""
        self.check_state(sd)
        if self.window is not None:  # first: a stream that changed is refused before anything is assigned here
            self.window.load_state_dict(sd["window"])  # re-reads the stream to where it was
        self.curriculum.pending = np.asarray(sd["pending"], dtype=np.int64).reshape(-1).copy()
        self.chunks_proposed = int(sd["chunks_proposed"])
        self.chunks_observed = int(sd["chunks_observed"])
        self._yielded = 0


def _in_order(part: np.ndarray, chunk: np.ndarray) -> bool:
    """Whether `part` is `chunk` with some of its ids left out, in the chunk's order."""
    it = iter(chunk.tolist())
    return all(any(v == c for c in it) for v in part.tolist())
