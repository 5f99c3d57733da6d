"""Sources as Linked Places citations: one per source, each URL a valid ``@id``.

The World Historical Gazetteer (v3) checks every ``@id`` against its ``validURL``
pattern (``whg3_lpf_v2.0.schema.json``) or a ``prefix:term``. A source cell of the
pipeline may join several URLs with ``|`` (with or without spaces), cite GeoNames as
``geonames:NNN``, or give a plain label; each part becomes its own citation.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from pipeline import geonames

#: WHG v3's ``validURL`` (scheme, host with a dot and a lower-case TLD, port, path).
VALID_URL = re.compile(
    r"^(https?:\/\/)(www\.)?[a-zA-Z0-9\-\.]{2,256}\.[a-z]{2,63}(\:[0-9]{1,5})?(\/.*)?$"
)
_SPLIT = re.compile(r"\s*\|\s*|\s;\s|\n")
_GEONAMES = re.compile(r"^(?:geonames|gn):(\d+)$")


def clean_url(text: str) -> str | None:
    """The URL as WHG accepts it, or ``None`` when it is not a web address.

    A host's trailing dot (``plaza.rakuten.co.jp./x``, the same host in DNS) is
    dropped; nothing else is changed.

    >>> clean_url("https://plaza.rakuten.co.jp./kaycom/diary")
    'https://plaza.rakuten.co.jp/kaycom/diary'
    >>> clean_url("Kuznetsov 1997") is None
    True
    """
    if not re.match(r"^https?://\S+$", text):
        return None
    parts = urlsplit(text)
    host = parts.netloc.rstrip(".")
    url = urlunsplit(parts._replace(netloc=host))
    return url if VALID_URL.match(url) else None


def geonames_of(text: str) -> str | None:
    """The GeoNames id of ``geonames:NNN``, ``gn:NNN`` or a GeoNames URL.

    >>> geonames_of("geonames:2013348"), geonames_of("https://www.geonames.org/2013348")
    ('2013348', '2013348')
    >>> geonames_of("chita") is None
    True
    """
    text = text.strip()
    match = _GEONAMES.match(text)
    if match:
        return match.group(1)
    found = re.match(r"^https?://(?:www\.|sws\.)?geonames\.org/(\d+)(?:/.*)?$", text)
    return found.group(1) if found else None


def citation(part: str) -> dict[str, str]:
    """One citation: a URL or GeoNames id as ``@id`` with a label, else a label only.

    >>> citation("geonames:2013348")
    {'label': 'GeoNames 2013348 (CC BY 4.0)', '@id': 'https://www.geonames.org/2013348'}
    >>> citation("dossier (general knowledge)")
    {'label': 'dossier (general knowledge)'}
    """
    gid = geonames_of(part)
    if gid is not None:
        return {"label": f"GeoNames {gid} (CC BY 4.0)", "@id": geonames.URI.format(gid)}
    url = clean_url(part)
    return {"label": part, "@id": url} if url else {"label": part}


def citations(text: str) -> list[dict[str, str]]:
    """LPF citations from a source cell: one per source, in order, without repeats.

    >>> citations("https://ab.org/1|https://www.geonames.org/5 ; Kuznetsov 1997")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'label': 'https://ab.org/1', '@id': 'https://ab.org/1'},
     {'label': 'GeoNames 5 (CC BY 4.0)', '@id': 'https://www.geonames.org/5'},
     {'label': 'Kuznetsov 1997'}]
    """
    found: list[dict[str, str]] = []
    for part in _SPLIT.split(text):
        part = part.strip()
        if part and (item := citation(part)) not in found:
            found.append(item)
    return found


def source_urls(text: str) -> list[str]:
    """The web addresses among a cell's sources (GeoNames ids as their page).

    >>> source_urls("https://ab.org/1 | geonames:5 | dossier")
    ['https://ab.org/1', 'https://www.geonames.org/5']
    """
    return [c["@id"] for c in citations(text) if "@id" in c]
