"""`StaticPolicy`: a band fixed once (from a pass-rate prior, or from a calibration pass whose rollouts count), then
an epoch-wise shuffle of its members forever (the ablation's control arm)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from curriculum.permutation import derive_key
from curriculum.settings import INT_MAX, check_fields
from curriculum.statecheck import POSITION_MAX, read_array, read_ids, read_int
from curriculum.streams import Stream

from .base import PolicyView
from .uniform import UniformPolicy

log = logging.getLogger("curriculum")


@dataclass(frozen=True)
class StaticSettings:
    """`CurriculumConfig.static`: the static policy's knobs."""

    calibration_size: int = 1024
    """Without a pass-rate prior: prompts observed once (uniformly) before the band is fixed."""

    def __post_init__(self) -> None:
        check_fields(self, "static.", {"calibration_size": (1, INT_MAX, "[]")})


class StaticPolicy(UniformPolicy):
    """Fix the band once; never move it."""

    name = "static"
    Settings = StaticSettings
    streamable = False  # the band's members are a list of the pool built once

    def __init__(self, view: PolicyView, settings: StaticSettings) -> None:
        super().__init__(view, settings)  # the calibration pass walks the uniform stream
        self.settings: StaticSettings = settings
        self.members: np.ndarray | None = None  # [M] prompt ids of the fixed band, once fixed
        self.member_stream: Stream | None = None
        self.fixed_band = (math.nan, math.nan)
        self._key = derive_key(view.seed, 0x5A)
        if view.prior_type == "pass_rate":
            rate = view.prior_pass_rate
            assert rate is not None
            self._fix(view, np.flatnonzero((rate >= view.config.band_low) & (rate <= view.config.band_high)))

    def _fix(self, view: PolicyView, members: np.ndarray) -> None:
        if members.size == 0:
            log.warning("static band: no prompt falls inside [band_low, band_high]; sampling the whole pool")
            members = np.arange(view.num_prompts)
        self.members = members.astype(np.int64)
        self.member_stream = Stream(members.size, self._key)
        self.fixed_band = view.difficulty_band()

    def _calibrated_members(self, view: PolicyView) -> np.ndarray:
        cfg = view.config
        seen = np.flatnonzero(view.attempts > 0)  # O(N), once, when the band is fixed
        rate = view.rate(seen)
        in_band = (rate >= cfg.band_low) & (rate <= cfg.band_high)
        if view.labels is None:
            return seen[in_band]
        # labels: a label is in the band if its calibrated prompts are, on average
        lab = view.labels[seen]
        mean = np.bincount(lab, weights=rate, minlength=view.num_labels) / np.maximum(
            np.bincount(lab, minlength=view.num_labels), 1
        )
        band_labels = np.flatnonzero((mean >= cfg.band_low) & (mean <= cfg.band_high))
        return np.flatnonzero(np.isin(view.labels, band_labels))

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        if self.members is None:
            if view.seen_prompts() < min(self.settings.calibration_size, view.num_prompts):
                return self.stream.take(k)  # calibration pass: uniform draws whose rollouts count
            self._fix(view, self._calibrated_members(view))
        assert self.member_stream is not None and self.members is not None
        if k > self.members.size:  # a band smaller than a batch: top up from the uniform stream
            extra = self.stream.take(min(view.num_prompts, k + self.members.size))
            extra = extra[~np.isin(extra, self.members)][: k - self.members.size]
            return np.concatenate([self.members, extra])
        return self.members[self.member_stream.take(k)]

    def band(self, view: PolicyView) -> tuple[float, float]:
        return self.fixed_band if self.members is not None else view.difficulty_band()

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        fixed = self.members is not None
        sd["static_fixed"] = int(fixed)
        sd["static_members"] = self.members if fixed else np.zeros(0, dtype=np.int64)
        sd["static_cursor"] = self.member_stream.cursor if self.member_stream is not None else 0
        sd["static_band"] = np.asarray(self.fixed_band, dtype=np.float64)
        return sd

    def check_state(self, sd: Mapping[str, Any]) -> None:
        super().check_state(sd)
        fixed = read_int(sd, "static_fixed", 0, 1)
        members = read_ids(sd, "static_members", self.stream.n, distinct=True)
        if fixed and members.size == 0:
            raise ValueError("curriculum state entry 'static_members' is empty although 'static_fixed' is 1")
        read_int(sd, "static_cursor", high=POSITION_MAX)
        read_array(sd, "static_band", np.float64, (2,), finite=bool(fixed))  # (nan, nan) until fixed

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        super().load_state_dict(sd)
        self.members, self.member_stream, self.fixed_band = None, None, (math.nan, math.nan)
        if int(sd["static_fixed"]):
            members = np.asarray(sd["static_members"], dtype=np.int64).copy()
            self.members = members
            self.member_stream = Stream(members.size, self._key)
            self.member_stream.cursor = int(sd["static_cursor"])
            self.fixed_band = tuple(float(x) for x in sd["static_band"])  # type: ignore[assignment]
