"""The ``export`` section of params.yaml."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ExportParams:
    """The ``export`` section of params.yaml.

    Attributes
    ----------
    title
        Layer title shown in QGIS and on the preview map.
    lpf_base_uri
        Prefix of each Linked Places feature's ``@id`` (record id appended). A URN
        by default because the project publishes no web address of its own yet.
    label_font
        Font of the QGIS labels; IPAGothic draws katakana (Debian fonts-ipafont-gothic).
    preview
        Whether to draw ``map.png``.
    site
        Whether to write ``site/``, the static web map.
    """

    title: str = "Japanese POW camps in the USSR and Mongolia, 1945-1956 (principal camp areas)"
    lpf_base_uri: str = "urn:camps-map:record:"
    label_font: str = "IPAGothic"
    preview: bool = True
    site: bool = True
