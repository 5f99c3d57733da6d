"""The OpenCorpora toponym list: more Russian place-name spellings for the letter model.

``camps toponyms`` rebuilds :data:`TOPONYMS_PATH` from the pymorphy3 dictionary
(:func:`write_toponyms`); the model reads the committed file (:func:`toponyms`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pipeline.errors import InputDataError

#: Russian toponyms of the OpenCorpora dictionary: more Russian place-name spellings
#: than GeoNames' Russian names alone, for the 5-gram model (see :func:`write_toponyms`).
TOPONYMS_PATH = Path(__file__).parents[1] / "data" / "opencorpora_toponyms.txt"
_TOPONYM_HEADER = """\
# Russian toponyms: the nominative (singular, or plural-only) of every noun tagged Geox
# in the OpenCorpora dictionary, as packaged in pymorphy3-dicts-ru {version}.
# Source: OpenCorpora, https://opencorpora.org (CC BY-SA 3.0). Rebuild: camps toponyms
"""


def extract_toponyms(prefix: str = "") -> list[str]:
    """The nominative Geox nouns of the OpenCorpora dictionary, sorted (needs pymorphy3).

    Reads the dictionary's word list directly; over the whole dictionary (about
    5 million word forms) that takes half a minute, so the result is committed
    in :data:`TOPONYMS_PATH`. ``prefix`` restricts the scan (for tests).

    >>> "чита" in extract_toponyms("чит")
    True
    """
    try:
        import pymorphy3
    except ImportError as exc:
        raise InputDataError(
            "pymorphy3 and pymorphy3-dicts-ru are needed to rebuild the toponym list: "
            "pip install -e '.[dev]'"
        ) from exc
    dictionary = pymorphy3.MorphAnalyzer().dictionary
    wanted = set()  # (paradigm, form) pairs that are a nominative toponym
    for pid, paradigm in enumerate(dictionary.paradigms):
        forms = len(paradigm) // 3
        for idx in range(forms):
            tag = dictionary.gramtab[paradigm[forms + idx]]
            grammemes = set(re.split("[ ,]", str(tag)))
            if {"Geox", "nomn"} <= grammemes and grammemes & {"sing", "Pltm"}:
                wanted.add((pid, idx))
    found = {word for word, form in dictionary.words.iteritems(prefix) if form in wanted}
    return sorted(found)


def write_toponyms(path: Path = TOPONYMS_PATH) -> int:
    """Write :func:`extract_toponyms` to ``path`` (atomically) with its provenance header.

    The temporary file is made first, so an unwritable folder fails at once, not
    after the half-minute scan.
    """
    from importlib.metadata import version

    from pipeline.io import atomic_path

    with atomic_path(path) as tmp:
        names = extract_toponyms()
        header = _TOPONYM_HEADER.format(version=version("pymorphy3-dicts-ru"))
        text = header + "".join(name + "\n" for name in names)
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return len(names)


@functools.lru_cache(maxsize=1)
def toponyms() -> tuple[str, ...]:
    """The committed toponym list (a data file, the same for every model)."""
    lines = TOPONYMS_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))
