"""The curriculum as verl's training sampler: `VerlSampler` hands RayPPOTrainer's dataloader the dataset rows to
train on next and learns from each step's batch (`update(batch)`), over the framework-free `CurriculumDriver`
(curriculum/driver.py). Numpy only; verl, ray and torch are never imported here (tests/test_verl.py checks it
against fakes of verl's shapes). The recipe, and what is tested, is in docs/architecture.md, section "verl".

verl 0.5 to 0.7 (read in verl 0.7.1's source) build the sampler from the config and call `update` after each step:

    data.sampler.class_path=pkg://rl.verl data.sampler.class_name=VerlCurriculumSampler
    '+data.sampler.group_size=${actor_rollout_ref.rollout.n}' data.dataloader_num_workers=0

verl 0.8 and later (0.8.0 and 0.9.1 read) dropped that hook; RayPPOTrainer still takes `train_sampler` and calls
the dataset's `on_batch_end(batch=...)` after each step. Where your TaskRunner builds the trainer's sampler (verl's
`create_rl_sampler(config.data, train_dataset)`), call this module's instead, with the same two arguments and the same
`data.sampler.*` keys: it returns the sampler and sets `train_dataset.on_batch_end = sampler.update`:

    from rl.verl import create_rl_sampler
    trainer = RayPPOTrainer(..., train_dataset=train_dataset, train_sampler=create_rl_sampler(config.data, train_dataset))

The layout, batch_size=3 rows, rollout.n=2:

    sampler:   r7 r2 r5 | r4 r0 r9 | ...          one proposal of the curriculum = one dataloader batch
    verl:      r7 r7 r2 r2 r5 r5                  each row repeated n times in a row, one uid per row
    balanced:  r2 r5 r7 r7 r2 r5                  trainer.balance_batch reorders the responses across ranks
    update:    groups by uid -> row (the batch's `index`, the row's extra_info["index"]) and the group's n rewards
               (token_level_scores summed over the response) -> one step of the curriculum

The batch names its rows by `extra_info["index"]`, not by position: verl may drop rows (filter_overlong_prompts,
train_max_samples), so the sampler reads each row's index from the dataset once and maps it back to its position.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any

import numpy as np

from curriculum import CurriculumConfig
from curriculum.checkpoints import pool_fingerprint
from curriculum.driver import CurriculumDriver

GROUP_SIZE_FIX = "'+data.sampler.group_size=${actor_rollout_ref.rollout.n}'"
INDEX_FIX = "give each row extra_info={'index': i, ...} when writing the parquet (as verl's examples/data_preprocess do)"


@dataclass(frozen=True)
class SamplerSettings:
    """What the sampler needs beyond the dataset; under `data.sampler` of verl's config (the `+` keys)."""

    group_size: int
    """Responses per prompt: actor_rollout_ref.rollout.n."""
    batch_size: int
    """Rows a dataloader batch: verl's data.gen_batch_size, else data.train_batch_size."""
    curriculum: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """CurriculumConfig fields (policy, target, adaptive.retention, ...); the default: policy="adaptive"."""
    seed: int = 0
    """The curriculum's seed (default: data.seed, else 0)."""
    success_threshold: float | None = None
    """A response succeeds where its reward >= this (None: the curriculum config's success_threshold)."""
    reward_key: str = "token_level_scores"
    """Where a response's reward is: a key of batch.batch (summed over the response) or of non_tensor_batch (a
    reward_extra_info entry such as "acc")."""
    label_key: str | None = None
    """A difficulty label per row, the curriculum's prior: a key of the row's extra_info, or a column (None: no prior)."""
    features: str = "auto"
    """"auto" (text features of each row's prompt where there is no label_key), "text" or "none"."""
    prompt_key: str = "prompt"
    """The dataset column of the prompts (verl's data.prompt_key)."""

    @classmethod
    def from_verl(cls, data_config: Mapping[str, Any], **overrides: Any) -> SamplerSettings:
        """From verl's `config.data` (its `sampler` node and batch size); `overrides` (not None) win."""
        node = _plain(data_config.get("sampler") or {})
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(node) - set(names) - {"class_path", "class_name"})
        if unknown:
            raise ValueError(f"data.sampler.{unknown[0]}: not a setting of the curriculum sampler; its settings: {names}")
        given = {name: node[name] for name in names if node.get(name) is not None}
        given.setdefault("batch_size", data_config.get("gen_batch_size") or data_config.get("train_batch_size"))
        if data_config.get("seed") is not None:
            given.setdefault("seed", int(data_config.get("seed")))
        if data_config.get("prompt_key") is not None:
            given.setdefault("prompt_key", str(data_config.get("prompt_key")))
        given |= {k: v for k, v in overrides.items() if v is not None}
        if given.get("group_size") is None:
            raise ValueError(f"the curriculum sampler needs the responses per prompt: add {GROUP_SIZE_FIX}")
        if given.get("batch_size") is None:
            raise ValueError("the curriculum sampler needs the batch size: set data.train_batch_size")
        return cls(**given)


class VerlSampler:
    """Yields dataset positions, `batch_size` distinct ones a batch, as the curriculum proposes them; `update(batch)`
    folds each step's responses back in. verl calls it as `VerlSampler(data_source=..., data_config=...)`."""

    def __init__(
        self,
        data_source: Sized,
        data_config: Mapping[str, Any] | None = None,
        *,
        batch_size: int | None = None,
        group_size: int | None = None,
        labels: Sequence[Any] | None = None,
        config: CurriculumConfig | None = None,
        seed: int | None = None,
        success_threshold: float | None = None,
        reward_key: str | None = None,
    ) -> None:
        """`data_source`: verl's training dataset (its rows' extra_info["index"] are read from its `dataframe`);
        `labels`: a difficulty label per row (ints or names), else `label_key`'s. Keywords win over `data_config`."""
        over = dict(batch_size=batch_size, group_size=group_size, seed=seed, success_threshold=success_threshold)
        self.settings = s = SamplerSettings.from_verl(data_config or {}, **over, reward_key=reward_key)
        if (data_config or {}).get("dataloader_num_workers", 0):
            raise ValueError(
                "set data.dataloader_num_workers=0: loader workers draw batches ahead of the feedback, and torchdata "
                "restores a sampler from an older snapshot of its state"
            )
        self.num_rows = len(data_source)
        if not 1 <= s.batch_size <= self.num_rows:
            raise ValueError(f"batch_size must be in [1, {self.num_rows}] (the training rows), got {s.batch_size}")
        extra = _column(data_source, "extra_info")
        if extra is None and _columns(data_source):  # verl's dataset: a row without extra_info is index 0 in the batch
            raise ValueError(f"the training data has no extra_info column; {INDEX_FIX}")
        self._index_keys, self._index_rows = _index_map(extra, self.num_rows)
        has_prompts = s.prompt_key in _columns(data_source)
        self.driver = CurriculumDriver.for_pool(
            self.num_rows, s.group_size, s.batch_size,
            labels=labels if labels is not None else _labels(data_source, extra, s.label_key),
            features=s.features,
            prompts=(lambda: _column(data_source, s.prompt_key)) if has_prompts else None,  # read only if used
            config=config or CurriculumConfig.from_dict({"policy": "adaptive", **s.curriculum}),
            seed=s.seed, success_threshold=s.success_threshold,
            # the rows' identity, streamed through once (a state of other or reordered rows is refused)
            pool=pool_fingerprint(iter(data_source.dataframe[s.prompt_key]), canonical=True) if has_prompts else None,
        )  # fmt: skip
        self._queue: deque[int] = deque()  # proposed, not handed out yet
        self._yielded = 0  # rows handed out in this epoch

    # ---- handing rows out ---------------------------------------------------------------------------
    def __len__(self) -> int:
        """Rows an epoch: whole batches only (verl's dataloader drops the last partial one)."""
        return self.num_rows // self.settings.batch_size * self.settings.batch_size

    def __iter__(self) -> Iterator[int]:
        """The rest of this epoch (all of it, unless resumed midway); each batch proposed when the loader reaches it."""
        while self._yielded < len(self):
            if not self._queue:
                self._queue.extend(self.driver.propose(self.settings.batch_size).tolist())
            self._yielded += 1
            yield self._queue.popleft()
        self._yielded = 0  # the epoch is over: the next iteration starts the next one

    # ---- feedback -----------------------------------------------------------------------------------
    def update(self, batch: Any) -> None:
        """One step's batch (a DataProto): its responses grouped by `uid`, each group's rewards given to its row,
        folded in as one step of the curriculum (groups with no scorable response go back unlearned)."""
        rows = self._rows(batch)  # (B*n,) dataset position of each response
        rewards = _rewards(batch, self.settings.reward_key)  # (B*n,) NaN: unscorable (an aborted response)
        keys = batch.non_tensor_batch["uid"] if "uid" in batch.non_tensor_batch else rows
        _, first, group, sizes = np.unique(np.asarray(keys), return_index=True, return_inverse=True, return_counts=True)
        if (sizes != self.settings.group_size).any():
            raise ValueError(
                f"the batch holds groups of {sorted(set(sizes.tolist()))} responses, the sampler expects "
                f"{self.settings.group_size}: set data.sampler.group_size to actor_rollout_ref.rollout.n ({GROUP_SIZE_FIX})"
            )
        members = np.argsort(group, kind="stable").reshape(-1, self.settings.group_size)  # [U, n] responses a group
        members = members[np.argsort(first)]  # groups in the order the batch first holds them
        group_rows = rows[members]  # [U, n]
        if (group_rows != group_rows[:, :1]).any():
            raise ValueError("responses sharing a uid name different rows (extra_info['index']); each row's must be its own")
        if np.unique(group_rows[:, 0]).size != len(group_rows):  # rows handed out are distinct: one group a row
            raise ValueError(f"two prompts of the batch name the same row (extra_info['index']); {INDEX_FIX}")
        self._check_handed_out(group_rows[:, 0])
        for row, r in zip(group_rows[:, 0].tolist(), rewards[members].tolist(), strict=True):
            self.driver.observe_group(row, r)
        self.driver.flush()  # what is left of the batch (a batch of batch_size groups was one step already)

    def _rows(self, batch: Any) -> np.ndarray:
        """(B*n,) the dataset position of each response, from its `index` (the row's extra_info["index"])."""
        extra = batch.non_tensor_batch
        if "index" in extra:
            index = np.asarray(extra["index"])
        elif "extra_info" in extra:
            index = np.asarray([(e or {}).get("index") for e in extra["extra_info"]])
        else:
            raise ValueError(
                f"the batch has no 'index' nor 'extra_info' in non_tensor_batch (keys: {sorted(extra)}); {INDEX_FIX}"
            )
        if index.dtype.kind not in "iu":
            if any(i is None for i in index.tolist()):
                raise ValueError(f"a response's extra_info has no 'index'; {INDEX_FIX}")
            index = index.astype(np.int64)
        return self._position(index.astype(np.int64))

    def _position(self, index: np.ndarray) -> np.ndarray:
        """(M,) the rows whose extra_info["index"] are `index`; an index of no row: ValueError."""
        if self._index_keys is None:
            pos, bad = index, (index < 0) | (index >= self.num_rows)
        else:
            at = np.minimum(np.searchsorted(self._index_keys, index), self._index_keys.size - 1)
            pos, bad = self._index_rows[at], self._index_keys[at] != index
        if bad.any():
            raise ValueError(
                f"extra_info['index'] {sorted(set(index[bad].tolist()))[:5]} names no training row; {INDEX_FIX}"
            )
        return pos

    def _check_handed_out(self, rows: np.ndarray) -> None:
        waiting = np.isin(rows, self.driver.pending)
        if not waiting.all():
            raise ValueError(
                f"rows {rows[~waiting][:5].tolist()} were not handed out by this sampler, or were fed back already: the "
                "batch must come from the dataloader this sampler feeds, with each row's extra_info['index'] its own"
            )

    # ---- what a trainer logs and saves --------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """The curriculum's figures (`curriculum/<name>`); verl does not log them itself."""
        return self.driver.metrics()

    def state_dict(self) -> dict[str, Any]:
        """What torchdata's StatefulDataLoader saves with verl's checkpoint (data.pt)."""
        return {
            "driver": self.driver.state_dict(),
            "queue": np.array(list(self._queue), dtype=np.int64),  # proposed, not handed out yet
            "yielded": self._yielded,
            "batch_size": self.settings.batch_size,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a saved state. verl saves mid-step, after training on the step's batch and before `update`: a
        resumed run never gets that feedback, so rows handed out and not fed back leave `pending` (drawable again)."""
        if int(state["batch_size"]) != self.settings.batch_size:
            raise ValueError(
                f"the state was saved with batch_size={int(state['batch_size'])}, this sampler has "
                f"{self.settings.batch_size}"
            )
        self.driver.load_state_dict(state["driver"])
        self._queue = deque(int(i) for i in np.asarray(state["queue"]).tolist())
        self._yielded = int(state["yielded"]) % max(len(self), 1)  # saved in an epoch's last step: the next one starts
        self.driver.let_go(self._queue)


def create_rl_sampler(data_config: Mapping[str, Any], dataset: Any) -> VerlSampler:
    """verl >= 0.8: in place of verl's `create_rl_sampler(config.data, train_dataset)` (same arguments), the sampler
    for `RayPPOTrainer(train_sampler=...)`, fed back by the dataset's `on_batch_end(batch=...)`, which the trainer calls
    after every step (verl 0.8 and 0.9 call no sampler hook)."""
    sampler = VerlSampler(data_source=dataset, data_config=data_config)
    dataset.on_batch_end = sampler.update
    return sampler


def __getattr__(name: str) -> type:
    """`VerlCurriculumSampler`: `VerlSampler` as a subclass of verl's `AbstractCurriculumSampler` (verl 0.5-0.7 build
    only an `AbstractSampler` from the config and call `update` only on an `AbstractCurriculumSampler`), made on first
    use so that importing this module never imports verl."""
    if name != "VerlCurriculumSampler":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    except ImportError as e:
        raise ImportError(
            "VerlCurriculumSampler needs verl 0.5-0.7 (verl.experimental.dataset.sampler); with verl >= 0.8 build "
            "RayPPOTrainer(train_sampler=rl.verl.create_rl_sampler(config.data, train_dataset)) (docs/architecture.md, "
            "section verl)"
        ) from e
    cls = type(name, (VerlSampler, AbstractCurriculumSampler), {"__module__": __name__, "__doc__": VerlSampler.__doc__})
    globals()[name] = cls  # made once
    return cls


def _rewards(batch: Any, key: str) -> np.ndarray:
    """(B*n,) float64: each response's reward, NaN where it is not scorable (an aborted response: no token)."""
    if key in batch.non_tensor_batch:
        values = np.asarray([np.nan if v is None else float(v) for v in batch.non_tensor_batch[key]])
    elif key in batch.batch.keys():
        values = _numpy(batch.batch[key]).astype(np.float64)
        values = values.reshape(values.shape[0], -1).sum(axis=1)  # (B*n, L) token-level -> (B*n,)
    else:
        raise ValueError(
            f"the batch has no {key!r} (batch: {sorted(batch.batch.keys())}, non_tensor_batch: "
            f"{sorted(batch.non_tensor_batch)}); set data.sampler.reward_key"
        )
    if "response_mask" in batch.batch.keys():
        values[_numpy(batch.batch["response_mask"]).reshape(values.size, -1).sum(axis=1) == 0] = np.nan
    return values


def _numpy(x: Any) -> np.ndarray:
    """A torch tensor (read without importing torch) or an array as a numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().float().numpy()
    return np.asarray(x)


def _columns(data_source: Any) -> list[str]:
    """The column names of verl's RLHFDataset (its `dataframe`, a datasets.Dataset); none for other data."""
    frame = getattr(data_source, "dataframe", None)
    if frame is None:
        return []
    return list(getattr(frame, "column_names", None) or frame.keys())


def _column(data_source: Any, name: str) -> list[Any] | None:
    """A column of verl's RLHFDataset, or None where there is none."""
    return list(data_source.dataframe[name]) if name in _columns(data_source) else None


def _index_map(extra: list[Any] | None, num_rows: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(sorted extra_info indices (M,), the row of each (M,)), or (None, None) where the index is the row's position
    (a dataset without extra_info, or one whose indices are 0..N-1 in order)."""
    if extra is None:
        return None, None
    index = [(e or {}).get("index") for e in extra]
    if any(i is None for i in index):
        row = next(r for r, i in enumerate(index) if i is None)
        raise ValueError(f"training row {row} has no extra_info['index']; {INDEX_FIX}")
    index_arr = np.asarray(index, dtype=np.int64)  # (N,)
    if np.array_equal(index_arr, np.arange(num_rows)):
        return None, None
    order = np.argsort(index_arr, kind="stable")
    keys = index_arr[order]
    if keys.size > 1 and (keys[1:] == keys[:-1]).any():
        twice = int(keys[1:][keys[1:] == keys[:-1]][0])
        raise ValueError(
            f"extra_info['index'] {twice} is on two training rows (several train_files, each numbered from 0?): the "
            "batch names a row by it alone; number the rows across all the training files"
        )
    return keys, order.astype(np.int64)


def _labels(data_source: Any, extra: list[Any] | None, key: str | None) -> list[Any] | None:
    """Each row's difficulty label from its extra_info[key], or the column `key`."""
    if key is None:
        return None
    if extra is not None and all(key in (e or {}) for e in extra):
        return [e[key] for e in extra]
    column = _column(data_source, key)
    if column is None:
        raise ValueError(f"data.sampler.label_key={key!r} is neither in every row's extra_info nor a column")
    return column


def _plain(node: Any) -> Any:
    """An omegaconf node (or any mapping / list) as plain dicts and lists."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple) or type(node).__name__ == "ListConfig":
        return [_plain(v) for v in node]
    return node
