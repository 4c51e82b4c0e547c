"""Test helpers for corpus plugin authors, and a pytest plugin that offers them as fixtures.

A plugin's tests want three things: a document to feed it, the pipeline run with *only* the
built-ins and the plugin under test (not whatever else is installed), and a check that what
comes out is still valid NITF and JSON. The functions below do that::

    from corpus.testing import document_from_text, run_pipeline, assert_valid_nitf

    doc = document_from_text(" date 2024-01-02 Title\\n\\nA paragraph.")
    result = run_pipeline(doc, MyPlugin(), formats=["nitf"])
    assert_valid_nitf(result.outputs["nitf"])

With ``newscorpus`` installed, pytest loads this module as a plugin (entry point ``pytest11``),
so the fixtures ``corpus_cli`` (run the command line in-process with given plugins, like
pytest's ``pytester``), ``corpus_pipeline`` and ``corpus_standards`` are available in every
test without an import.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .config import Config
from .model import Document, Finding

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .pipeline import FileResult
    from .plugins import Plugins

__all__ = [
    "CliResult",
    "CorpusCLI",
    "assert_valid_json",
    "assert_valid_nitf",
    "document_from_text",
    "find_standards",
    "finding_codes",
    "make_config",
    "make_plugins",
    "run_pipeline",
]

#: Where the official schemas are looked for when no path is given (see :func:`find_standards`).
STANDARDS_ENV = "CORPUS_STANDARDS"
_NITF_XSD = Path("nitf") / "nitf-3-6.xsd"

PluginArg = object | tuple[str, object]


# -- plugins and settings ------------------------------------------------------------------


def make_plugins(
    *plugins: PluginArg,
    modules: Sequence[str] = (),
    disabled: Sequence[str] = (),
) -> Plugins:
    """A hermetic plugin set: the built-ins plus exactly the given plugin objects.

    Entry points of installed packages are *not* loaded, so a test sees only what it names.
    Each plugin is a module, class or instance, or a ``(name, plugin)`` pair to choose the
    name it is registered (and its annotations stored) under. ``modules`` are imported by
    name, as ``--plugin`` does; ``disabled`` blocks plugins by name, built-ins included.
    A hook name or argument that matches no hookspec raises :class:`~corpus.errors.PluginError`.
    """
    import pluggy

    from .errors import PluginError
    from .plugins import Plugins, PluginSpec

    pm = Plugins(PluginSpec(modules=tuple(modules), disabled=tuple(disabled), entry_points=False))
    try:
        for item in plugins:
            name, obj = item if isinstance(item, tuple) else (None, item)
            pm.register(obj, name=name)
        pm.pm.check_pending()  # a misspelt hook name fails here, not silently at run time
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
    return pm


def make_config(settings: Mapping[str, Mapping[str, Any]] | None = None) -> Config:
    """Run settings with the given per-plugin tables, as ``[plugins.NAME]`` in corpus.toml."""
    return Config(plugins={name: dict(table) for name, table in (settings or {}).items()})


# -- documents -----------------------------------------------------------------------------


def document_from_text(
    text: str | bytes,
    *,
    path: str = "article.txt",
    plugins: Plugins | None = None,
    reader: str | None = "article",
) -> Document:
    """Read a string in the delimited article format (or another reader's) into a Document.

    ``path`` is the file name the reader is told about: the key is derived from it
    (``article.txt`` -> ``article``). Findings from reading are dropped; use
    :func:`run_pipeline` when a test is about them.
    """
    from .pipeline import read_bytes

    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_bytes(data, path, plugins=plugins or make_plugins(), reader=reader).document


# -- the pipeline --------------------------------------------------------------------------


def run_pipeline(
    source: Document | str | bytes,
    *plugins: PluginArg,
    formats: Sequence[str] = (),
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    path: str = "article.txt",
    disabled: Sequence[str] = (),
    fail_fast: bool = False,
) -> FileResult:
    """Run enrich -> validate -> export with the built-ins plus ``plugins`` only.

    ``source`` is a Document, or the text/bytes of an input file (then it is read first, with
    ``path`` choosing the reader by extension). ``settings`` are per-plugin tables. Returns the
    :class:`corpus.pipeline.FileResult`: ``status``, ``findings``, ``document``, ``outputs``
    (format name -> bytes). With ``fail_fast`` a failing plugin raises instead of becoming a
    ``PLUGIN_FAILED`` finding, which gives a test the real traceback. Settings are checked
    first, as the command line checks them: an undeclared key or a wrong type raises
    :class:`corpus.errors.ConfigError`.
    """
    from .pipeline import process_data

    pm = make_plugins(*plugins, disabled=disabled)
    config = make_config(settings)
    pm.check_settings(config)  # a typo in ``settings`` is CONFIG_ERROR here, as on the CLI
    if not isinstance(source, Document):
        data = source.encode("utf-8") if isinstance(source, str) else source
        return process_data(
            data, path, plugins=pm, config=config, formats=formats, fail_fast=fail_fast
        )
    return _process_document(source, pm, config, formats, fail_fast)


def _process_document(
    document: Document,
    pm: Plugins,
    config: Config,
    formats: Sequence[str],
    fail_fast: bool,
) -> FileResult:
    from .pipeline import STATUS_REJECTED, FileResult, status_of

    path = document.source.path if document.source else document.key
    findings: list[Finding] = []
    document, more = pm.enrich(document, config, fail_fast=fail_fast)
    findings.extend(more)
    findings.extend(pm.validate(document, config, fail_fast=fail_fast))
    outputs: dict[str, bytes] = {}
    if status_of(findings) != STATUS_REJECTED:
        for fmt in formats:
            exporter = pm.exporters.get(fmt)
            outputs[fmt] = exporter.export(document)
            dropped = getattr(exporter, "dropped", None)
            if dropped is not None:
                findings.extend(f for f in dropped(document) if f not in findings)
    return FileResult(path, status_of(findings), findings, document, outputs)


def finding_codes(findings: Iterable[Finding], plugin: str | None = None) -> list[str]:
    """The codes of ``findings`` in order, only those of ``plugin`` when it is given.

    ``assert finding_codes(result.findings, plugin="mine") == ["MINE_TOO_LONG"]`` checks your
    plugin's findings without depending on what the built-in validators say.
    """
    return [f.code for f in findings if plugin is None or f.plugin == plugin]


# -- validation ----------------------------------------------------------------------------


def find_standards(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the official schemas (``nitf/``, ``ninjs/``, ``newsml-g2/``).

    Looked up in this order: ``path``; ``$CORPUS_STANDARDS``; a ``shared/standards`` folder
    beside the current directory or one of its parents. Raises ``FileNotFoundError`` with
    what to set when none holds the NITF schema.
    """
    if path is not None:
        candidates = [Path(path)]
    elif os.environ.get(STANDARDS_ENV):
        candidates = [Path(os.environ[STANDARDS_ENV])]
    else:
        here = Path.cwd().resolve()
        candidates = [p / "shared" / "standards" for p in (here, *here.parents)]
    for candidate in candidates:
        if (candidate / _NITF_XSD).is_file():
            return candidate
    raise FileNotFoundError(
        f"the official NITF schema ({_NITF_XSD}) was not found in "
        f"{', '.join(str(c) for c in candidates[:3])}{' ...' if len(candidates) > 3 else ''}; "
        f"set {STANDARDS_ENV} to the folder holding nitf/, ninjs/ and newsml-g2/"
    )


@functools.lru_cache(maxsize=4)
def _nitf_schema(xsd: Path) -> Any:
    from lxml import etree

    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(xsd), parser))


#: Set (to anything) to make a missing schema fail tests instead of skipping them (CI).
REQUIRE_STANDARDS_ENV = "CORPUS_REQUIRE_STANDARDS"
#: Where to get the schema, for the skip message.
SCHEMA_HELP = (
    "get nitf-3-6.xsd, nitf-3-6-ruby-include.xsd and xml.xsd from IPTC (the examples/ folder "
    "of github.com/iptc/newsml-g2), put them in FOLDER/nitf/ and set CORPUS_STANDARDS=FOLDER"
)


def _skip_without_schemas(reason: str) -> None:
    """Skip the running pytest test (unless CORPUS_REQUIRE_STANDARDS is set); else return."""
    if os.environ.get(REQUIRE_STANDARDS_ENV):
        return
    try:
        import pytest
    except ImportError:  # pragma: no cover - outside pytest: the FileNotFoundError is raised
        return
    pytest.skip(f"{reason}. To run this check: {SCHEMA_HELP}")


def assert_valid_nitf(data: bytes, *, standards: str | os.PathLike[str] | None = None) -> None:
    """Fail (AssertionError) unless ``data`` is NITF 3.6 that the official XSD accepts.

    Parsing is offline: no network, no DTDs, no entity expansion. When the schema is not
    found, a pytest test is skipped with a reason saying where to get it (or fails with
    ``FileNotFoundError`` when ``CORPUS_REQUIRE_STANDARDS`` is set).
    """
    from lxml import etree

    try:
        folder = find_standards(standards)
    except FileNotFoundError as exc:
        _skip_without_schemas(str(exc))
        raise
    schema = _nitf_schema((folder / _NITF_XSD).resolve())
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"export is not well-formed XML: {exc}") from None
    if not schema.validate(tree):
        errors = "\n".join(f"  line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"export is not valid NITF 3.6:\n{errors}")


@functools.lru_cache(maxsize=1)
def _document_schema() -> dict[str, Any]:
    from importlib import resources

    text = (resources.files("corpus") / "schemas" / "document.schema.json").read_text("utf-8")
    return json.loads(text)


def assert_valid_json(data: bytes | str | Mapping[str, Any]) -> None:
    """Fail unless ``data`` (a JSON export, or its parsed form) matches the document schema.

    Needs the ``jsonschema`` package (``pip install newscorpus[test]``).
    """
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("assert_valid_json needs jsonschema: pip install jsonschema") from exc
    instance = json.loads(data) if isinstance(data, (bytes, str)) else data
    schema = _document_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = "\n".join(
            f"  {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in errors[:20]
        )
        raise AssertionError(f"export does not match document.schema.json:\n{lines}")


# -- the command line in-process -----------------------------------------------------------


@attrs.frozen
class CliResult:
    """What a command run left: exit code, what it printed, and any escaped exception."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    def json(self) -> Any:
        """``stdout`` parsed as JSON (for commands run with ``--json``)."""
        return json.loads(self.stdout)


class CorpusCLI:
    """Run ``corpus`` commands in-process with a chosen set of plugins, like pytest's pytester.

    Only the built-ins and the plugins given here (or with ``--plugin`` in the arguments) are
    loaded; installed entry points are not. Commands that plugins add through
    ``register_commands`` are added to a private copy of the command group, so one test's
    commands never leak into another's.
    """

    def __init__(
        self,
        *plugins: PluginArg,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        disabled: Sequence[str] = (),
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.plugins: list[PluginArg] = list(plugins)
        self.settings: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (settings or {}).items()}
        self.disabled = list(disabled)
        self.cwd = Path(cwd) if cwd is not None else None

    def register(self, plugin: object, name: str | None = None) -> None:
        """Add a plugin object for the following runs."""
        self.plugins.append((name, plugin) if name else plugin)

    def run(
        self,
        *args: str | os.PathLike[str],
        input: str | bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> CliResult:
        """Run ``corpus ARGS...`` and return its :class:`CliResult` (never raises SystemExit).

        Global ``--plugin``, ``--disable-plugin`` and ``--config`` options in ``args`` act as
        they do on the real command line.
        """
        from click.testing import CliRunner

        from .cli import cli
        from .cliutil import AppState
        from .config import load_config

        argv = [os.fspath(a) for a in args]
        modules, disabled, config_path = _global_options(argv)
        state_plugins = make_plugins(
            *self.plugins, modules=modules, disabled=[*self.disabled, *disabled]
        )
        config = load_config(config_path, start=self.cwd or ".")
        if self.settings:
            config = attrs.evolve(config, plugins={**config.plugins, **self.settings})
        group = _private_group(cli)
        state_plugins.register_commands(group)
        try:
            runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
        except TypeError:
            runner = CliRunner()
        with _chdir(self.cwd):
            result = runner.invoke(
                group,
                argv,
                obj=AppState(state_plugins, config),
                input=input,
                env=dict(env or {}),
                catch_exceptions=True,
            )
        exception = result.exception
        if isinstance(exception, SystemExit):
            exception = None
        return CliResult(result.exit_code, result.stdout, result.stderr, exception)


def _global_options(argv: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """``--plugin``, ``--disable-plugin`` and ``--config`` given before the sub-command."""
    modules: list[str] = []
    disabled: list[str] = []
    config: str | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        flag, _, value = arg.partition("=")
        if flag in ("--plugin", "--disable-plugin", "--config"):
            if not value and i + 1 < len(argv):
                i += 1
                value = argv[i]
            if flag == "--plugin":
                modules.append(value)
            elif flag == "--disable-plugin":
                disabled.append(value)
            else:
                config = value
        i += 1
    return modules, disabled, config


def _private_group(group: click.Group) -> click.Group:
    clone = copy.copy(group)
    clone.commands = dict(group.commands)
    return clone


class _chdir:
    """Change the working directory for a ``with`` block (None: stay)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: str | None = None

    def __enter__(self) -> None:
        if self.path is not None:
            self.old = os.getcwd()
            os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            os.chdir(self.old)


# -- the pytest plugin ---------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - corpus.testing is importable without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def corpus_cli(tmp_path: Path) -> CorpusCLI:
        """A :class:`CorpusCLI` working in ``tmp_path``: ``corpus_cli.register(MyPlugin())``,
        then ``corpus_cli.run("ingest", "in", "-o", "out")``."""
        return CorpusCLI(cwd=tmp_path)

    @pytest.fixture
    def corpus_pipeline() -> Any:
        """:func:`run_pipeline`, for tests that prefer a fixture to an import."""
        return run_pipeline

    @pytest.fixture(scope="session")
    def corpus_standards() -> Path:
        """The official schemas folder (see :func:`find_standards`); skips when absent."""
        try:
            return find_standards()
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
