"""docs/hooks.md cannot drift from corpus/hookspecs.py, and every hook is tested.

In the manner of datasette's test_docs.py and test_plugins.py: each hookspec must have a
heading in the reference giving its exact arguments, the sections of Arguments, Returns,
Ordering and a working example; each hook must have a ``test_hook_<name>`` test somewhere in
tests/. The ``test_hook_*`` tests below run the reference's own examples, so an example that
stops working fails here. ``check_pending`` catches implementations of hooks that do not exist.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
import types
from pathlib import Path

import attrs
import pytest

import corpus.hookspecs
from corpus import Block, Document, hookimpl
from corpus.errors import PluginError
from corpus.testing import CorpusCLI, finding_codes, make_config, make_plugins, run_pipeline

ROOT = Path(__file__).resolve().parent.parent
HOOKS_MD = ROOT / "docs" / "hooks.md"
HEADING_RE = re.compile(r"^### (\w+)\((.*)\)\s*$", re.M)
FENCE_RE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def hookspecs() -> dict[str, inspect.Signature]:
    """Every hook of the contract: name -> signature."""
    return {
        name: inspect.signature(func)
        for name, func in inspect.getmembers(corpus.hookspecs, inspect.isfunction)
        if getattr(func, "corpus_spec", None) is not None
    }


def sections() -> dict[str, tuple[str, str]]:
    """``name -> (arguments as written in the heading, section text)`` of docs/hooks.md."""
    text = HOOKS_MD.read_text(encoding="utf-8")
    found = {}
    matches = list(HEADING_RE.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        stop = text.find("\n## ", match.end(), end)
        found[match.group(1)] = (match.group(2), text[match.end() : stop if stop != -1 else end])
    return found


def example(hook: str) -> types.ModuleType:
    """The Python example of a hook's section, run as a module (a plugin)."""
    code = FENCE_RE.findall(sections()[hook][1])
    assert len(code) == 1, f"section {hook} should have exactly one python example"
    module = types.ModuleType(f"hooks_md_{hook}")
    exec(compile(code[0], f"docs/hooks.md ({hook})", "exec"), module.__dict__)
    return module


SPECS = hookspecs()


def test_the_contract_has_hooks() -> None:
    assert {"enrich", "validate", "register_commands", "document_key"} <= set(SPECS)


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_every_hook_has_a_heading_with_its_arguments(hook: str) -> None:
    assert hook in sections(), f"docs/hooks.md has no '### {hook}(...)' heading"
    written = [a.strip() for a in sections()[hook][0].split(",") if a.strip()]
    assert written == list(SPECS[hook].parameters), f"arguments of {hook} differ from the spec"


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_every_hook_section_is_complete(hook: str) -> None:
    body = sections()[hook][1]
    for part in ("**Arguments:**", "**Returns:**", "**Ordering:**"):
        assert part in body, f"section {hook} lacks {part}"
    for arg in SPECS[hook].parameters:
        assert f"`{arg}`" in body, f"section {hook} does not describe argument {arg}"
    module = example(hook)
    assert hasattr(module, hook) or any(
        hasattr(obj, hook) for obj in vars(module).values() if isinstance(obj, type)
    ), f"the example of {hook} does not implement it"


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_firstresult_is_documented_exactly_where_it_applies(hook: str) -> None:
    opts = getattr(corpus.hookspecs, hook).corpus_spec
    assert ("*firstresult*" in sections()[hook][1]) == bool(opts.get("firstresult"))


def test_no_heading_documents_a_hook_that_does_not_exist() -> None:
    assert set(sections()) == set(SPECS)


def test_every_example_is_a_valid_plugin() -> None:
    """Registering every example together passes pluggy's checks (names and arguments)."""
    pm = make_plugins(*((f"example-{h}", example(h)) for h in SPECS))
    pm.pm.check_pending()
    for hook in SPECS:
        assert f"example-{hook}" in [
            i.plugin_name for i in getattr(pm.pm.hook, hook).get_hookimpls()
        ]


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_every_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_names(), f"no test_hook_{hook} in tests/"


# -- check_pending: implementations of hooks that do not exist ------------------------------


class Typo:
    @hookimpl
    def enrichh(self, document):  # not a hook
        return {}


class WrongArgument:
    @hookimpl
    def enrich(self, documnt):  # not an argument of enrich
        return {}


def test_check_pending_passes_for_builtins_and_examples() -> None:
    pm = make_plugins()
    pm.pm.check_pending()
    assert "article" in pm.names()


def test_misspelt_hook_is_refused_with_the_plugin_named() -> None:
    with pytest.raises(PluginError, match="enrichh"):
        make_plugins(("typo", Typo()))


def test_misspelt_argument_is_refused_with_the_plugin_named() -> None:
    with pytest.raises(PluginError, match="wrong-argument"):
        make_plugins(("wrong-argument", WrongArgument()))


# -- the order the reference promises -------------------------------------------------------


def _order(*marks: dict) -> list[str]:
    calls: list[str] = []

    def plugin(name: str, mark: dict) -> tuple[str, object]:
        class P:
            @hookimpl(**mark)
            def enrich(self, document):
                calls.append(name)

        return name, P()

    pm = make_plugins(*(plugin(n, m) for n, m in zip("abc", marks, strict=True)))
    pm.enrich(Document(key="k"), make_config())
    return calls


def test_call_order_is_as_documented() -> None:
    text = HOOKS_MD.read_text(encoding="utf-8")
    assert "registered as a, b, c the calls go c, b, a" in text
    assert _order({}, {}, {}) == ["c", "b", "a"]
    assert "with b marked `tryfirst` they go b, c,\n  a" in text
    assert _order({}, {"tryfirst": True}, {}) == ["b", "c", "a"]
    assert "with b marked `trylast`, c, a, b" in text
    assert _order({}, {"trylast": True}, {}) == ["c", "a", "b"]


# -- one test per hook, running the reference's example ------------------------------------


def test_hook_register_readers() -> None:
    from corpus.pipeline import read_bytes

    pm = make_plugins(("lines", example("register_readers")))
    result = read_bytes(b"Headline\nFirst.\n\nSecond.\n", "x.lines", plugins=pm)
    assert [b.text for b in result.document.blocks] == ["Headline", "First.", "Second."]
    assert result.document.blocks[2].line_start == 4
    assert pm.readers.owner("lines") == "lines"


def test_hook_register_exporters() -> None:
    document = Document(key="k", title="Budget passes", blocks=[Block("Text of the article.")])
    result = run_pipeline(document, ("title", example("register_exporters")), formats=["title"])
    assert result.outputs["title"] == b"Budget passes\n"


def test_hook_register_diff_formats() -> None:
    pm = make_plugins(("count", example("register_diff_formats")))
    renderer = pm.diff_formats["count"]
    assert renderer.render(types.SimpleNamespace(changes=[1, 2, 3]), {}) == "3 change(s)\n"


def test_hook_register_executors(tmp_path: Path) -> None:
    from corpus.ingest import IngestOptions, run_ingest

    pm = make_plugins(("inline", example("register_executors")))
    assert {"local", "dask", "inline"} <= set(pm.executors)
    articles = ROOT / "fixtures" / "articles"
    reports = []
    for name, executor in (("one", "local"), ("inline", "inline")):
        options = IngestOptions(
            sources=(str(articles),), output=str(tmp_path / name), executor=executor
        )
        reports.append(run_ingest(options, plugins=pm, config=make_config()))
    assert reports[0].files == reports[1].files
    assert reports[1].totals_dict()["outputs"] > 0
    for path in sorted((tmp_path / "one").rglob("*.xml")):
        assert (
            path.read_bytes()
            == (tmp_path / "inline" / path.relative_to(tmp_path / "one")).read_bytes()
        )


def test_hook_register_commands(tmp_path: Path) -> None:
    cli = CorpusCLI(("counter", example("register_commands")), cwd=tmp_path)
    result = cli.run("count-plugins")
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == len(
        make_plugins(("counter", example("register_commands"))).names()
    )


def test_hook_document_key() -> None:
    plugin = ("dated", example("document_key"))
    dated = run_pipeline(" date 2024-05-01 Title\n\nBody.\n", plugin, path="feed/story.txt")
    assert dated.document.key == "2024/05/story"
    undated = run_pipeline("Title\n\nBody.\n", plugin, path="feed/story.txt")
    assert undated.document.key == "feed/story"


def test_hook_enrich() -> None:
    plugin = ("short", example("enrich"))
    document = Document(key="k", blocks=[Block("One."), Block("Two.")])
    assert run_pipeline(document, plugin).document.annotations["short"] == {"short": True}
    result = run_pipeline(document, plugin, settings={"short": {"max_paragraphs": 1}})
    assert result.document.annotations["short"] == {"short": False}


def test_hook_validate() -> None:
    document = Document(
        key="k", date=dt.date(2024, 1, 2), blocks=[Block("calm words", line_start=3)]
    )
    plugin = ("shout", example("validate"))
    assert "SHOUTING_PARAGRAPH" not in finding_codes(run_pipeline(document, plugin).findings)
    loud = attrs.evolve(document, blocks=[Block("STOP THE PRESSES", line_start=3)])
    findings = [f for f in run_pipeline(loud, plugin).findings if f.plugin == "shout"]
    assert [(f.code, f.line, f.severity.value) for f in findings] == [
        ("SHOUTING_PARAGRAPH", 3, "warning")
    ]
