"""Names a package exports from modules it imports only when a name is first used.

``camps lookup`` must answer in half a second, and a package's ``__init__`` that
imports every module it exports makes each command import them all: the
reconcile stage's process pool and bench, the workbook readers and GIS writers
of :mod:`pipeline.io`, the transliteration bench and evaluation. A package lists
those names here instead (:func:`exports`, a module ``__getattr__``, PEP 562),
each from a module of its own (a relative name), so a lazy name can never reach
into another stage; it repeats them under ``TYPE_CHECKING`` for mypy.

May import only the standard library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``names`` maps a name to its module.

    A module is relative to the package (``".bench"``); the value found is kept in
    the package's namespace, so it is looked up once.

    >>> getattr_ = exports("pipeline", {"cache_dir": ".artifacts"})
    >>> getattr_("cache_dir").__name__
    'cache_dir'
    """
    for module in names.values():
        if not module.startswith("."):
            raise ValueError(f"{package}: {module!r} is not a module of the package")

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
