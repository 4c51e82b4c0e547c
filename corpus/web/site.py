"""The corpus pages: routes, the views behind them, and what they share (the store, a diff cache).

Every view reads the store through :mod:`corpus.store` on one of Datasette's read-only
connections (``Database.execute_fn``, which runs it on Datasette's SQL threads), renders a
template from ``templates/corpus/`` with Datasette's Jinja environment (autoescaping on), and
answers with a strict Content-Security-Policy: no inline script or style, nothing from
elsewhere.
"""

from __future__ import annotations

import functools
import re
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import attrs

from ..errors import ConfigError, CorpusError, NotFound
from ..store.browse import (
    has_document,
    is_corpus_store,
    read_only_view,
    recent_versions,
    recently_updated,
    run_files,
)
from ..store.records import VersionInfo
from ..store.store import Store
from ..store.timeutil import parse_user_time, short
from . import highlight
from .figures import pct

T = TypeVar("T")

#: Sent with every corpus page: scripts and styles only from this server, no inline ones.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

PAGE_SIZE = 20
#: With a state or date filter, the filters are applied to at most this many best matches.
SEARCH_CAP = 1000
#: A feed holds at most this many entries, found among this many latest changes.
FEED_ENTRIES = 50
FEED_SCAN = 500
#: Changed files of a run whose change size is worked out (the rest are listed without it).
RUN_DIFFS = 200
#: Files listed per outcome on a run page (the rest are in Datasette's ``file_log`` table).
RUN_LIST = 1000
DOWNLOADS = ("nitf", "json", "ninjs")
_ASSETS = {"corpus.css": "text/css; charset=utf-8", "corpus.js": "text/javascript; charset=utf-8"}


def find_store(datasette: Any) -> tuple[str, str] | None:
    """(database name, file path) of the first database served that is a corpus store."""
    for name, db in datasette.databases.items():
        path = getattr(db, "path", None)
        if path and not getattr(db, "is_memory", False) and is_corpus_store(path):
            return name, path
    return None


def doc_path(key: str) -> str:
    """``/doc/KEY`` with the key percent-encoded (its ``/`` kept)."""
    return "/doc/" + urllib.parse.quote(key, safe="/")


@attrs.frozen
class Change:
    """What changed from version ``old`` to ``new`` of a document, worked out once."""

    line: str
    ratio: float
    headline: bool
    cosmetic: bool


class DiffCache:
    """Diffs by (key, old content hash, new content hash): contents never change, so no expiry."""

    def __init__(self, size: int = 1024) -> None:
        self._items: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, store: Store, old: VersionInfo, new: VersionInfo) -> Any:
        from ..diff import diff_documents

        cache_key = (new.key, old.content_hash, new.content_hash)
        with self._lock:
            if cache_key in self._items:
                self._items.move_to_end(cache_key)
                return self._items[cache_key]
        diff = diff_documents(
            store.version(old.key, old.n).document, store.version(new.key, new.n).document
        )
        with self._lock:
            self._items[cache_key] = diff
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return diff

    def change(self, store: Store, old: VersionInfo, new: VersionInfo) -> Change:
        from ..diff.render_web import timeline_line

        diff = self.get(store, old, new)
        return Change(
            timeline_line(diff),
            diff.summary.changed_ratio,
            any(h.field == "title" for h in diff.header),
            diff.is_cosmetic,
        )


class PageError(Exception):
    """Answer with an error page: ``status`` and a message for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _int_arg(
    request: Any, name: str, default: int | None = None, *, status: int = 404
) -> int | None:
    """A whole-number query argument; anything else is an error page (``status``)."""
    value = request.args.get(name)
    if value in (None, ""):
        return default
    if not re.fullmatch(r"\d{1,9}", value):
        raise PageError(status, f"{name}={value!r} is not a whole number")
    return int(value)


class CorpusSite:
    """The corpus pages of one Datasette instance, over the store ``path`` (database ``name``)."""

    def __init__(self, datasette: Any, name: str, path: str) -> None:
        self.datasette = datasette
        self.db_name = name
        self.path = path
        self.diffs = DiffCache()
        self._plugins: Any = None

    def routes(self) -> list[tuple[str, Any]]:
        return [
            (r"^/$", self.home),
            (r"^/search$", self.search),
            (r"^/doc/(?P<key>.+)/diff$", self.diff),
            (r"^/doc/(?P<key>.+)$", self.document),
            (r"^/runs/(?P<run_id>[^/]+)$", self.run),
            (r"^/feed\.atom$", self.feed),
            (r"^/-/corpus/(?P<name>[a-z.]+)$", self.asset),
        ]

    # -- plumbing --------------------------------------------------------------------------

    async def read(self, func: Callable[[Store], T]) -> T:
        """Run ``func(store)`` on one of Datasette's read-only connections to the store."""
        db = self.datasette.get_database(self.db_name)
        return await db.execute_fn(lambda conn: func(read_only_view(conn, self.path)))

    def url(self, path: str, **query: Any) -> str:
        """A site path (Datasette's ``base_url`` applied) with the non-empty ``query`` items."""
        out = self.datasette.urls.path(path)
        items = {k: v for k, v in query.items() if not (v is None or v is False or v == "")}
        if items:
            out += "?" + urllib.parse.urlencode(items)
        return out

    def doc_url(self, key: str, **query: Any) -> str:
        return self.url(doc_path(key), **query)

    def diff_url(self, key: str, **query: Any) -> str:
        return self.url(doc_path(key) + "/diff", **query)

    async def page(
        self, template: str, context: dict[str, Any], request: Any, status: int = 200
    ) -> Any:
        from datasette.utils.asgi import Response

        context = {
            **context,
            "site": self,
            "short": short,
            "pct": pct,
            "css_url": self.url("/-/corpus/corpus.css"),
            "js_url": self.url("/-/corpus/corpus.js"),
            "db_url": self.datasette.urls.database(self.db_name),
        }
        html = await self.datasette.render_template(f"corpus/{template}", context, request=request)
        return Response.html(html, status=status, headers=dict(SECURITY_HEADERS))

    async def error_page(self, request: Any, status: int, message: str) -> Any:
        context = {"status": status, "message": message}
        return await self.page("error.html", context, request, status)

    async def guarded(self, request: Any, build: Callable[[], Any]) -> Any:
        """Run a view; a missing document, version or run is a 404 page, never a traceback."""
        try:
            return await build()
        except PageError as exc:
            return await self.error_page(request, exc.status, exc.message)
        except NotFound as exc:  # the store's own message, without the server's file path
            return await self.error_page(request, 404, exc.message.replace(f" {self.path}", ""))
        except CorpusError as exc:
            return await self.error_page(request, 503, f"{exc.code}: {exc.message}")

    # -- pages -----------------------------------------------------------------------------

    async def asset(self, request: Any) -> Any:
        from datasette.utils.asgi import Response

        name = request.url_vars["name"]
        if name not in _ASSETS:
            return await self.error_page(request, 404, "no such file")
        body = _asset(name)
        headers = {**SECURITY_HEADERS, "cache-control": "max-age=3600"}
        return Response(body, headers=headers, content_type=_ASSETS[name])

    async def home(self, request: Any) -> Any:
        def load(store: Store) -> dict[str, Any]:
            recent = []
            for doc in recently_updated(store, limit=PAGE_SIZE):
                change = None
                if doc.state == "present" and doc.latest > 1:
                    versions = store.versions(doc.key)
                    change = self.diffs.change(store, versions[-2], versions[-1])
                recent.append((doc, change))
            return {"stats": store.stats(), "runs": store.runs(limit=5), "recent": recent}

        return await self.guarded(request, lambda: self._render_with(request, "home.html", load))

    async def _render_with(
        self, request: Any, template: str, load: Callable[[Store], dict[str, Any]]
    ) -> Any:
        return await self.page(template, await self.read(load), request)

    async def search(self, request: Any) -> Any:
        return await self.guarded(request, lambda: self._search(request))

    async def _search(self, request: Any) -> Any:
        query = request.args.get("q", "").strip()
        state = request.args.get("state", "")
        since = request.args.get("since", "").strip()
        page = max(1, _int_arg(request, "page", 1, status=400) or 1)
        context: dict[str, Any] = {
            "q": query, "state": state, "since": since, "page": page, "page_size": PAGE_SIZE,
            "hits": [],
            "error": None, "more": False, "capped": False,
        }  # fmt: skip
        if state not in ("", "present", "removed"):
            context["error"] = f"state must be present or removed, not {state!r}"
            state = ""
        stamp = None
        if since:
            try:
                stamp = parse_user_time(since)
            except ConfigError as exc:
                context["error"] = exc.message
        if not query or context["error"]:
            return await self.page("search.html", context, request)
        terms = highlight.Terms.from_query(query)
        wanted = page * PAGE_SIZE + 1

        def keep(store: Store, hit: Any) -> bool:
            if state and hit.state != state:
                return False
            return not (stamp and store.document(hit.key).updated < stamp)

        def load(store: Store) -> dict[str, Any]:
            filtered = bool(state or stamp)
            # Without filters, one more than the page; with them, ask for more and more of the
            # best matches (the store ranks them all anyway) until the page fills up.
            limit = wanted * 2 if filtered else wanted
            while True:
                hits = store.search(query, limit=limit)
                kept = [hit for hit in hits if keep(store, hit)][:wanted]
                if len(kept) >= wanted or len(hits) < limit or limit >= SEARCH_CAP:
                    break
                limit = min(SEARCH_CAP, limit * 4)
            shown = []
            for hit in kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
                doc = store.version(hit.key, hit.version).document
                shown.append(
                    {
                        "hit": hit,
                        "title": highlight.mark(doc.title or hit.key, terms),
                        "snippet": highlight.snippet([b.text for b in doc.blocks], terms),
                    }
                )
            return {
                "hits": shown,
                "more": len(kept) > page * PAGE_SIZE,
                "capped": filtered and len(hits) >= SEARCH_CAP,
            }

        try:
            context.update(await self.read(load))
        except ConfigError as exc:  # BAD_QUERY: a message on the page
            context["error"] = exc.message
        return await self.page("search.html", context, request)

    async def document(self, request: Any) -> Any:
        key = urllib.parse.unquote(request.url_vars["key"])
        return await self.guarded(request, lambda: self._document(request, key))

    async def _document(self, request: Any, key: str) -> Any:
        wanted = _int_arg(request, "v")
        fmt = request.args.get("format")

        def load(store: Store) -> dict[str, Any]:
            info = store.document(key)
            versions = store.versions(key)
            n = info.latest if wanted is None else wanted
            stored = store.version(key, n)
            timeline = []
            for k, v in enumerate(versions):
                if k == 0:
                    line = "first version"
                elif v.summary is not None:
                    from ..diff.render_web import headline_wording

                    line = headline_wording(v.summary)
                else:
                    line = self.diffs.change(store, versions[k - 1], v).line
                timeline.append((v, line))
            return {
                "info": info,
                "version": stored,
                "timeline": timeline,
                "removals": store.removals(key),
            }

        data = await self.read(load)
        if fmt:
            return await self._download(request, key, data["version"], fmt)
        context = {"key": key, **data, "downloads": DOWNLOADS}
        return await self.page("document.html", context, request)

    async def _download(self, request: Any, key: str, stored: Any, fmt: str) -> Any:
        from datasette.utils.asgi import Response

        from ..store.render import render

        plugins = self.plugins()
        if fmt not in DOWNLOADS or fmt not in plugins.exporters:
            raise PageError(404, f"no download format {fmt!r}; try {', '.join(DOWNLOADS)}")
        exporter = plugins.exporters.get(fmt)
        try:
            body = render(stored.document, fmt, plugins)
        except CorpusError as exc:
            raise PageError(422, f"{fmt} export failed: {exc.message}") from None
        name = f"{key.rsplit('/', 1)[-1]}-v{stored.info.n}{exporter.extension}"
        quoted = urllib.parse.quote(name)
        headers = {
            **SECURITY_HEADERS,
            "content-disposition": f"attachment; filename*=UTF-8''{quoted}",
        }
        return Response(body, headers=headers, content_type=exporter.media_type)

    def plugins(self) -> Any:
        if self._plugins is None:
            from ..plugins import Plugins, PluginSpec

            self._plugins = Plugins(PluginSpec.from_env((), ()))
        return self._plugins

    async def diff(self, request: Any) -> Any:
        key = urllib.parse.unquote(request.url_vars["key"])
        return await self.guarded(request, lambda: self._diff(request, key))

    async def _diff(self, request: Any, key: str) -> Any:
        exists = await self.read(lambda store: has_document(store, key))
        if not exists and await self.read(lambda store: has_document(store, key + "/diff")):
            return await self._document(request, key + "/diff")  # a key ending in /diff
        view = request.args.get("view", "side")
        if view not in ("side", "inline"):
            raise PageError(404, f"view must be side or inline, not {view!r}")
        hide_cosmetic = request.args.get("cosmetic") == "hide"
        show_all = request.args.get("context") == "all"
        to_n = _int_arg(request, "to")
        from_n = _int_arg(request, "from")

        def load(store: Store) -> dict[str, Any]:
            from ..diff import without_cosmetic
            from ..diff.render_web import WebDiffOptions, render_fragment, timeline_line

            info = store.document(key)
            if info.latest < 2 and from_n is None and to_n is None:
                raise PageError(404, f"{key!r} has only one version: there is no change to show")
            new_n = info.latest if to_n is None else to_n
            old_n = new_n - 1 if from_n is None else from_n
            versions = {v.n: v for v in store.versions(key)}
            for n in (old_n, new_n):
                if n not in versions:
                    raise NotFound(
                        f"{key!r} has versions 1 to {info.latest}; there is no version {n}"
                    )
            diff = self.diffs.get(store, versions[old_n], versions[new_n])
            shown = without_cosmetic(diff) if hide_cosmetic else diff
            options = WebDiffOptions(
                view=view,
                context=None if show_all else 1,
                old_label=f"version {old_n}",
                new_label=f"version {new_n}",
            )
            return {
                "info": info,
                "old": versions[old_n],
                "new": versions[new_n],
                "diff": diff,
                "line": timeline_line(shown),
                "fragment": render_fragment(shown, options),
                "cosmetic_count": diff.summary.cosmetic_changes,
            }

        data = await self.read(load)
        old_n, new_n, latest = data["old"].n, data["new"].n, data["info"].latest
        keep = {
            "view": None if view == "side" else view,
            "cosmetic": "hide" if hide_cosmetic else None,
            "context": "all" if show_all else None,
        }

        def link(**changes: Any) -> str:
            query = {"from": old_n, "to": new_n, **keep, **changes}
            return self.diff_url(key, **query)

        context = {
            "key": key,
            **data,
            "view": view,
            "hide_cosmetic": hide_cosmetic,
            "show_all": show_all,
            "prev_url": link(**{"from": old_n - 1, "to": old_n}) if old_n > 1 else None,
            "next_url": link(**{"from": new_n, "to": new_n + 1}) if new_n < latest else None,
            "toggle_cosmetic_url": link(cosmetic=None if hide_cosmetic else "hide"),
            "toggle_view_url": link(view=None if view == "inline" else "inline"),
            "toggle_context_url": link(context=None if show_all else "all"),
        }
        return await self.page("diff.html", context, request)

    async def run(self, request: Any) -> Any:
        raw = request.url_vars["run_id"]
        if not re.fullmatch(r"\d{1,9}", raw):  # a number SQLite cannot hold is no run either
            return await self.error_page(request, 404, f"no run {raw!r}: runs are numbered")
        run_id = int(raw)

        def load(store: Store) -> dict[str, Any]:
            run = store.run(run_id)
            groups: dict[str, list[Any]] = {}
            for outcome in ("new", "changed", "removed", "rejected"):
                entries = run_files(store, run_id, outcome=outcome, limit=RUN_LIST)
                groups[outcome] = [
                    (e, self._logged_change(store, e) if k < RUN_DIFFS else None)
                    for k, e in enumerate(entries)
                ]
            return {"run": run, "groups": groups, "run_list": RUN_LIST}

        return await self.guarded(request, lambda: self._render_with(request, "run.html", load))

    def _logged_change(self, store: Store, entry: Any) -> Change | None:
        if entry.outcome != "changed" or not entry.key or not entry.version:
            return None
        try:
            versions = {v.n: v for v in store.versions(entry.key)}
        except NotFound:
            return None
        old, new = versions.get(entry.version - 1), versions.get(entry.version)
        return self.diffs.change(store, old, new) if old and new else None

    async def feed(self, request: Any) -> Any:
        from datasette.utils.asgi import Response

        from .feed import atom_feed

        key = request.args.get("key") or None
        title_only = request.args.get("title_only", "") not in ("", "0", "false", "no")
        raw_min = request.args.get("min_change", "").strip()
        try:
            min_change = _share(raw_min) if raw_min else 0.0
        except ValueError as exc:
            return Response.text(str(exc), status=400, headers=dict(SECURITY_HEADERS))

        def load(store: Store) -> list[tuple[Any, Change]]:
            if key is not None:
                store.document(key)  # NotFound
            entries = []
            for item in recent_versions(store, key=key, limit=FEED_SCAN):
                v = item.version
                old = store.version(v.key, v.n - 1).info
                change = self.diffs.change(store, old, v)
                if change.ratio < min_change or (title_only and not change.headline):
                    continue
                entries.append((item, change))
                if len(entries) >= FEED_ENTRIES:
                    break
            return entries

        try:
            entries = await self.read(load)
        except NotFound as exc:
            return Response.text(exc.message, status=404, headers=dict(SECURITY_HEADERS))
        body = atom_feed(
            entries,
            site=self,
            self_url=self.datasette.absolute_url(request, request.path)
            + (f"?{request.query_string}" if request.query_string else ""),
            base=self.datasette.absolute_url(request, "/"),
            key=key,
        )
        return Response(
            body, headers=dict(SECURITY_HEADERS), content_type="application/atom+xml; charset=utf-8"
        )


def _share(text: str) -> float:
    """``0.1`` or ``10%`` -> 0.1; anything outside 0..1 is refused."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"min_change={text!r}: give a share of the text, 0.1 or 10%") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"min_change={text!r}: give a share between 0 and 1 (or 0% and 100%)")
    return value


@functools.cache
def _asset(name: str) -> bytes:
    return (resources.files(__package__) / "assets" / name).read_bytes()
