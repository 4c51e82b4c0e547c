"""Every stable error and finding code the package can emit is documented in docs/errors.md.

Codes are collected from the source with an AST walk (not a regex over the text, which would
also match docstrings and SQL): ``code="..."`` keyword arguments, the first argument of
``Finding(...)`` and of any function whose first parameter is ``code`` (``state.warn(...)``),
and the ``code = "..."`` default of each exception class.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import corpus

PACKAGE = Path(corpus.__file__).parent
ERRORS_DOC = PACKAGE.parent / "docs" / "errors.md"
CODE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*\Z")


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def code_taking_functions(trees: dict[Path, ast.Module]) -> set[str]:
    """Names of functions and methods whose first parameter (after self) is ``code``."""
    names = {"Finding"}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
                params = [p for p in params if p not in ("self", "cls")]
                if params and params[0] == "code":
                    names.add(node.name)
    return names


def emitted_codes(package: Path = PACKAGE) -> dict[str, list[str]]:
    """code -> where it is emitted (``path:line``), for every Python file under ``package``."""
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(package.rglob("*.py"))
    }
    takers = code_taking_functions(trees)
    found: dict[str, list[str]] = {}

    def add(value: str | None, path: Path, node: ast.AST) -> None:
        if value is not None:
            where = f"{path.relative_to(package.parent)}:{node.lineno}"
            found.setdefault(value, []).append(where)

    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        add(_string(keyword.value), path, node)
                if node.args and _name(node) in takers:
                    add(_string(node.args[0]), path, node)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    target = (
                        item.targets[0]
                        if isinstance(item, ast.Assign) and len(item.targets) == 1
                        else item.target
                        if isinstance(item, ast.AnnAssign)
                        else None
                    )
                    if isinstance(target, ast.Name) and target.id == "code" and item.value:
                        add(_string(item.value), path, item)
    return found


def documented(text: str) -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]*)`", text))


def test_the_collector_finds_codes_of_every_kind():
    """Keyword, Finding, a code-first helper and a class default: the walk sees them all."""
    codes = emitted_codes()
    assert "NITF_NO_TITLE" in codes  # state.warn("NITF_NO_TITLE", ...)
    assert "EXPORT_FAILED" in codes  # Finding("EXPORT_FAILED", ...)
    assert "BAD_QUERY" in codes  # ConfigError(..., code="BAD_QUERY")
    assert "OUTPUT_ERROR" in codes and "DIFF_CONFLICT" in codes  # class defaults
    assert "COMMIT" not in codes and "NFKC" not in codes  # SQL and Unicode forms are not codes
    assert len(codes) > 60


def test_the_collector_sees_a_new_undocumented_code(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        "class E(Exception):\n    code = 'E_DEFAULT'\n"
        "def warn(self, code, message): ...\n"
        "def f(state):\n"
        "    state.warn('E_WARNED', 'x')\n"
        "    raise E('x', code='E_KEYWORD')\n"
    )
    assert set(emitted_codes(package)) == {"E_DEFAULT", "E_WARNED", "E_KEYWORD"}
    assert not documented("`E_DEFAULT` only") >= set(emitted_codes(package))


def test_every_emitted_code_is_documented_in_errors_md():
    codes = emitted_codes()
    malformed = {code: where for code, where in codes.items() if not CODE.match(code)}
    assert not malformed, f"codes must be UPPER_SNAKE strings: {malformed}"
    missing = {
        code: where
        for code, where in sorted(codes.items())
        if code not in documented(ERRORS_DOC.read_text(encoding="utf-8"))
    }
    assert not missing, f"codes not in docs/errors.md (add a row saying what to do): {missing}"
