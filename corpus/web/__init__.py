"""The web view of a corpus store: a Datasette plugin shipped inside newscorpus.

Registered through Datasette's own entry point (``datasette`` group), so ``corpus serve`` and
``datasette corpus.db`` both show the corpus pages next to Datasette's table browser, JSON/CSV
API and facets. The pages read the store through :mod:`corpus.store` over Datasette's
read-only connections and never write it. Pages and routes: ``docs/serve.md``.

Datasette is imported here, so nothing in ``corpus`` imports this package except the
``corpus serve`` command, when it runs.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from .site import CorpusSite, find_store


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """The corpus pages, when one of the databases served is a corpus store (else none)."""
    found = find_store(datasette)
    if found is None:
        return []
    return CorpusSite(datasette, *found).routes()
