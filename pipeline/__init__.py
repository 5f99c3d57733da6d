"""Katakana camp names of the Siberian internment map to styled GIS layers.

Stages, one module each: :mod:`pipeline.transliterate`, :mod:`pipeline.reconcile`,
:mod:`pipeline.geocode`, :mod:`pipeline.export`; the gazetteer is built by
:mod:`pipeline.gazetteer`. The command line lives in :mod:`pipeline.cli`.
"""

__version__ = "0.1.0"
