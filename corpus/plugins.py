"""The plugin manager: built-ins, entry points and ``--plugin`` modules, behind a typed facade.

Core code never calls ``pm.hook.<name>`` directly: it calls the methods of :class:`Plugins`,
which read like ordinary functions, report a failing plugin by name instead of crashing, and
enforce each hook's contract (return types, frozen documents).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from . import hookspecs
from .errors import ConfigError, CorpusError, PluginError
from .formats import ExporterRegistry, ReaderRegistry
from .model import Document, Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .config import Config

#: Built-in plugins, registered exactly as third-party ones are (name -> module).
DEFAULT_PLUGINS: dict[str, str] = {
    "article": "corpus.readers.article",
    "json-reader": "corpus.readers.json_reader",
    "nitf-reader": "corpus.readers.nitf",
    "html-reader": "corpus.readers.html",
    "warc-reader": "corpus.readers.warc",
    "nitf": "corpus.exporters.nitf",
    "json": "corpus.exporters.json",
    "newsml": "corpus.exporters.newsml",
    "ninjs": "corpus.exporters.ninjs",
    "validators": "corpus.validators",
    "diff": "corpus.diff.plugin",
    "store": "corpus.store.plugin",
    "executors": "corpus.executors",
    "dask": "corpus.dask_executor",
    "serve": "corpus.serve",
}

ENTRY_POINT_GROUP = "corpus"
#: Comma-separated module names loaded as plugins, as if given with ``--plugin``.
PLUGINS_ENV = "CORPUS_PLUGINS"
#: Comma-separated plugin names not to load, as if given with ``--disable-plugin``.
DISABLE_ENV = "CORPUS_DISABLE_PLUGINS"


@attrs.frozen
class PluginSpec:
    """Which plugins to load: picklable, so worker processes load the very same set."""

    modules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    disabled: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    entry_points: bool = True

    @classmethod
    def from_env(
        cls,
        modules: Iterable[str] = (),
        disabled: Iterable[str] = (),
        entry_points: bool = True,
    ) -> PluginSpec:
        """Merge explicit choices with ``CORPUS_PLUGINS`` / ``CORPUS_DISABLE_PLUGINS``."""
        env_mods = [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
        env_off = [m.strip() for m in os.environ.get(DISABLE_ENV, "").split(",") if m.strip()]
        return cls(
            modules=tuple(dict.fromkeys([*env_mods, *modules])),
            disabled=tuple(dict.fromkeys([*env_off, *disabled])),
            entry_points=entry_points,
        )


@attrs.frozen
class PluginInfo:
    """One row of ``corpus plugins``."""

    name: str
    origin: str  # "built-in", "entry point" or "module"
    version: str | None
    hooks: tuple[str, ...]
    enabled: bool = True
    module: str | None = None
    distribution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "version": self.version,
            "hooks": list(self.hooks),
            "enabled": self.enabled,
            "module": self.module,
            "distribution": self.distribution,
        }


@functools.cache
def _corpus_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("newscorpus")
    except metadata.PackageNotFoundError:  # running from a source tree
        from . import __version__

        return __version__


#: Stands for the corpus distribution's version until a listing asks for it (the look-up reads
#: package metadata, which every start-up would otherwise pay for).
_CORPUS_VERSION = "<corpus version>"


def may_have_entry_points(group: str = ENTRY_POINT_GROUP) -> bool:
    """Whether some installed distribution may declare entry points in ``group``.

    Importing :mod:`importlib.metadata` costs about 20 ms, a fifth of a quick command. This
    scans the folders on ``sys.path`` the way its path finder does (``*.dist-info``,
    ``*.egg-info``, ``*.egg/EGG-INFO``) for an ``entry_points.txt`` with a ``[group]`` section.
    Whatever the scan cannot see (a zip file on the path, a meta-path finder that brings its
    own distributions, an unreadable file) answers True, so importlib.metadata still decides
    whenever there is any doubt: a False answer only ever skips a look-up that finds nothing.
    """
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return True
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except NotADirectoryError:
            return True  # a zip archive on the path
        except OSError:
            continue  # missing folders, path-hook names
        is_egg = os.path.basename(root).lower().endswith(".egg")
        for child in children:
            low = child.lower()
            info = low.endswith((".dist-info", ".egg-info")) or (is_egg and low == "egg-info")
            if info and _declares_group(os.path.join(root, child, "entry_points.txt"), group):
                return True
    return False


def _declares_group(path: str, group: str) -> bool:
    """Whether an ``entry_points.txt`` has a ``[group]`` section (parsed as importlib does)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: let importlib.metadata look
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line.strip("[]") == group:
            return True
    return False


class Plugins:
    """A loaded set of plugins and the typed calls into them."""

    def __init__(self, spec: PluginSpec | None = None) -> None:
        self.spec = spec or PluginSpec()
        self.pm = pluggy.PluginManager("corpus")
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[str, tuple[str, str | None, str | None, str | None]] = {}
        self._readers: ReaderRegistry | None = None
        self._exporters: ExporterRegistry | None = None
        self._diff_formats: dict[str, Any] | None = None
        self._executors: dict[str, Any] | None = None
        for name in self.spec.disabled:
            self.pm.set_blocked(name)
        for name, module in DEFAULT_PLUGINS.items():
            self._register_module(module, name, origin="built-in", version=_CORPUS_VERSION)
        if self.spec.entry_points and may_have_entry_points(ENTRY_POINT_GROUP):
            self._load_entry_points()
        for module in self.spec.modules:
            self._register_module(module, module, origin="module", version=None)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc

    # -- loading ---------------------------------------------------------------------------

    def _register_module(self, module: str, name: str, *, origin: str, version: str | None) -> None:
        if self.pm.is_blocked(name) or self.pm.is_blocked(module):
            self._origins[name] = (origin, version, module, None)
            return
        try:
            obj = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                f"cannot import plugin module {module!r}: {exc}. Is it installed, and on the "
                "Python path?"
            ) from exc
        if self.pm.is_registered(obj):
            # ``--plugin MOD`` for a module an entry point (or an earlier --plugin) already
            # loaded: the same module is one plugin, registered once.
            return
        self.register(obj, name=name, origin=origin, version=version)

    def _load_entry_points(self) -> None:
        from importlib import metadata

        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.pm.is_blocked(ep.name) or self.pm.get_plugin(ep.name) is not None:
                dist = ep.dist
                self._origins.setdefault(
                    ep.name,
                    ("entry point", dist.version if dist else None, ep.value, _dist_name(dist)),
                )
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken third-party package must not stop corpus
                raise PluginError(
                    f"plugin {ep.name!r} (entry point {ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}",
                    plugin=ep.name,
                ) from exc
            dist = ep.dist
            self.register(
                obj,
                name=ep.name,
                origin="entry point",
                version=dist.version if dist else None,
                module=ep.value,
                distribution=_dist_name(dist),
            )

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        origin: str = "module",
        version: str | None = None,
        module: str | None = None,
        distribution: str | None = None,
    ) -> str:
        """Register a plugin object (module, class or instance); returns its name."""
        if name is not None and self.pm.has_plugin(name):
            origin_before = self._origins.get(name, ("another plugin", None, None, None))
            raise PluginError(
                f"cannot register plugin {name!r}: a plugin of that name is already loaded "
                f"({origin_before[0]}, {origin_before[2] or 'unknown module'}); give this one "
                "another name or disable the other with --disable-plugin",
                plugin=name,
            )
        try:
            registered = self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"cannot register plugin {name!r}: {exc}", plugin=name) from exc
        registered = registered or name or self.pm.get_name(plugin)
        self._origins[registered] = (
            origin,
            version,
            module or getattr(plugin, "__name__", type(plugin).__name__),
            distribution,
        )
        self._readers = self._exporters = self._diff_formats = self._executors = None
        return registered

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._origins.pop(name, None)
        self._readers = self._exporters = self._diff_formats = self._executors = None

    # -- registries ------------------------------------------------------------------------

    def _collect(self, hook_name: str, registry: Any) -> Any:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            register = registry.register_from(impl.plugin_name)
            try:
                impl.function(register=register)
            except CorpusError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}",
                    plugin=impl.plugin_name,
                ) from exc
        return registry

    @property
    def readers(self) -> ReaderRegistry:
        if self._readers is None:
            self._readers = self._collect("register_readers", ReaderRegistry())
        return self._readers

    @property
    def exporters(self) -> ExporterRegistry:
        if self._exporters is None:
            self._exporters = self._collect("register_exporters", ExporterRegistry())
        return self._exporters

    @property
    def diff_formats(self) -> dict[str, Any]:
        if self._diff_formats is None:
            registry = _NamedRegistry("diff format")
            self._collect("register_diff_formats", registry)
            self._diff_formats = dict(registry.items)
        return self._diff_formats

    @property
    def executors(self) -> dict[str, Any]:
        """Where ingest can run its shards (``--executor NAME``), by name."""
        if self._executors is None:
            registry = _NamedRegistry("executor")
            self._collect("register_executors", registry)
            self._executors = dict(registry.items)
        return self._executors

    def check_settings(self, config: Config) -> None:
        """Raise ``CONFIG_ERROR`` for unknown tables or keys and badly typed values in
        ``config`` (see :mod:`corpus.settings`); call it before reading any file."""
        if not config.plugins:
            return
        from .settings import SettingsRegistry, check_settings

        registry = self._collect("register_settings", SettingsRegistry())
        check_settings(config, registry, [info.name for info in self.describe()])

    # -- per-document hooks ----------------------------------------------------------------

    def document_key(self, document: Document, path: str) -> str | None:
        """The key a plugin assigns to a document, or None for the default."""
        for impl in self.pm.hook.document_key.get_hookimpls()[::-1]:
            result = _call(impl, document=document, path=path)
            if result is None:
                continue
            if not isinstance(result, str) or not result.strip():
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: document_key must return a non-empty str or "
                    f"None, not {type(result).__name__}",
                    plugin=impl.plugin_name,
                )
            return result
        return None

    def enrich(
        self,
        document: Document,
        config: Config,
        *,
        fail_fast: bool = False,
        path: str | None = None,
        timeout: float | None = None,
    ) -> tuple[Document, list[Finding]]:
        """Run every enricher in hook order; a failing one becomes a finding naming it.

        ``timeout`` (seconds) bounds each plugin call; one that overruns is a PLUGIN_TIMEOUT.
        """
        findings: list[Finding] = []
        path = path or (document.source.path if document.source else document.key)

        def run(impl: Any) -> None:
            nonlocal document
            result = _call(impl, document=document, config=config)
            document = _apply_enrichment(impl.plugin_name, document, result)

        self._each_impl("enrich", run, findings, path=path, timeout=timeout, fail_fast=fail_fast)
        return document, findings

    def validate(
        self,
        document: Document,
        config: Config,
        *,
        fail_fast: bool = False,
        path: str | None = None,
        timeout: float | None = None,
    ) -> list[Finding]:
        """Collect findings from every validator; a failing one becomes a finding naming it."""
        findings: list[Finding] = []
        path = path or (document.source.path if document.source else document.key)

        def run(impl: Any) -> None:
            result = _call(impl, document=document, config=config)
            findings.extend(_check_findings(impl.plugin_name, result, path))

        self._each_impl("validate", run, findings, path=path, timeout=timeout, fail_fast=fail_fast)
        return findings

    def _each_impl(
        self,
        hook_name: str,
        run: Callable[[Any], None],
        findings: list[Finding],
        *,
        path: str,
        timeout: float | None,
        fail_fast: bool,
    ) -> None:
        """Call ``run`` per implementation in hook order, each bounded and failure-isolated."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls()[::-1]:
            try:
                if timeout:
                    with deadline(timeout, impl.plugin_name, hook_name):
                        run(impl)
                else:  # the common case, without a context manager per call
                    run(impl)
            except Exception as exc:
                if fail_fast:
                    raise
                findings.append(_plugin_failure(impl.plugin_name, hook_name, path, exc))

    def register_commands(self, cli: click.Group) -> None:
        self.pm.hook.register_commands(cli=cli)

    # -- listing ---------------------------------------------------------------------------

    def describe(self) -> list[PluginInfo]:
        """Every plugin known: loaded ones with their hooks, blocked ones as disabled."""
        rows = []
        for name, (origin, version, module, dist) in self._origins.items():
            plugin = self.pm.get_plugin(name)
            hooks: tuple[str, ...] = ()
            if plugin is not None:
                hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            if version is _CORPUS_VERSION:
                version = _corpus_version()
            rows.append(
                PluginInfo(
                    name=name,
                    origin=origin,
                    version=version,
                    hooks=hooks,
                    enabled=plugin is not None,
                    module=module,
                    distribution=dist,
                )
            )
        return rows

    def names(self) -> list[str]:
        """Names of the plugins loaded (blocked ones are not)."""
        return [name for name, plugin in self.pm.list_name_plugin() if plugin is not None]


class _NamedRegistry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {}
        self.owners: dict[str, str] = {}

    def register_from(self, plugin_name: str) -> Callable[[Any], None]:
        def register(item: Any) -> None:
            name = getattr(item, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"{plugin_name} registered a {self.kind} without a name")
            if name in self.items:
                raise PluginError(
                    f"{self.kind} {name!r} is registered twice: by {self.owners[name]} and by "
                    f"{plugin_name}",
                    plugin=plugin_name,
                )
            self.items[name] = item
            self.owners[name] = plugin_name

        return register


def _dist_name(dist: Any) -> str | None:
    if dist is None:
        return None
    try:
        return dist.metadata["Name"]
    except Exception:  # pragma: no cover - odd metadata
        return None


class PluginTimeout(PluginError):
    """A plugin call ran past ``--plugin-timeout``."""

    code = "PLUGIN_TIMEOUT"


@contextlib.contextmanager
def deadline(seconds: float | None, plugin: str, hook: str):
    """Interrupt the enclosed plugin call after ``seconds`` with :class:`PluginTimeout`.

    Uses SIGALRM, so it works in the main thread of a process (the CLI and each worker) and
    only for Python code: a plugin stuck inside a C call is interrupted when it returns.
    """
    if (
        not seconds
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise PluginTimeout(
            f"{hook} did not return within {seconds:g}s (--plugin-timeout)", plugin=plugin
        )

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call(impl: Any, **kwargs: Any) -> Any:
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


def _apply_enrichment(plugin: str, document: Document, result: Any) -> Document:
    if result is None:
        return document
    if isinstance(result, Document):
        return result
    if isinstance(result, dict):
        import json

        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            raise PluginError(
                f"enrich returned annotations that are not JSON-safe: {exc}", plugin=plugin
            ) from exc
        return attrs.evolve(document, annotations={**document.annotations, plugin: result})
    raise PluginError(
        f"enrich must return a Document, a dict or None, not {type(result).__name__}",
        plugin=plugin,
    )


def _check_findings(plugin: str, result: Any, path: str) -> list[Finding]:
    if result is None:
        return []
    if isinstance(result, Finding):
        result = [result]
    try:
        items = list(result)
    except TypeError:
        raise PluginError(
            f"validate must return findings or None, not {type(result).__name__}", plugin=plugin
        ) from None
    out = []
    for item in items:
        if not isinstance(item, Finding):
            raise PluginError(
                f"validate must return Finding objects, not {type(item).__name__}", plugin=plugin
            )
        out.append(attrs.evolve(item, plugin=item.plugin or plugin, path=item.path or path))
    return out


def _plugin_failure(plugin: str, hook: str, path: str, exc: BaseException) -> Finding:
    if isinstance(exc, attrs.exceptions.FrozenInstanceError):
        detail = "tried to modify a frozen document; return a new one made with attrs.evolve"
    elif isinstance(exc, PluginError):
        detail = exc.message
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return Finding(
        code=exc.code if isinstance(exc, PluginTimeout) else "PLUGIN_FAILED",
        severity=Severity.ERROR,
        message=f"plugin {plugin!r} failed in {hook}: {detail}. Fix or disable the plugin "
        f"(--disable-plugin {plugin}).",
        path=path,
        plugin=plugin,
    )


_default: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide default plugin set, loaded lazily on first use."""
    global _default
    if _default is None:
        _default = Plugins(PluginSpec.from_env())
    return _default


def load_plugins(
    modules: Sequence[str] = (), disabled: Sequence[str] = (), *, entry_points: bool = True
) -> Plugins:
    """A fresh plugin set: built-ins, entry points (unless turned off) and extra modules."""
    return Plugins(PluginSpec.from_env(modules, disabled, entry_points))
