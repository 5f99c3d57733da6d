"""``camps lookup``: where a raw katakana name is, and how sure, as the pipeline would say.

A name typed at the terminal has no transliterate columns: it is transliterated
first by the transliterate stage's own function with the ``transliterate`` params
section, then reconciled with the ``reconcile`` section, so that what lookup says
is what ``camps run`` would write for the same cell (``transliterate.beam`` and
``top_k`` included). The same two steps serve :mod:`pipeline.evaluate`.

This module returns data; :mod:`pipeline.cli` prints it. It may import the
transliterate and reconcile stages (it is a tool over both), never click.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from pipeline import overrides as ov
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.errors import ParamsError


def query_of(
    katakana: str, model: tr.Model, params: tr.TransliterateParams, region: str = ""
) -> rc.Query:
    """The reconcile query of a raw cell, transliterated by the transliterate stage first.

    ``model`` is the transliteration model (:func:`pipeline.transliterate.default_model`
    for the stage's; a held-out one to measure names it never saw).

    ``region`` is a raw file's English ``region`` column (1945 terms); it adds to
    the katakana prefix (チタ州…), as in :func:`pipeline.reconcile.query_of_row`.
    """
    found = tr.transliterate_name(katakana, model, params)
    return rc.make_query(
        katakana,
        region_hint="|".join(h for h in (found.parts.region_hint, region.strip()) if h),
        cyrillic=found.cyrillic,
        latin=found.latin,
        romaji=found.romaji,
    )


@dataclasses.dataclass(frozen=True)
class Lookup:
    """What the pipeline says about one name: its query, outcome and hinted regions."""

    name: str
    query: rc.Query
    outcome: rc.Outcome
    #: ids of the 1945 units that the name's region hint names (none without a hint)
    regions: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``camps lookup --json``: the reconcile columns, candidates as objects."""
        columns = self.outcome.columns()
        return {
            "query": self.name,
            "key": self.query.key,
            "region_hint": self.query.region_hint,
            "cyrillic_candidates": list(self.query.cyrillic),
            **columns,
            "score": round(self.outcome.score, 4),
            "candidates": json.loads(columns["candidates"]),
        }


def lookup(
    name: str,
    index: rc.Index,
    overrides: Sequence[ov.Override],
    model: tr.Model,
    transliterate_params: tr.TransliterateParams,
    reconcile_params: rc.ReconcileParams,
    top: int = 10,
) -> Lookup:
    """Ranked candidates with their per-feature values for one name (``camps lookup``).

    An override by katakana is applied, as the stage would; ``top`` candidates are kept.
    """
    if top < 1:
        raise ParamsError(f"--top must be at least 1, got {top}")
    if not name.strip():
        raise ParamsError("NAME is empty: give a katakana name such as ライチハ")
    query = query_of(name, model, transliterate_params)
    wide = dataclasses.replace(reconcile_params, top_k=top)
    outcome = rc.resolve(query, index, wide)
    override = ov.find(overrides, "", ov.key_of(name))
    if override is not None:
        outcome = rc.apply_override(outcome, override, index, wide)
    regions = tuple(r.region_id for r in rc.hinted_regions(query.region_hint, index))
    return Lookup(name, query, outcome, regions)
