"""The ``transliterate`` section of params.yaml."""

from __future__ import annotations

import dataclasses

from pipeline.params import check_range


@dataclasses.dataclass(frozen=True)
class TransliterateParams:
    """The ``transliterate`` section of params.yaml.

    Attributes
    ----------
    top_k:
        How many Cyrillic (and Latin) candidates to keep per name.
    beam:
        Hypotheses kept per kana position in the lattice search: wider finds more
        rare spellings, narrower is faster (10 scores as 12 on gold and held-out).
    lm_weight:
        Weight of the Russian character model against the transcription costs.
    workers:
        Processes for inputs of many distinct names (the death registers): the
        model is built once and shared with the workers by ``fork``. 1 turns it off.
    """

    top_k: int = 5
    beam: int = 10
    lm_weight: float = 1.0
    workers: int = 2

    def __post_init__(self) -> None:
        # 0 would empty every name's candidates without a word.
        check_range("transliterate", "top_k", self.top_k, 1, 100)
        check_range("transliterate", "beam", self.beam, 1, 1000)
        check_range("transliterate", "lm_weight", self.lm_weight, 0.0, 100.0)
        check_range("transliterate", "workers", self.workers, 1, 64)
