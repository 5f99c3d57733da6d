"""The ``reconcile`` section of params.yaml as a frozen dataclass, and its checks."""

from __future__ import annotations

import dataclasses

from pipeline.errors import ParamsError


@dataclasses.dataclass(frozen=True)
class ReconcileParams:
    """The ``reconcile`` section of params.yaml.

    Attributes
    ----------
    top_k:
        Candidates kept per name (the ``candidates`` JSON).
    auto_threshold, review_threshold:
        ``auto`` needs a score at or above the first (and no rival); below the
        second nothing is plausible and the row is ``unresolved``. The score is the
        learned, calibrated probability (:mod:`pipeline.reconcile.model`): the
        weights live in ``pipeline/data/score_model.json``, not here; ``camps
        calibrate`` prints the lowest ``auto_threshold`` with precision 1.00 on the
        development sets.
    auto_margin:
        How far the best must score above every rival for ``auto``.
    rival_km:
        A candidate farther than this from the best is a different place (a
        rival); a nearer one is the same town under another entry.
    fuzzy_floor:
        Lowest katakana similarity (0-1) that makes a place a candidate.
    block_size:
        Gazetteer keys compared in full per name, taken from the bigram index.
    partial_factor:
        Discount of a match on one word of a compound name.
    alternative_evidence, alternative_step:
        Evidence of an exact match on the transliterate stage's second Cyrillic
        candidate, less ``alternative_step`` per further rank (the first counts 1):
        a lower-ranked reading is a guess, and the kana route vouches for the right
        one anyway when it follows the Japanese rules.
    village_population:
        A place not in the curated gazetteer with fewer people than this, matched
        by a near name only (no exact reading, kana unlike), is never ``auto``: a
        village namesake is a guess for a human, however well its region fits.
    latin_exact:
        Evidence of an exact match on the Latin form of the first Cyrillic
        candidate (a typed Latin name counts 1); it drops by rank like the Cyrillic.
    unique_gap:
        A place's name evidence is unique (feature ``unique``) when no place
        farther than ``rival_km`` comes within this of it.
    """

    top_k: int = 5
    auto_threshold: float = 0.85
    review_threshold: float = 0.45
    auto_margin: float = 0.15
    rival_km: float = 50.0
    fuzzy_floor: float = 0.7
    block_size: int = 150
    partial_factor: float = 0.85
    alternative_evidence: float = 0.85
    alternative_step: float = 0.03
    latin_exact: float = 0.9
    village_population: int = 5_000
    unique_gap: float = 0.1
    #: processes for inputs with at least ``parallel_min`` distinct names (1: none)
    workers: int = 2
    parallel_min: int = 2_000

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ParamsError(f"reconcile.top_k must be at least 1, got {self.top_k}")
        if not 0 <= self.review_threshold <= self.auto_threshold <= 1:
            raise ParamsError(
                "reconcile: need 0 <= review_threshold <= auto_threshold <= 1, got "
                f"{self.review_threshold} and {self.auto_threshold}"
            )
        if not 0 < self.fuzzy_floor <= 1:
            raise ParamsError(f"reconcile.fuzzy_floor must be in (0, 1], got {self.fuzzy_floor}")


#: Evidence of an exact match on a Latin form, which is derived from a Cyrillic guess.
LATIN_EXACT = ReconcileParams.latin_exact
