"""``corpus serve``: browse the store in a web browser (Datasette with the corpus pages).

A built-in plugin (``serve`` in ``DEFAULT_PLUGINS``). Every ``corpus`` command loads it, so
Datasette, uvicorn and the store are imported only when the command runs. The pages themselves
are the Datasette plugin :mod:`corpus.web`; this command opens the store read-only first (a
missing, corrupt or foreign store is an error before anything listens), then serves it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import click

from .cliutil import EXIT_OK, fail
from .errors import CorpusError, StoreError
from .hookspecs import hookimpl

#: Installing the extra that holds Datasette.
INSTALL_HINT = "pip install 'newscorpus[serve]'"


def build_datasette(store_path: str) -> Any:
    """A Datasette serving ``store_path`` (read-only connections) with the corpus pages.

    The store is checked with :func:`corpus.store.browse.open_read_only` first, so a bad store
    raises :class:`corpus.errors.StoreError` here. The corpus plugin is registered through its
    entry point; when it is not (running from a source tree), it is registered here.
    """
    from .store.browse import open_read_only

    if any(c in os.path.abspath(store_path) for c in "?#%"):
        # Datasette writes the path into an SQLite URI unescaped: "#" or "?" would cut it
        # short and drop mode=ro (SQLite would create a new, empty file), "%" name another.
        raise StoreError(
            f"cannot serve {store_path}: its path holds '?', '#' or '%', which Datasette "
            "cannot open; give it a plain name, or a symbolic link with one",
            code="STORE_ERROR",
        )
    open_read_only(store_path).close()
    try:
        from datasette.app import Datasette
        from datasette.plugins import pm
    except ImportError:
        raise CorpusError(
            f"`corpus serve` needs Datasette: {INSTALL_HINT}", code="SERVE_UNAVAILABLE"
        ) from None
    from . import web

    if not any(plugin is web for plugin in pm.get_plugins()):
        pm.register(web, name="newscorpus")
    return Datasette([store_path])


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command()
    @click.option(
        "--store",
        "store_path",
        metavar="PATH",
        default=None,
        help="The store file (default: $CORPUS_STORE, else ./corpus.db).",
    )
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option(
        "--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port."
    )
    @click.option("--open", "open_browser", is_flag=True, help="Open the home page in a browser.")
    def serve(store_path: str | None, host: str, port: int, open_browser: bool) -> None:
        """Browse the store in a web browser: documents, versions, diffs, runs, feeds.

        Serves until Ctrl-C. The store is opened read-only; ingests may run meanwhile.
        Datasette's table browser and JSON API come with it (pages: docs/serve.md).
        """
        from .store.store import default_store_path

        path = store_path or default_store_path()
        try:
            datasette = build_datasette(path)
        except CorpusError as exc:
            fail(exc)
        import uvicorn

        shown_host = f"[{host}]" if ":" in host else host

        class Server(uvicorn.Server):
            def startup_done(self) -> None:
                bound = port
                for server in getattr(self, "servers", []):
                    for sock in server.sockets:
                        bound = sock.getsockname()[1]
                        break
                url = f"http://{shown_host}:{bound}/"
                click.echo(f"Serving {path} at {url} (read-only; Ctrl-C to stop)")
                if open_browser:
                    import webbrowser

                    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets=sockets)
                if self.started:
                    self.startup_done()

        config = uvicorn.Config(
            datasette.app(), host=host, port=port, log_level="warning", lifespan="on"
        )
        server = Server(config)
        # Uvicorn ends a failed start-up (a port in use) with its own SystemExit(3).
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            server.run()
        if not server.started:
            fail(f"cannot listen on {host}:{port} (is the port in use? try --port)")
        raise SystemExit(EXIT_OK)
