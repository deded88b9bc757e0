"""verl's training sampler over the middle (rl/verl.py), checked against fakes of verl's shapes without verl, Ray or
vLLM: a DataProto (batch / non_tensor_batch dicts), RLHFDataset's `dataframe`, the dataloader's batching and state
(torchdata 0.11's, num_workers=0), one step of RayPPOTrainer.fit as far as the batch the sampler sees, and verl 0.7.1's
sampler classes; torch's own DataLoader once, where torch is installed. Shapes read in verl 0.7.1, 0.8.0 and 0.9.1
(docs/architecture.md, section verl)."""

from __future__ import annotations

import copy
import importlib
import inspect
import itertools
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pytest

from curriculum import state_hash
from curriculum.text_features import TEXT_DIM
from rl.verl import VerlSampler, create_rl_sampler

ROOT = Path(__file__).resolve().parents[1]
N, BATCH, GROUP, LENGTH = 48, 8, 4, 5  # rows, rows a batch, rollout.n, response tokens


@dataclass
class Proto:
    """verl's DataProto as the sampler reads it: tensors in `batch`, object arrays in `non_tensor_batch`."""

    batch: dict[str, Any]
    non_tensor_batch: dict[str, np.ndarray]
    meta_info: dict[str, Any] = field(default_factory=dict)


class Tensor:
    """What the sampler calls of a torch tensor (detach, cpu, float, numpy), over a numpy array."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def detach(self) -> Tensor:
        return self

    def cpu(self) -> Tensor:
        return self

    def float(self) -> Tensor:
        return Tensor(self.a.astype(np.float32))

    def numpy(self) -> np.ndarray:
        return self.a


class Dataset:
    """RLHFDataset as the sampler reads it: len and `dataframe` columns; row i carries extra_info index 3i + 1 (verl
    dropped rows before: filter_overlong_prompts, train_max_samples), and a level (0 easy, 1 hard)."""

    def __init__(self, n: int = N, stride: int = 3) -> None:
        self.dataframe = {
            "prompt": [f"q{i}" for i in range(n)],
            "extra_info": [{"index": stride * i + 1, "level": i % 2} for i in range(n)],
        }

    def __len__(self) -> int:
        return len(self.dataframe["extra_info"])


class _Sized:
    """A dataset of the given columns (RLHFDataset's `dataframe`), its length that of the first."""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        self.dataframe = columns

    def __len__(self) -> int:
        return len(next(iter(self.dataframe.values())))


class Loader:
    """verl's StatefulDataLoader (drop_last, num_workers=0) as torchdata 0.11's _BatchSamplerIterator drives a sampler:
    `batch_size` consecutive indices of iter(sampler) a batch; its state holds the sampler's, and a restored loader
    iterates a fresh iter(sampler) after load_state_dict."""

    def __init__(self, sampler: VerlSampler, batch_size: int = BATCH) -> None:
        self.sampler, self.batch_size = sampler, batch_size

    def __len__(self) -> int:
        return len(self.sampler) // self.batch_size

    def __iter__(self):
        it = iter(self.sampler)
        while len(batch := list(itertools.islice(it, self.batch_size))) == self.batch_size:
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return {"sampler_state": copy.deepcopy(self.sampler.state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state["sampler_state"])


def verl_step(dataset: Dataset, rows: list[int], scores: np.ndarray, seed: int = 0, index_key: bool = True) -> Proto:
    """The batch RayPPOTrainer.fit hands `update` after a step: each row's non-tensor fields (collate_fn), a uid per
    row, every row repeated n times in a row (DataProto.repeat, interleave), the score on each response's last token
    (token_level_scores), then the responses shuffled (balance_batch). `scores`: (B*n,) in the repeated order."""
    extra = np.array([dataset.dataframe["extra_info"][r] for r in rows], dtype=object)
    fields = {"extra_info": extra, "uid": np.array([f"uid-{seed}-{r}" for r in rows], dtype=object)}
    if index_key:  # present when the agent loop hands the input's fields back (no reward-loop workers)
        fields["index"] = np.array([e["index"] for e in extra], dtype=object)
    repeated = {k: np.repeat(v, GROUP) for k, v in fields.items()}
    token_scores = np.zeros((len(rows) * GROUP, LENGTH), dtype=np.float32)
    token_scores[:, -1] = scores
    order = np.random.default_rng(seed).permutation(len(rows) * GROUP)
    batch = {"token_level_scores": Tensor(token_scores[order]), "response_mask": np.ones((order.size, LENGTH))}
    return Proto(batch, {k: v[order] for k, v in repeated.items()})


def sampler(dataset: Dataset | None = None, **settings: Any) -> VerlSampler:
    data_config = {"train_batch_size": BATCH, "sampler": {"group_size": GROUP, "label_key": "level", **settings}}
    return VerlSampler(data_source=dataset or Dataset(), data_config=data_config)


def level_scores(dataset: Dataset, rows: list[int]) -> np.ndarray:
    """(B*n,) hard rows never succeed, easy ones half the time."""
    return np.concatenate([[0.0] * GROUP if r % 2 else [1.0, 0.0] * (GROUP // 2) for r in rows])


def run(loader: Loader, dataset: Dataset, steps: int, start: int = 0) -> list[list[int]]:
    """`steps` steps of the fit loop over epochs: draw a batch, score it, update; the rows of each batch."""
    drawn: list[list[int]] = []
    for epoch in itertools.count():
        for rows in loader:
            loader.sampler.update(verl_step(dataset, rows, level_scores(dataset, rows), seed=start + len(drawn)))
            drawn.append(rows)
            if len(drawn) == steps:
                return drawn
        assert epoch < 100


def test_the_sampler_hands_out_whole_batches_of_distinct_rows_one_index_a_prompt() -> None:
    dataset = Dataset(n=N + 5)  # 5 rows fewer than a batch: the loader drops them each epoch
    s = sampler(dataset)
    loader = Loader(s)
    assert len(s) == N and len(loader) == N // BATCH
    epochs = [list(loader) for _ in range(2)]
    for batches in epochs:
        assert len(batches) == N // BATCH
        for rows in batches:
            assert len(set(rows)) == BATCH and all(0 <= r < N + 5 for r in rows), "distinct rows of the dataset"
    assert s.driver.pending.size == 2 * N, "each batch proposed once, awaiting its feedback"
    proto = verl_step(dataset, epochs[0][0], np.zeros(BATCH * GROUP))
    assert len(proto.non_tensor_batch["uid"]) == BATCH * GROUP, "verl repeats each index n times, not the sampler"


def test_update_gives_each_response_its_rows_reward_whatever_the_order_of_the_batch() -> None:
    dataset = Dataset()
    s = sampler(dataset, success_threshold=1.0)
    rows = next(iter(Loader(s)))
    wins = [i % (GROUP + 1) for i in range(BATCH)]  # successes of each row's n responses; rows[0] has none
    scores = np.concatenate([[1.0] * w + [0.2] * (GROUP - w) for w in wins])
    proto = verl_step(dataset, rows, scores, index_key=False)  # the index read from extra_info
    aborted = np.flatnonzero(proto.non_tensor_batch["uid"] == f"uid-0-{rows[0]}")[0]
    proto.batch["response_mask"][aborted] = 0  # a response with no token
    s.update(proto)
    tracker = s.driver.curriculum.tracker
    assert tracker.attempts[rows].tolist() == [GROUP - 1] + [GROUP] * (BATCH - 1), "an aborted response is unscored"
    assert tracker.succ[rows].tolist() == wins
    assert s.driver.curriculum.step == 1 and s.driver.pending.size == 0, "one step; nothing left waiting"


def test_a_reward_extra_info_key_can_decide_success_instead_of_the_summed_score() -> None:
    dataset = Dataset()
    s = sampler(dataset, reward_key="acc")
    rows = next(iter(Loader(s)))
    proto = verl_step(dataset, rows, np.ones(BATCH * GROUP))  # shaped scores all 1.0 ...
    proto.non_tensor_batch["acc"] = np.zeros(BATCH * GROUP)  # ... but no answer right
    s.update(proto)
    assert s.driver.curriculum.tracker.succ[rows].sum() == 0 and s.driver.curriculum.tracker.attempts[rows].min() == GROUP


def test_the_curriculum_learns_to_leave_hopeless_rows_alone() -> None:
    dataset = Dataset()
    hard_share = {}
    for policy in ("adaptive", "uniform"):
        s = sampler(dataset, curriculum={"policy": policy})
        late = [r for rows in run(Loader(s), dataset, steps=14)[8:] for r in rows]
        hard_share[policy] = sum(r % 2 for r in late) / len(late)
    assert hard_share["adaptive"] < 0.2 < 0.3 < hard_share["uniform"], f"hard rows (never solved): {hard_share}"
    metrics = s.metrics()
    assert metrics["curriculum/observed_rollouts"] == 14 * BATCH * GROUP and metrics["curriculum/pending"] == 0


def test_a_checkpoint_between_steps_resumes_identically_across_an_epoch_end() -> None:
    dataset = Dataset(n=3 * BATCH)  # 3 batches an epoch
    a = Loader(sampler(dataset))
    run(a, dataset, steps=2)
    state = a.state_dict()
    b = Loader(sampler(dataset))
    b.load_state_dict(state)
    rest_a, rest_b = run(a, dataset, steps=5, start=2), run(b, dataset, steps=5, start=2)
    assert rest_a == rest_b, "the same rows, batch by batch: the epoch's last batch, then the next epochs"
    assert state_hash(a.sampler.driver.curriculum.state_dict()) == state_hash(b.sampler.driver.curriculum.state_dict())


def test_a_checkpoint_of_another_dataset_is_refused_naming_it() -> None:
    """The state holds the rows' identity: a resume on a reordered or regenerated dataset of the same size would give
    the curriculum's per-row estimates to other prompts."""
    dataset = Dataset(n=3 * BATCH)
    a = Loader(sampler(dataset))
    run(a, dataset, steps=1)
    state = a.state_dict()
    shuffled = Dataset(n=3 * BATCH)
    shuffled.dataframe["prompt"] = shuffled.dataframe["prompt"][::-1]
    with pytest.raises(ValueError, match="another training pool: the same prompts in another order.*resume with the"):
        Loader(sampler(shuffled)).load_state_dict(state)
    other = Dataset(n=3 * BATCH)
    other.dataframe["prompt"] = [p + "?" for p in other.dataframe["prompt"]]
    with pytest.raises(ValueError, match="another training pool: other prompts"):
        Loader(sampler(other)).load_state_dict(state)


def test_a_checkpoint_saved_in_an_epochs_last_step_resumes_with_the_next_epoch() -> None:
    """verl's fit saves within a step: in an epoch's last one the sampler has handed out the whole epoch, and the
    restored loader's first iteration must be the next epoch, not an empty one (which verl would count as an epoch)."""
    dataset = Dataset(n=3 * BATCH)  # 3 batches an epoch
    a = Loader(sampler(dataset))
    run(a, dataset, steps=2)
    it = iter(a)
    last = next(it)  # the epoch's last batch; the loader has not asked for more
    a.sampler.update(verl_step(dataset, last, level_scores(dataset, last), seed=2))
    state = a.state_dict()
    b = Loader(sampler(dataset))
    b.load_state_dict(state)
    assert list(it) == [], "the uninterrupted run's epoch ends there"
    assert [len(rows) for rows in b] == [BATCH] * 3, "the restored loader's first iteration is a whole epoch"


def test_a_checkpoint_saved_mid_step_as_verl_saves_lets_the_batch_in_flight_go() -> None:
    """verl saves after training on a batch and before `update`: the resumed run never gets that batch's feedback."""
    dataset = Dataset(n=3 * BATCH)
    a = Loader(sampler(dataset))
    run(a, dataset, steps=1)
    it = iter(a)
    in_flight = next(it)
    state = a.state_dict()
    b = Loader(sampler(dataset))
    b.load_state_dict(state)
    assert b.sampler.driver.pending.size == 0, "rows handed out before the save may be drawn again"
    with pytest.raises(ValueError, match="not handed out by this sampler"):
        b.sampler.update(verl_step(dataset, in_flight, np.zeros(BATCH * GROUP)))
    assert len(list(b)) == 1, "the restored epoch has one batch left"
    with pytest.raises(ValueError, match="batch_size=8, this sampler has 4"):
        sampler(dataset, batch_size=4).load_state_dict(state["sampler_state"])


def test_errors_name_the_fix() -> None:
    dataset = Dataset()
    s = sampler(dataset)
    rows = next(iter(Loader(s)))
    proto = verl_step(dataset, rows, np.zeros(BATCH * GROUP))
    bare = Proto(proto.batch, {"uid": proto.non_tensor_batch["uid"]})
    with pytest.raises(ValueError, match=r"no 'index' nor 'extra_info'.*extra_info=\{'index': i"):
        s.update(bare)
    wrong = verl_step(dataset, rows, np.zeros(BATCH * GROUP))
    wrong.non_tensor_batch["index"] = np.zeros(BATCH * GROUP, dtype=object)  # verl's default without extra_info index
    with pytest.raises(ValueError, match=r"\[0\] names no training row"):
        s.update(wrong)
    short = verl_step(dataset, rows, np.zeros(BATCH * GROUP))
    short.batch.pop("token_level_scores")
    with pytest.raises(ValueError, match="no 'token_level_scores'.*data.sampler.reward_key"):
        s.update(short)
    with pytest.raises(ValueError, match="groups of \\[4\\] responses, the sampler expects 2.*rollout.n"):
        sampler(dataset, group_size=2).update(proto)
    with pytest.raises(ValueError, match=r"'\+data.sampler.group_size=\$\{actor_rollout_ref.rollout.n\}'"):
        VerlSampler(dataset, {"train_batch_size": BATCH})
    twice = verl_step(dataset, rows, np.zeros(BATCH * GROUP))
    first = twice.non_tensor_batch["index"][0]
    twice.non_tensor_batch["index"] = np.array([first] * (BATCH * GROUP), dtype=object)  # every prompt names one row
    with pytest.raises(ValueError, match=r"two prompts of the batch name the same row.*extra_info=\{'index': i"):
        s.update(twice)
    with pytest.raises(ValueError, match=r"data.sampler.lable_key: not a setting.*'label_key'"):
        sampler(dataset, lable_key="level")
    no_extra = _Sized({"prompt": Dataset().dataframe["prompt"]})  # verl would give every row index 0
    with pytest.raises(ValueError, match=r"no extra_info column.*extra_info=\{'index': i"):
        VerlSampler(data_source=no_extra, data_config={"train_batch_size": BATCH, "sampler": {"group_size": GROUP}})
    dataset.dataframe["extra_info"][5] = {"index": 1, "level": 1}  # row 0's
    with pytest.raises(ValueError, match="1 is on two training rows.*number the rows across all the training files"):
        sampler(dataset)
    dataset.dataframe["extra_info"][5] = {"level": 1}
    with pytest.raises(ValueError, match=r"training row 5 has no extra_info\['index'\]"):
        sampler(dataset)


T = TypeVar("T")


def fake_verl(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """verl.experimental.dataset.sampler as in verl 0.7.1 (torch's Sampler[int] stood in for by Generic[int])."""

    class Sampler(Generic[T]):
        def __iter__(self):
            raise NotImplementedError

    class AbstractSampler(Sampler[int]):
        def __init__(self, data_source: Any, data_config: Any) -> None:
            pass

    class AbstractCurriculumSampler(AbstractSampler):
        def update(self, batch: Any) -> None:
            pass

    module = types.ModuleType("verl.experimental.dataset.sampler")
    module.AbstractSampler, module.AbstractCurriculumSampler = AbstractSampler, AbstractCurriculumSampler
    for name in ("verl", "verl.experimental", "verl.experimental.dataset"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_verl_builds_it_from_its_config_and_calls_its_update(monkeypatch: pytest.MonkeyPatch) -> None:
    verl = fake_verl(monkeypatch)
    data_config = {
        "train_batch_size": BATCH,
        "dataloader_num_workers": 0,
        "sampler": {"class_path": "pkg://rl.verl", "class_name": "VerlCurriculumSampler", "group_size": GROUP},
    }
    # verl 0.7.1 create_rl_sampler: load_extern_object(class_path, class_name), then built with two keywords
    module = importlib.import_module(data_config["sampler"]["class_path"].removeprefix("pkg://"))
    module.__dict__.pop("VerlCurriculumSampler", None)  # made against the fake below, dropped after
    assert hasattr(module, data_config["sampler"]["class_name"])
    cls = getattr(module, data_config["sampler"]["class_name"])
    s = cls(data_source=Dataset(), data_config=data_config)
    assert isinstance(s, verl.AbstractSampler) and isinstance(s, verl.AbstractCurriculumSampler)
    assert list(inspect.signature(s.update).parameters) == ["batch"], "called as sampler.update(batch=batch)"
    dataset = Dataset()
    rows = next(iter(Loader(s)))
    s.update(batch=verl_step(dataset, rows, np.ones(BATCH * GROUP)))
    assert s.driver.curriculum.step == 1
    module.__dict__.pop("VerlCurriculumSampler")
    monkeypatch.setitem(sys.modules, "verl.experimental.dataset.sampler", None)  # verl >= 0.8 has no such module
    with pytest.raises(ImportError, match=r"verl >= 0.8 build RayPPOTrainer\(train_sampler=rl.verl.create_rl_sampler"):
        module.VerlCurriculumSampler  # noqa: B018


def test_with_verl_0_8_its_create_rl_sampler_feeds_back_through_the_datasets_batch_end_hook() -> None:
    """verl >= 0.8: RayPPOTrainer(train_sampler=...), and `train_dataset.on_batch_end(batch=batch)` after each step."""
    dataset = Dataset()
    s = create_rl_sampler({"train_batch_size": BATCH, "sampler": {"group_size": GROUP}}, dataset)
    rows = next(iter(Loader(s)))
    dataset.on_batch_end(batch=verl_step(dataset, rows, np.ones(BATCH * GROUP)))
    assert s.driver.curriculum.tracker.succ[rows].tolist() == [GROUP] * BATCH
    with pytest.raises(ValueError, match="set data.dataloader_num_workers=0"):
        create_rl_sampler({"train_batch_size": BATCH, "dataloader_num_workers": 8, "sampler": {"group_size": 4}}, dataset)


def test_importing_it_needs_neither_verl_nor_ray_nor_torch_nor_vllm() -> None:
    code = (
        "import sys\nfor m in ('verl', 'ray', 'torch', 'vllm', 'torchdata'): sys.modules[m] = None\n"
        "import rl.verl\nprint('ok', rl.verl.VerlSampler.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok VerlSampler", out.stderr[-2000:]


def test_torchs_dataloader_batches_it_as_verls_stateful_dataloader_does() -> None:
    """verl's StatefulDataLoader is torch's DataLoader (sampler=..., drop_last=True): an epoch of whole batches."""
    data = pytest.importorskip("torch.utils.data")
    dataset = Dataset(n=N + 3)
    s = sampler(dataset)
    loader = data.DataLoader(list(range(N + 3)), batch_size=BATCH, sampler=s, drop_last=True, collate_fn=list)
    assert len(loader) == N // BATCH
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == N // BATCH and all(len(set(rows)) == BATCH for rows in batches)
        for i, rows in enumerate(batches):
            s.update(verl_step(dataset, rows, level_scores(dataset, rows), seed=i))
    assert s.driver.curriculum.step == 2 * N // BATCH and s.driver.pending.size == 0


def test_without_a_label_key_unseen_rows_are_predicted_from_their_prompts_text() -> None:
    features = lambda s: s.driver.curriculum.ability.features  # noqa: E731
    data_config = {"train_batch_size": BATCH, "sampler": {"group_size": GROUP}}
    assert features(VerlSampler(data_source=Dataset(), data_config=data_config)).dim == TEXT_DIM
    assert features(sampler()) is None  # labels (label_key=level): none
    chats = Dataset()
    chats.dataframe["question"] = [[{"role": "user", "content": p}] for p in chats.dataframe["prompt"]]
    del chats.dataframe["prompt"]
    text = VerlSampler(data_source=chats, data_config={**data_config, "prompt_key": "question"})
    assert features(text).dim == TEXT_DIM  # verl's data.prompt_key, chat messages
    assert features(VerlSampler(data_source=chats, data_config=data_config)) is None  # no "prompt" column: none
