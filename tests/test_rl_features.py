"""curriculum_features in the drop-in: text features (numpy, computed once), a dataset column of vectors, the policy's
hidden state (for the prompts asked about, forgetting), each checked before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import TOKENIZER, tiny_model, toy_args
from datasets import Dataset
from test_rl_trainer import correct, lucky, sums

from curriculum.text_features import TEXT_DIM, prompt_text, text_features
from rl import CurriculumGRPOTrainer
from rl.trl.features import POLICY_HALF_LIFE, PolicyFeatures, resolve_features

pytestmark = pytest.mark.filterwarnings("ignore:.*(gradient|activation)_checkpointing.*:FutureWarning")


def trainer(tmp_path: Path, dataset: Dataset | None = None, **overrides) -> CurriculumGRPOTrainer:
    return CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[lucky, correct],
        args=toy_args(str(tmp_path), **{"max_steps": 3, **overrides}),
        train_dataset=sums() if dataset is None else dataset,
        processing_class=TOKENIZER,
    )


def test_text_features_are_deterministic_and_tell_lengths_and_words_apart():
    prompts = ["digits 472=", "digits 4721839=", "sort dca=", "sort qdcaxbm=", "digits 472="]
    x = text_features(prompts)
    assert x.shape == (5, TEXT_DIM) and x.dtype == np.float32
    assert np.array_equal(x[0], x[4]), "the same prompt, the same features"
    assert np.array_equal(x, text_features(prompts)), "no randomness"
    assert len({row.tobytes() for row in x[:4]}) == 4
    assert x[1, -2] > x[0, -2], "log-length"
    conversation = [{"role": "user", "content": "sort dca="}]
    assert prompt_text(conversation) == "sort dca="
    assert prompt_text(np.array(conversation, dtype=object)) == "sort dca="  # a parquet list of structs
    assert np.array_equal(text_features([conversation]), x[2:3])


def test_text_features_reach_the_curriculum_and_training_runs(tmp_path: Path) -> None:
    t = trainer(tmp_path, curriculum_features="text")
    assert t.curriculum.ability.features is not None
    assert t.curriculum.ability.features.dim == TEXT_DIM
    t.train()
    assert t.curriculum.ability.features.gram[-1, -1] > 0, "observed prompts went into the regression"
    assert any("curriculum/feature_share" in h for h in t.state.log_history)
    assert any("curriculum/feature_slope" in h and "curriculum/feature_intercept" in h for h in t.state.log_history)


def test_auto_features_are_text_on_a_pool_without_labels_and_none_with_labels_or_a_stream(tmp_path: Path, caplog) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="rl.trl.trainer"):
        t = trainer(tmp_path)  # curriculum_features="auto", no prior column
    assert t.curriculum.ability.features is not None and t.curriculum.ability.features.dim == TEXT_DIM
    assert "curriculum_features='auto' is 'text' here" in caplog.text
    labelled = sums().map(lambda row, i: {"level": i % 3}, with_indices=True)
    t = trainer(tmp_path, labelled, curriculum_prior_column="level")
    assert t.curriculum.ability.features is None and t.curriculum.num_labels == 3
    assert resolve_features("auto", None, streams=True) == "none", "a window's slots change as they refill"
    assert resolve_features("none", None, streams=False) == "none" and resolve_features("text", "level", False) == "text"


def test_a_column_of_vectors_is_used_and_a_bad_one_is_refused_before_training(tmp_path: Path) -> None:
    ds = sums()
    vectors = np.random.default_rng(0).normal(size=(len(ds), 5)).tolist()
    t = trainer(tmp_path, ds.add_column("emb", vectors), curriculum_features="emb")
    assert t.curriculum.ability.features.dim == 5
    with pytest.raises(ValueError, match="neither one of .* nor a train_dataset column"):
        trainer(tmp_path, curriculum_features="embedding")
    ragged = [[0.0] * (1 + i % 2) for i in range(len(ds))]
    with pytest.raises(ValueError, match="one numeric vector per prompt"):
        trainer(tmp_path, ds.add_column("emb", ragged), curriculum_features="emb")
    with_nan = [[float("nan"), 0.0]] + [[0.0, 0.0]] * (len(ds) - 1)
    with pytest.raises(ValueError, match="NaN/inf"):
        trainer(tmp_path, ds.add_column("emb", with_nan), curriculum_features="emb")


def test_policy_features_forget_and_are_computed_only_for_the_prompts_asked_about(tmp_path: Path) -> None:
    args = toy_args(str(tmp_path), 3, curriculum_features="policy")
    assert args.curriculum_config.feature_half_life == POLICY_HALF_LIFE
    kept = toy_args(str(tmp_path), 3, curriculum_features="policy", curriculum={"feature_half_life": 7.0})
    assert kept.curriculum_config.feature_half_life == 7.0
    t = trainer(tmp_path, curriculum_features="policy", max_steps=4)
    source = t.curriculum_features
    assert isinstance(source, PolicyFeatures)
    t.train()
    assert 0 < source.prompts < 4 * len(sums()), "the candidates and observed prompts, never the whole pool each step"
    x = source(np.array([0, 1, 0]))
    assert x.shape == (3, source.dim) and np.allclose(x[0], x[2])


def test_an_empty_features_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="curriculum_features must be one of"):
        toy_args(str(tmp_path), 3, curriculum_features="")
