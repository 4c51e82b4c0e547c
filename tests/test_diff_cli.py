"""``corpus diff`` on the command line: formats, exit codes, folders, store specs, plugins."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diff"


def pair(name: str) -> tuple[str, str]:
    return str(FIXTURES / name / "old.txt"), str(FIXTURES / name / "new.txt")


def test_identical_files_exit_0_and_print_nothing(run_cli):
    result = run_cli("diff", *pair("13_identical"))
    assert result.exit_code == 0
    assert result.output == ""


def test_piped_text_uses_markers(run_cli):
    result = run_cli("diff", *pair("01_corrected_name"))
    assert result.exit_code == 1
    assert "[-Matveyev-]{+Matveev+}" in result.output
    assert "\x1b[" not in result.output
    assert "¶4 edited" in result.output


def test_color_replaces_markers(run_cli):
    result = run_cli("diff", "--color", *pair("01_corrected_name"))
    assert "\x1b[" in result.output and "[-Matveyev-]" not in result.output


def test_moves_shown_as_moves(run_cli):
    result = run_cli("diff", *pair("03_paragraph_moved_up"))
    assert "¶2 moved from ¶10" in result.output
    assert "deleted" not in result.output and "inserted" not in result.output


def test_context(run_cli):
    narrow = run_cli("diff", "-C", "0", *pair("01_corrected_name")).output
    wide = run_cli("diff", "--context", "2", *pair("01_corrected_name")).output
    assert "… 3 unchanged paragraphs …" in narrow and "… 9 unchanged paragraphs …" in narrow
    assert "… 1 unchanged paragraph …" in wide and "Mikhail" in wide
    assert narrow.count("\n¶") == 1 and wide.count("\n¶") == 5


def test_stat(run_cli):
    result = run_cli("diff", "--stat", *pair("10_truncated_stub"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "+8 -328 words; 1 paragraph inserted, 12 deleted"
    assert lines[2].startswith("paragraphs: 13 -> 2;")
    stat_json = json.loads(run_cli("diff", "--stat", "--json", *pair("10_truncated_stub")).output)
    assert stat_json["paragraphs_deleted"] == 12


def test_json_format_validates(run_cli):
    import jsonschema

    from corpus.diff.schema import DIFF_SCHEMA

    result = run_cli("diff", "--format", "json", *pair("14_moved_and_edited"))
    assert result.exit_code == 1
    data = json.loads(result.output)
    jsonschema.validate(data, DIFF_SCHEMA)
    assert [p["op"] for p in data["paragraphs"]].count("move") == 1
    assert data["old_hash"] and data["new_hash"]


def test_ignore_cosmetic(run_cli):
    shown = run_cli("diff", *pair("09_cosmetic_only"))
    hidden = run_cli("diff", "--ignore", "cosmetic", *pair("09_cosmetic_only"))
    assert shown.exit_code == 1 and "cosmetic" in shown.output
    assert hidden.exit_code == 0 and hidden.output == ""
    mixed = run_cli("diff", "--ignore", "cosmetic", "--json", *pair("12_non_ascii_albanian"))
    assert mixed.exit_code == 1 and json.loads(mixed.output)["ignored"] == ["cosmetic"]


def test_html_page_structure_and_escaping(run_cli):
    result = run_cli("diff", "--format", "html", *pair("18_markup_in_text"))
    assert result.exit_code == 1
    page = result.output
    assert "<script>" not in page and "<img" not in page
    tree = lxml_html.document_fromstring(page)
    assert not tree.xpath("//script | //img | //link | //*[@src] | //*[@href]")
    assert tree.xpath("//style")
    rows = tree.xpath("//table[@class='body']/tr[@class]")
    assert [r.get("class") for r in rows] == ["edit", "equal"]
    dels = [d.text_content() for d in rows[0].xpath(".//td[@class='old']//del")]
    ins = [i.text_content() for i in rows[0].xpath(".//td[@class='new']//ins")]
    assert "</script" in dels and "img src=x onerror=" in ins
    old_cell = rows[0].xpath(".//td[@class='old']")[0].text_content()
    assert old_cell == "The attacker posted <script>alert('x')</script> on the front page & left."
    header = tree.xpath("//table[@class='header']/tr[td]")
    assert header[0].xpath("td")[0].text_content() == "title"
    assert "<b>tags</b>" in header[0].xpath("td")[2].text_content()


def test_html_marks_moves(run_cli):
    tree = lxml_html.document_fromstring(
        run_cli("diff", "-f", "html", *pair("14_moved_and_edited")).output
    )
    move = tree.xpath("//tr[@class='move']")
    assert len(move) == 1 and move[0].get("data-old") == "8" and move[0].get("data-new") == "3"
    assert move[0].xpath(".//del")[0].text_content() == "director"


def test_trouble_exits_2(run_cli, tmp_path):
    missing = run_cli("diff", str(tmp_path / "nope.txt"), str(tmp_path / "gone.txt"))
    assert missing.exit_code == 2 and "corpus: error:" in missing.output
    (tmp_path / "empty.txt").write_bytes(b"")
    bad = run_cli("diff", str(tmp_path / "empty.txt"), pair("01_corrected_name")[0])
    assert bad.exit_code == 2 and "corpus: error:" in bad.output
    unknown = run_cli("diff", "-f", "nope", *pair("01_corrected_name"))
    assert unknown.exit_code == 2 and "unknown diff format 'nope'" in unknown.output
    mixed = run_cli("diff", str(FIXTURES), pair("01_corrected_name")[0])
    assert mixed.exit_code == 2


def test_plugin_diff_format(run_cli, tmp_path, monkeypatch):
    (tmp_path / "shout_format.py").write_text(
        "from corpus import hookimpl\n"
        "class Shout:\n"
        "    name = 'shout'\n"
        "    def render(self, diff, options):\n"
        "        return diff.summary_line().upper() + '\\n'\n"
        "@hookimpl\n"
        "def register_diff_formats(register):\n"
        "    register(Shout())\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run_cli("--plugin", "shout_format", "diff", "-f", "shout", *pair("01_corrected_name"))
    assert result.exit_code == 1
    assert result.output == "+1 -1 WORDS; 1 PARAGRAPH EDITED\n"


def _snapshots(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "world").mkdir(parents=True)
    names = {
        "01_corrected_name": ("world/duma.txt", "world/duma.txt"),
        "13_identical": ("same.txt", "same.txt"),
        "08_liveblog_update_top": ("storm.txt", "renamed-storm.txt"),
        "11_non_ascii_malayalam": ("rain.txt", None),
        "17_numbers_changed": (None, "refugees.txt"),
    }
    for fixture, (old, new) in names.items():
        if old:
            shutil.copy(FIXTURES / fixture / "old.txt", a / old)
        if new:
            src = "old.txt" if fixture == "08_liveblog_update_top" else "new.txt"
            shutil.copy(FIXTURES / fixture / src, b / new)
    return a, b


def test_folder_diff_text(run_cli, tmp_path):
    a, b = _snapshots(tmp_path)
    result = run_cli("diff", str(a), str(b))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("changed   world/duma: +1 -1 words; 1 paragraph edited")
    assert lines[1].startswith("renamed   storm -> renamed-storm (100% similar")
    assert lines[2] == "removed   rain"
    assert lines[3] == "added     refugees"
    assert lines[-1] == "1 changed, 1 added, 1 removed, 1 renamed, 1 unchanged"


def test_folder_diff_json(run_cli, tmp_path):
    a, b = _snapshots(tmp_path)
    data = json.loads(run_cli("diff", "--json", str(a), str(b)).output)
    by_status = {e["status"]: e for e in data["entries"]}
    assert data["counts"] == {"changed": 1, "added": 1, "removed": 1, "renamed": 1, "unchanged": 1}
    assert by_status["changed"]["summary"]["words_added"] == 1
    assert by_status["renamed"]["old_key"] == "storm" and by_status["renamed"]["changed"] is False
    assert run_cli("diff", str(a), str(a)).exit_code == 0


def test_folder_rename_by_similarity_and_errors(run_cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(FIXTURES / "01_corrected_name" / "old.txt", a / "x.txt")
    shutil.copy(FIXTURES / "01_corrected_name" / "new.txt", b / "y.txt")
    (b / "broken.txt").write_bytes(b"")
    result = run_cli("diff", "--json", str(a), str(b))
    data = json.loads(result.output)
    assert result.exit_code == 2  # an unreadable file is trouble, as in diff(1)
    assert data["entries"][0]["status"] == "renamed"
    assert 0.8 <= data["entries"][0]["similarity"] < 1
    assert data["errors"][0]["path"] == "broken.txt"


def test_store_specs(run_cli, tmp_path, monkeypatch):
    store = pytest.importorskip("corpus.store")
    if not hasattr(store, "load_version"):
        pytest.skip("store not available")
    work = tmp_path / "articles"
    work.mkdir()
    db = tmp_path / "corpus.db"
    old, new = pair("01_corrected_name")
    shutil.copy(old, work / "duma.txt")
    assert run_cli("ingest", "--store", str(db), str(work)).exit_code in (0, 1)
    shutil.copy(new, work / "duma.txt")
    assert run_cli("ingest", "--store", str(db), str(work)).exit_code in (0, 1)
    both = run_cli("diff", "--store", str(db), "duma@1", "duma@2")
    assert both.exit_code == 1 and "[-Matveyev-]{+Matveev+}" in both.output
    last_two = run_cli("diff", "duma", env={"CORPUS_STORE": str(db)})
    assert last_two.exit_code == 1 and "[-Matveyev-]{+Matveev+}" in last_two.output
    mixed = run_cli("diff", "--store", str(db), "duma@1", new)
    assert mixed.exit_code == 1
    missing = run_cli("diff", "--store", str(db), "nope@1", "duma@2")
    assert missing.exit_code == 2 and "corpus: error:" in missing.output


def test_html_shows_cosmetic_changes_titles_word_by_word_and_a_legend(run_cli, tmp_path):
    old = tmp_path / "old.txt"
    new = tmp_path / "new.txt"
    old.write_text(
        " date 2023-02-14 Mayor opens the new library\n\n"
        "In this speech the mayor said that the library cost $4.5 million.\n\n"
        "Their  statements came amid a myriad of petitions.\n",
        encoding="utf-8",
    )
    new.write_text(
        " date 2023-02-14 Mayor Smith opens the new public library\n\n"
        "The mayor said that the library cost $4.7 million in this speech.\n\n"
        "Their statements came amid a myriad of petitions.\n",
        encoding="utf-8",
    )
    tree = lxml_html.document_fromstring(run_cli("diff", "-f", "html", str(old), str(new)).output)
    assert tree.xpath("//p[@class='legend']")
    title = tree.xpath("//table[@class='header']/tr[td]")[0]
    assert [i.text_content() for i in title.xpath("td[@class='new']//ins")] == ["Smith ", "public "]
    assert (
        title.xpath("td[@class='new']")[0].text_content()
        == "Mayor Smith opens the new public library"
    )
    rows = tree.xpath("//table[@class='body']/tr[@class]")
    labels = [r.xpath("td[@class='label']")[0].text_content() for r in rows]
    assert labels == ["¶1 edited", "¶2 edited (cosmetic)"]
    space = rows[1].xpath(".//del")[0]
    assert "ws" in space.get("class").split() and space.get("data-ws") == "··"
    assert space.get("title") == "cosmetic: white space" and space.text_content() == "  "
    moved = rows[0].xpath(".//ins[contains(@class, 'moved')]")
    assert [m.text_content().strip() for m in moved] == ["in this speech"]
    assert rows[0].xpath(".//td[@class='old']")[0].text_content() == (
        "In this speech the mayor said that the library cost $4.5 million."
    )
