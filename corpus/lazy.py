"""Package attributes loaded on first use, so importing a package stays cheap.

Every ``corpus`` command loads every built-in plugin, so packages such as ``corpus.diff`` and
``corpus.store`` must not import their heavy parts (rapidfuzz, sqlite3) up front.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``table`` maps a name to its submodule.

    Use in a package's ``__init__``: ``__getattr__, __dir__ = lazy_attributes(__name__, {...})``.
    A loaded attribute is cached in the package, so each is imported once.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
