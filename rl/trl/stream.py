"""StreamWindow: a bounded rolling window of streamed prompts (a `datasets.IterableDataset`) for the curriculum.

The curriculum runs over W slot ids (`Curriculum(W, ...)`); slot s holds one streamed row at a time. A prompt
leaves its slot once trained on (its generation step observed) or judged out of reach (`Curriculum.
judged_out_of_reach`, the walk passing over it on its label's or prior's evidence); the next rows of the stream
take the freed slots, in slot order, and the core forgets the slots' own state (`Curriculum.replace`) while the
ability and the populations stay. The trainer's data loader reads rows by slot through `view` (map-style; the rows
change as slots refill, at those two points of a step: after a chunk's observe, a re-used micro-step's copy of that
chunk may read the new rows, which TRL discards, as it discards those copies' rows):

    window = StreamWindow(stream, size=4096, prior_column=None)   # reads the first 4096 rows (fewer: the stream)
    cur = Curriculum(window.size, config, seed=0, prior=window.prior())
    window.attach(cur)
    window.view[slot]            # the row in that slot now
    window.refill(slots)         # these prompts leave; the stream's next rows take their slots
    sd = window.state_dict()     # slot -> stream position, rows consumed, stream length once known
    window.load_state_dict(sd)   # re-reads the stream up to where it was (O(rows consumed in this pass))

The stream ending: like GRPOTrainer, which re-iterates an exhausted IterableDataset until max_steps, the window
starts the stream again (a new pass, the same order). A row whose prompt the window still holds (one that stayed a
whole pass) is passed over, so no prompt is in two slots. A stream of at most W rows is a window of its length that
holds the whole pool: nothing leaves it (`holds_all`), and the curriculum chooses from it as from a map-style pool. A row's
position is its index in the pass, so a resumed run re-reads one pass at most and checks each slot's prompt against
the saved key (a stream that changed is refused). Every rank holds its own window and reads the whole stream in the
same order (no `split_dataset_by_node`): the slots hold the same rows on every rank, as the row check verifies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from curriculum import Curriculum
from curriculum.checkpoints import prompt_key


class WindowView:
    """The window as a map-style dataset: `view[slot]` is the row in that slot now; `len(view)` the slots."""

    def __init__(self, window: StreamWindow) -> None:
        self._window = window

    def __len__(self) -> int:
        return self._window.size

    def __getitem__(self, slot: int) -> dict[str, Any]:
        return self._window.rows[slot]


class StreamWindow:
    def __init__(self, stream: Any, size: int, prior_column: str | None = None) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"curriculum_stream_window must be an int >= 1, got {size!r}")
        self.stream, self.prior_column = stream, prior_column
        self.consumed = 0  # rows read from the stream, all passes: the position of the next row
        self.length: int | None = None  # rows in one pass, once a pass ended
        self._rows: Iterator[dict[str, Any]] = iter(stream)
        self._ahead: dict[str, Any] | None = None  # a row read but not taken yet (the look past the first window)
        first = []
        for _ in range(size):  # a stream shorter than the window: a window of its length
            row = self._next_row(new_pass=False)
            if row is None:
                break
            first.append(row)
        if not first:
            raise ValueError("the streamed train_dataset yields no rows")
        if self.length is None:  # does the stream go on past the window? (a stream of exactly W rows holds all)
            self._ahead = next(self._rows, None)
            if self._ahead is None:
                self.length = self.consumed
        self.size = len(first)
        self.rows: list[dict[str, Any]] = first  # [W] the row in each slot
        self.positions = np.arange(self.size, dtype=np.int64)  # [W] stream position of each slot's row
        self.keys = np.array([prompt_key(r["prompt"]) for r in first], dtype=np.uint64)  # [W] prompt keys
        self._held = Counter(self.keys.tolist())  # key -> slots holding it (a repeat in the stream itself: 2)
        self._label_names = self._names(first)  # string labels -> ids, fixed by the first window
        self.view = WindowView(self)
        self.curriculum: Curriculum | None = None
        self.refilled = 0  # prompts that left the window (the rows streamed in after the first window)

    # ---- reading the stream -------------------------------------------------------------------------
    def _next_row(self, new_pass: bool = True) -> dict[str, Any] | None:
        """The stream's next row (None where a pass ended and `new_pass` is False); checks it has a prompt."""
        try:
            if self._ahead is not None:
                row, self._ahead = self._ahead, None
            else:
                row = next(self._rows)
        except StopIteration:
            if self.length is None:
                self.length = self.consumed
            if not new_pass or self.length == 0:
                return None
            self._rows = iter(self.stream)  # a new pass, as GRPOTrainer re-iterates an exhausted stream
            row = next(self._rows)
        if "prompt" not in row:
            raise ValueError(
                f"streamed row {self.consumed} has no 'prompt' column (columns: {sorted(row)}); rename yours with "
                "stream.rename_column('question', 'prompt')"
            )
        self.consumed += 1
        return row

    def _names(self, rows: list[dict[str, Any]]) -> list[str] | None:
        """The first window's label names, sorted, where the prior column holds strings (None otherwise)."""
        values = [self._prior_value(r, i) for i, r in enumerate(rows)] if self.prior_column else []
        return sorted(set(values)) if values and isinstance(values[0], str) else None

    def _prior_value(self, row: dict[str, Any], where: int) -> Any:
        if self.prior_column not in row:
            raise ValueError(
                f"curriculum_prior_column={self.prior_column!r} is not a column of the streamed rows ({sorted(row)}); "
                "add it or set curriculum_prior_column=None"
            )
        value = row[self.prior_column]
        if value is None:
            raise ValueError(f"curriculum_prior_column {self.prior_column!r} is missing in streamed row {where}; fill it")
        return value

    def prior(self, slots: np.ndarray | None = None) -> np.ndarray | None:
        """(len(slots),) the prior of the rows at `slots` (all slots: None) as numbers, or None without a prior column.
        String labels map to their index among the first window's names; one it did not hold is refused."""
        if self.prior_column is None:
            return None
        slots = np.arange(self.size) if slots is None else slots
        values = [self._prior_value(self.rows[s], int(self.positions[s])) for s in slots.tolist()]
        if self._label_names is None:
            return np.asarray(values, dtype=np.float64)
        index = {name: i for i, name in enumerate(self._label_names)}
        unknown = sorted({str(v) for v in values if v not in index})
        if unknown:
            raise ValueError(
                f"streamed labels {unknown[:5]} were not among the first window's ({self._label_names[:10]}); the "
                "curriculum's labels are fixed when it starts: raise curriculum_stream_window so that the first "
                "window holds every label, or map the labels to numbers known up front"
            )
        return np.array([index[v] for v in values], dtype=np.float64)

    # ---- the window moves ---------------------------------------------------------------------------
    @property
    def holds_all(self) -> bool:
        """The stream has at most as many rows as the window: every one is in it, and none ever leaves."""
        return self.length is not None and self.length <= self.size

    def attach(self, curriculum: Curriculum) -> None:
        if curriculum.num_prompts != self.size:
            raise ValueError(f"the curriculum has {curriculum.num_prompts} prompts, the window {self.size} slots")
        self.curriculum = curriculum

    def refill(self, slots: Any) -> None:
        """The prompts at `slots` leave; the stream's next rows take those slots (in the order given), passing over a
        row whose prompt the window still holds, and the curriculum forgets them (`Curriculum.replace`). A window that
        holds the whole stream keeps its prompts (nothing to take in)."""
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0 or self.holds_all:
            return
        assert self.curriculum is not None, "attach a curriculum first"
        held = self._held
        for key in self.keys[slots].tolist():
            held[key] -= 1
        for s in slots.tolist():
            row, key = self._next_fresh_row()
            self.rows[s], self.positions[s], self.keys[s] = row, self.consumed - 1, key
            held[key] += 1
        self.refilled += slots.size
        self.curriculum.replace(slots, prior=self.prior(slots))

    def _next_fresh_row(self) -> tuple[dict[str, Any], int]:
        """The stream's next row whose prompt no slot holds, and its key; after a whole pass of held ones (a stream
        that repeats its prompts), the next row as it is."""
        passed = 0
        while self.length is None or passed < self.length:
            row = self._next_row()  # never None: an exhausted stream starts again
            key = prompt_key(row["prompt"])  # type: ignore[index]
            if self._held[key] <= 0:
                return row, key  # type: ignore[return-value]
            passed += 1
        row = self._next_row()
        return row, prompt_key(row["prompt"])  # type: ignore[index,return-value]

    # ---- checkpoint ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "positions": self.positions.copy(),  # [W] int64
            "keys": self.keys.copy(),  # [W] uint64
            "consumed": self.consumed,
            "length": -1 if self.length is None else self.length,
            "refilled": self.refilled,
        }

    def check_state(self, sd: dict[str, Any]) -> None:
        """Raise ValueError naming the problem unless `sd` is a window state of this size; assigns nothing."""
        missing = sorted({"positions", "keys", "consumed", "length", "refilled"} - set(sd))
        if missing:
            raise ValueError(f"stream window state lacks {missing}")
        positions, keys = sd["positions"], sd["keys"]
        if not isinstance(positions, np.ndarray) or positions.shape != (self.size,) or positions.dtype.kind not in "iu":
            raise ValueError(
                f"stream window state: positions must be {self.size} ints (one per slot); was the window "
                "(curriculum_stream_window) or the stream changed?"
            )
        if not isinstance(keys, np.ndarray) or keys.shape != (self.size,):
            raise ValueError(f"stream window state: keys must hold {self.size} prompt keys")
        consumed = int(sd["consumed"])
        if positions.size and (positions.min() < 0 or positions.max() >= consumed):
            raise ValueError("stream window state: positions must lie in [0, consumed)")

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Re-read the stream to where the saved window was: each slot's row (checked against its saved key) and the
        next row to stream. Refused, assigning nothing, where the stream no longer holds those prompts."""
        self.check_state(sd)
        positions, keys = np.asarray(sd["positions"], np.int64), np.asarray(sd["keys"], np.uint64)
        consumed, length = int(sd["consumed"]), int(sd["length"])
        offsets = positions % length if length > 0 else positions  # index of each slot's row in its pass
        resume_at = consumed % length if length > 0 else consumed
        wanted: dict[int, list[int]] = {}  # row index in its pass -> the slots holding it
        for slot, offset in enumerate(offsets.tolist()):
            wanted.setdefault(offset, []).append(slot)
        rows: list[dict[str, Any]] = [{}] * self.size
        live = iter(self.stream)  # after the first `resume_at` rows: the stream's next row is the next to refill
        self._collect(live, resume_at, wanted, rows, keys)
        older = {i: slots for i, slots in wanted.items() if i >= resume_at}  # rows of the previous pass, still held
        if older:
            self._collect(iter(self.stream), max(older) + 1, older, rows, keys)
        self.rows = rows
        self.positions[...], self.keys[...] = positions, keys  # in place: the trainer's row check reads `keys`
        self._rows, self.consumed, self._ahead = live, consumed, None
        self._held = Counter(keys.tolist())
        self.length = None if length < 0 else length
        self.refilled = int(sd["refilled"])
        if self.curriculum is not None:
            self.curriculum.set_prior(np.arange(self.size), self.prior())

    @staticmethod
    def _collect(
        rows_in: Iterator[dict[str, Any]], count: int, wanted: dict[int, list[int]], rows: list, keys: np.ndarray
    ) -> None:
        """Read the first `count` rows of a pass, putting each wanted one in its slots after checking its key."""
        for index in range(count):
            row = next(rows_in, None)
            if row is None:
                raise ValueError(
                    f"the stream ended at row {index}, before row {count - 1} that the checkpoint's window read: "
                    "resume with the stream the run started with"
                )
            for slot in wanted.get(index, ()):
                if prompt_key(row["prompt"]) != int(keys[slot]):
                    raise ValueError(
                        f"streamed row {index} is not the prompt the checkpoint's window held in slot {slot}: the "
                        "stream changed since the checkpoint; resume with the stream the run started with"
                    )
                rows[slot] = row
