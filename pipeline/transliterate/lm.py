"""The 5-gram letter model of Russian place names, as state tables.

Interpolated modified Kneser-Ney (:func:`kneser_ney`) mixed log-linearly with
stupid backoff, precomputed into one row per context (:func:`lm_rows`), so that
the decoder scores a letter with two look-ups. A :class:`LanguageModel` holds
the tables of one model and its own memo of the steps met so far.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping
from typing import Any

#: Letters per n-gram, chosen on the gold set with the held-out model (top1/top5): 3
#: letters 0.664/0.836, 4 0.713/0.885, 5 0.746/0.902, 6 0.746/0.893. Five is as fast
#: as 20,000 names/s allows (4 was 21,000).
ORDER = 5
#: Share of the stupid-backoff score in the log-linear mix with Kneser-Ney, chosen on
#: gold top1/top5 with the held-out model and 5-grams: 0.3 and 0.4 0.746/0.902, 0.5
#: 0.746/0.893 (with 4-grams 0 gave 0.713/0.885 and 1, stupid backoff alone, 0.721/0.869).
SB_MIX = 0.4
#: The start state: ORDER - 1 start marks.
START = "^" * (ORDER - 1)
#: A state's row: the log-score of each letter after it, and the state each letter leads to.
Row = tuple[tuple[float, ...], tuple[str, ...]]


def count_grams(counts: Counter[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Letter n-gram counts (n ≤ ORDER) of names weighted by ``counts``, and of their contexts."""
    grams: Counter[str] = Counter()
    contexts: Counter[str] = Counter()
    for name, count in counts.items():
        text = START + name.lower().replace("ё", "е") + "$"
        for end in range(ORDER - 1, len(text)):
            for order in range(1, ORDER + 1):
                gram = text[end - order + 1 : end + 1]
                grams[gram] += count
                contexts[gram[:-1]] += count
    return dict(grams), dict(contexts)


def kneser_ney(grams: dict[str, int]) -> tuple[dict[str, float], dict[str, float], float]:
    """Interpolated modified Kneser-Ney (Chen & Goodman 1998) of the training names' letters.

    Returns the discounted share of every n-gram seen (``(c - D) / c(context)``),
    the interpolation weight of every context seen (the mass the discounts free),
    and the uniform floor under the unigrams. The highest order, and n-grams that
    start at the start of a name (``^``), use the counts themselves; lower orders
    use continuation counts (how many distinct letters precede the n-gram), so a
    letter that follows many contexts is likelier after a new one than a letter
    frequent only in one name. P(c | h) = share(hc) + weight(h) · P(c | h[1:]),
    which equals P(c | h[1:]) for a context never seen: cutting a state to its
    longest seen ending (see :func:`lm_rows`) changes no score.
    """
    counts: dict[str, int] = {}
    left: Counter[str] = Counter()
    for gram, count in grams.items():
        if len(gram) == ORDER or gram[0] == "^":
            counts[gram] = count
        if len(gram) >= 2 and gram[1] != "^":
            left[gram[1:]] += 1  # one more distinct letter before gram[1:]
    for gram, n in left.items():
        if gram[0] != "^":
            counts[gram] = n
    # Three discounts per order (for counts 1, 2, 3+) from the counts of counts.
    discounts: dict[int, tuple[float, float, float]] = {}
    for order in range(1, ORDER + 1):
        of = Counter(c for g, c in counts.items() if len(g) == order and c <= 4)
        n1, n2, n3, n4 = (of.get(i, 0) for i in (1, 2, 3, 4))
        if not (n1 and n2 and n3 and n4):
            discounts[order] = (0.5, 0.75, 0.75)
            continue
        y = n1 / (n1 + 2 * n2)
        discounts[order] = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)

    def discount(gram: str, count: int) -> float:
        d1, d2, d3 = discounts[len(gram)]
        return min(d1 if count <= 1 else d2 if count <= 2 else d3, count)

    totals: Counter[str] = Counter()
    freed: defaultdict[str, float] = defaultdict(float)
    for gram, count in counts.items():
        totals[gram[:-1]] += count
        freed[gram[:-1]] += discount(gram, count)
    share = {g: (c - discount(g, c)) / totals[g[:-1]] for g, c in counts.items()}
    weight = {h: freed[h] / t for h, t in totals.items()}
    letters = {g for g in counts if len(g) == 1}
    return share, weight, 1.0 / (len(letters) + 1)


def lm_rows(
    grams: dict[str, int],
    contexts: dict[str, int],
    kn: tuple[dict[str, float], dict[str, float], float],
) -> tuple[dict[str, int], dict[str, Row]]:
    """The model as state tables: letter → index, and for every context seen (a state)
    the log-score of each letter after it and the state that follows.

    The log-score is (1 - SB_MIX) · log P_KN + SB_MIX · the stupid-backoff score
    (:meth:`LanguageModel.sb_letter`), a log-linear mix of the two models.

    P(c | h) = share(hc) + weight(h) · P(c | h[1:]) is filled shortest context first,
    one row per context, so the whole table costs a fraction of a second. The next
    state is the longest ending of h + c that the training names continue (a longer
    one predicts exactly as that one does), so states that behave alike are one.
    """
    import numpy as np  # a dependency of geopandas; imported late so `import` stays cheap

    share, weight, floor = kn
    alphabet = sorted({gram[-1] for gram in share} - {"^"})
    index = {c: i for i, c in enumerate(alphabet)}
    backoff = math.log(0.4)
    # What each context adds to the row it backs off to: its seen letters only.
    shares: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    for gram, value in share.items():
        shares[gram[:-1]].append((index[gram[-1]], value))
    counts: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for gram, count in grams.items():
        if gram[-1] in index:
            counts[gram[:-1]].append((index[gram[-1]], count))
    children: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for state in weight:  # one string object per state, shared by the rows
        if state and state[-1] in index:
            children[state[:-1]].append((index[state[-1]], state))
    end = index.get("$")
    probs: dict[str, Any] = {}
    nexts: dict[str, list[str]] = {}
    #: Stupid-backoff scores without the next-state term (see :meth:`LanguageModel.sb_letter`).
    backed: dict[str, Any] = {}
    #: The back-off the next letter takes when the next state is short (no "$" term).
    cuts: dict[str, Any] = {}
    rows: dict[str, Row] = {}
    for h in sorted(weight, key=len):
        w = weight[h]
        seen = contexts[h]
        if h:
            shorter = h[1:]
            while shorter not in probs:
                shorter = shorter[1:]
            row = w * probs[shorter]
            sb = backoff + backed[shorter]
            after, cut = list(nexts[shorter]), cuts[shorter].copy()
            tail = h[2 - ORDER :] if len(h) == ORDER - 1 else h
        else:
            row = np.full(len(alphabet), w * floor)
            sb = np.full(len(alphabet), math.log(0.5 / seen) + backoff)
            after, cut = [""] * len(alphabet), np.full(len(alphabet), (ORDER - 1) * backoff)
            tail = ""
        for i, value in shares.get(h, ()):
            row[i] += value
        for i, count in counts.get(h, ()):
            sb[i] = math.log(count / seen)
        for i, state in children.get(tail, ()):
            after[i], cut[i] = state, (ORDER - 1 - len(state)) * backoff
        if end is not None:
            after[end], cut[end] = tail + "$", 0.0
        probs[h], nexts[h], backed[h], cuts[h] = row, after, sb, cut
        with np.errstate(divide="ignore", invalid="ignore"):
            mixed = (1 - SB_MIX) * np.log(row) + SB_MIX * (sb + cut)
        if not np.isfinite(mixed).all():  # a broken model must not decode silently
            raise RuntimeError(f"transliteration model: no probability after {h!r}")
        rows[h] = (tuple(mixed.tolist()), tuple(after))
    return index, rows


@dataclasses.dataclass(frozen=True, eq=False)
class LanguageModel:
    """The letter model of one training corpus: counts, state tables, memo of steps."""

    #: dicts, or the :class:`~pipeline.transliterate.artifact.Table` of a loaded model
    grams: Mapping[str, int]
    contexts: Mapping[str, int]
    #: Interpolation weight of every context seen, and the uniform floor (see kneser_ney).
    weight: Mapping[str, float]
    floor: float
    #: Letter → column of a row, and every state's row (see :func:`lm_rows`).
    index: dict[str, int]
    rows: dict[str, Row]
    #: The states that have a row: ``rows`` itself, unless ``rows`` fills itself as it
    #: is read (a model loaded from its artifact, :mod:`pipeline.transliterate.artifact`).
    states: Collection[str] = dataclasses.field(default=(), repr=False)
    #: state + letter → (log-probability, next state); filled as the search meets them.
    letters: dict[str, tuple[float, str]] = dataclasses.field(default_factory=dict, repr=False)
    #: :meth:`step` memoised for this model (500,000 entries, as many as a register needs).
    step: Callable[[str, str], tuple[float, str]] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", functools.lru_cache(maxsize=500_000)(self._step))
        if not self.states:
            object.__setattr__(self, "states", self.rows)

    @classmethod
    def learn(cls, counts: Counter[str]) -> LanguageModel:
        """Count, smooth and tabulate the letters of the training names."""
        grams, contexts = count_grams(counts)
        kn = kneser_ney(grams)
        index, rows = lm_rows(grams, contexts, kn)
        return cls(grams, contexts, kn[1], kn[2], index, rows)

    def sb_letter(self, state: str, ch: str, after: str) -> float:
        """Stupid-backoff log-score of ``ch`` after ``state`` when the next state is ``after``.

        The relative frequency in the longest context that saw ``ch``, times 0.4 for
        each letter cut; a next state shorter than three letters pays now the
        back-off its next letter will take, so whole-name scores equal those on
        uncut states.
        """
        grams, contexts = self.grams, self.contexts
        value, penalty = math.log(0.5 / contexts[""]), 0.0
        for order in range(min(ORDER - 1, len(state)), -1, -1):
            gram = state[len(state) - order :] + ch if order else ch
            if grams.get(gram):
                value = math.log(grams[gram] / contexts[gram[:-1]])
                break
            penalty += math.log(0.4)
        value += penalty
        if ch != "$":
            value += (ORDER - 1 - len(after)) * math.log(0.4)
        return value

    def letter(self, state: str, ch: str) -> tuple[float, str]:
        """Log-score of one letter after ``state`` (see :func:`lm_rows`), and the next state.

        A state is a context of :func:`lm_rows` (the start is ``^^^^``); a letter the
        training names never use gets the floor of :func:`kneser_ney` times the
        weights of the contexts, and the state that ends in it is the empty one.
        """
        key = state + ch
        found = self.letters.get(key)
        if found is None:
            i = self.index.get(ch)
            row = self.rows[state] if state in self.states else None
            if i is not None and row is not None:
                found = (row[0][i], row[1][i])
            else:
                value = math.log(self.floor)
                for start in range(len(state) + 1):
                    value += math.log(self.weight.get(state[start:], 1.0))
                found = ((1 - SB_MIX) * value + SB_MIX * self.sb_letter(state, ch, ""), "")
            if len(self.letters) > 1_000_000:
                self.letters.clear()
            self.letters[key] = found
        return found

    def _step(self, state: str, chunk: str) -> tuple[float, str]:
        """Log-score of ``chunk`` after ``state`` (see :func:`lm_rows`), and the next state."""
        total = 0.0
        for ch in chunk:
            logp, state = self.letter(state, ch)
            total += logp
        return total, state
