"""The installed TRL release either trains the drop-in here or is refused before any model work, naming the fix
(`make test-trl-versions` runs this in a venv per release: TRL 1.15.0 without Triton is the refused one)."""

from __future__ import annotations

import pytest
import trl
import trl.trainer.utils
from conftest import TOKENIZER, lucky_30, plain_sums, tiny_model, toy_args

from rl import CurriculumGRPOTrainer
from rl.trl.trainer import TRLCannotTrainHere


@pytest.mark.slow
def test_the_installed_trl_trains_here_or_is_refused_naming_the_fix(tmp_path) -> None:
    kwargs = dict(reward_funcs=[lucky_30], args=toy_args(str(tmp_path), 2), processing_class=TOKENIZER)
    if getattr(trl.trainer.utils, "_ChunkedLogProbFunction", "absent") is None:
        with pytest.raises(TRLCannotTrainHere, match=rf'TRL {trl.__version__}.*pip install "trl!=1.15.0"'):
            CurriculumGRPOTrainer(model=tiny_model(), train_dataset=plain_sums(), **kwargs)
        return
    trainer = CurriculumGRPOTrainer(model=tiny_model(), train_dataset=plain_sums(), **kwargs)
    trainer.train()
    assert trainer.state.global_step == 2 and trainer.curriculum.step >= 1
