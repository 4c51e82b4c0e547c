"""The corpus pages through Datasette's own test client: every route, escaping, 404s, read-only."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("datasette")

from lxml import etree  # noqa: E402
from webstore import DUMA, EVIL, FINAL, ODD, SCRIPT, STORM, build_store  # noqa: E402

from corpus.errors import StoreError  # noqa: E402
from corpus.serve import build_datasette  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("web") / "news.db")


@pytest.fixture(scope="module")
def ds(store_path: Path):
    return build_datasette(str(store_path))


def get(ds, path: str):
    return asyncio.run(ds.client.get(path))


def doc(key: str, query: str = "") -> str:
    return "/doc/" + urllib.parse.quote(key, safe="/") + query


def assert_safe_page(response) -> None:
    """A corpus page: HTML, the strict CSP, no inline script or event handler, no raw payload."""
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    html = response.text
    assert SCRIPT not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"
    assert "http://" not in html.replace('xmlns="http://', "") and "https://" not in html


# -- home ------------------------------------------------------------------------------------


def test_home_shows_counts_runs_and_recent_changes(ds) -> None:
    r = get(ds, "/")
    assert r.status_code == 200
    assert_safe_page(r)
    html = r.text
    assert re.search(r"<dt>documents</dt><dd>5</dd>", html)
    assert re.search(r"<dt>removed</dt><dd>1</dd>", html)
    assert re.search(r"<dt>runs</dt><dd>3</dd>", html)
    assert 'href="/runs/3"' in html and 'href="/runs/1"' in html
    # world/duma changed last in run 3: its change line links to the diff, with a size.
    assert 'href="/doc/world/duma/diff?from=2&amp;to=3"' in html
    row = re.search(r"<tr class=\"removed\">.*?</tr>", html, re.S).group()
    assert FINAL in row and "removed" in row
    assert re.search(r'class="num">\d+%</td>', html)


# -- search ----------------------------------------------------------------------------------


def test_search_marks_matches_in_python_made_snippets(ds) -> None:
    r = get(ds, "/search?q=vote")
    assert r.status_code == 200
    assert_safe_page(r)
    assert 'href="/doc/world/duma"' in r.text
    assert "The Duma <mark>votes</mark> again" in r.text  # the stemmed form, in the title
    assert "<mark>voted</mark>" in r.text  # and in the body snippet


def test_search_escapes_hostile_text_and_query(ds) -> None:
    r = get(ds, "/search?q=" + urllib.parse.quote("script"))
    assert r.status_code == 200
    assert_safe_page(r)
    assert "&lt;<mark>script</mark>&gt;" in r.text
    assert 'href="/doc/evil/%3Cscript%3E"' in r.text
    r = get(ds, "/search?q=" + urllib.parse.quote('"<img src=x>'))
    assert "<img src=x>" not in r.text


def test_a_bad_query_is_a_message_on_the_page(ds) -> None:
    r = get(ds, "/search?q=" + urllib.parse.quote('"unterminated'))
    assert r.status_code == 200
    assert 'class="error"' in r.text and "unterminated" in r.text
    r = get(ds, "/search?q=vote&since=yesterday-ish")
    assert r.status_code == 200 and 'class="error"' in r.text and "YYYY-MM-DD" in r.text
    r = get(ds, "/search?q=vote&state=gone")
    assert r.status_code == 200 and "state must be present or removed" in r.text
    r = get(ds, "/search?q=vote&page=two")
    assert r.status_code == 400 and "not a whole number" in r.text
    assert_safe_page(r)


def test_search_filters_by_state_and_change_date(ds) -> None:
    r = get(ds, "/search?q=kick")
    assert FINAL in r.text
    assert FINAL in get(ds, "/search?q=kick&state=removed").text
    assert FINAL not in get(ds, "/search?q=kick&state=present").text
    assert "No document matches" in get(ds, "/search?q=kick&state=present").text
    assert DUMA in get(ds, "/search?q=duma&since=2000-01-01").text
    assert DUMA not in get(ds, "/search?q=duma&since=2999-01-01").text


def test_search_pages(ds, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("corpus.web.site.PAGE_SIZE", 1)
    query = urllib.parse.quote("duma OR zeppelins OR storm")
    first = get(ds, f"/search?q={query}")
    assert first.text.count('<li class="hit') == 1
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    keys = set()
    for page in (1, 2, 3):
        text = get(ds, f"/search?q={query}&page={page}").text
        keys |= set(re.findall(r'<div class="key"><code>([^<]+)</code>', text))
    assert keys == {DUMA, ODD, STORM}
    last = get(ds, f"/search?q={query}&page=3").text
    assert 'rel="prev"' in last and 'rel="next"' not in last


# -- documents -------------------------------------------------------------------------------


def test_document_page_text_timeline_and_downloads(ds) -> None:
    r = get(ds, doc(DUMA))
    assert r.status_code == 200
    assert_safe_page(r)
    html = r.text
    assert "<h1>The Duma votes again</h1>" in html
    assert "The next session is due in April." in html
    assert "version 3 of 3" in html
    assert "first version" in html
    # One line per change, the headline named as such.
    assert "headline changed; " in html and "1 moved" in html
    assert 'href="/doc/world/duma/diff?from=1&amp;to=2"' in html
    for fmt in ("nitf", "json", "ninjs"):
        assert f'href="/doc/world/duma?v=3&amp;format={fmt}"' in html
    old = get(ds, doc(DUMA, "?v=1"))
    assert "<h1>The Duma votes</h1>" in old.text and "version 1 of 3" in old.text


def test_downloads_of_a_version(ds) -> None:
    r = get(ds, doc(DUMA, "?v=1&format=json"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"]
    assert json.loads(r.content)["title"] == "The Duma votes"
    r = get(ds, doc(DUMA, "?v=2&format=nitf"))
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    assert root.tag.endswith("nitf") and b"The Duma votes again" in r.content
    r = get(ds, doc(DUMA, "?format=ninjs"))
    assert r.status_code == 200 and json.loads(r.content)["headlines"]
    assert get(ds, doc(DUMA, "?format=exe")).status_code == 404


def test_hostile_document_is_escaped_everywhere(ds) -> None:
    for path in (
        doc(EVIL),
        doc(EVIL, "?v=1"),
        doc(EVIL, "/diff"),
        doc(EVIL, "/diff?view=inline"),
        "/",
        "/runs/2",
    ):
        r = get(ds, path)
        assert r.status_code == 200, path
        assert_safe_page(r)
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in get(ds, doc(EVIL)).text


def test_keys_with_slashes_and_odd_characters(ds) -> None:
    r = get(ds, doc(ODD))
    assert r.status_code == 200
    assert "An odd key" in r.text
    assert 'href="/doc/odd%20key/100%25%20sure%3F%23x?v=1&amp;format=json"' in r.text
    assert get(ds, doc("world")).status_code == 404  # a folder of keys is not a key


@pytest.mark.parametrize(
    "path",
    [
        "/doc/no/such/key",
        "/doc/world/duma?v=9",
        "/doc/world/duma?v=abc",
        "/doc/world/duma/diff?from=1&to=9",
        "/doc/world/duma/diff?from=x",
        "/doc/no/such/key/diff",
        "/doc/sport/final/diff",
        "/runs/99",
        "/runs/abc",
        "/runs/99999999999999999999999",
        "/doc/world/duma?v=99999999999999999999999",
        "/-/corpus/nothing.css",
    ],
)
def test_unknown_keys_versions_and_runs_are_404_pages(ds, path: str) -> None:
    r = get(ds, path)
    assert r.status_code == 404, path
    assert_safe_page(r)
    assert "Not found" in r.text
    assert "Traceback" not in r.text


# -- diffs -----------------------------------------------------------------------------------


def test_diff_page_side_by_side(ds) -> None:
    r = get(ds, doc(DUMA, "/diff?from=1&to=2"))
    assert r.status_code == 200
    assert_safe_page(r)
    html = r.text
    # Header changes come first, then the paragraphs.
    assert html.index('class="fields"') < html.index('class="paragraphs"')
    assert "headline changed</div>" in html
    # The move is linked both ways.
    assert 'href="#moved-from-0"' in html and 'id="moved-from-0"' in html
    assert 'href="#moved-to-0"' in html and 'id="moved-to-0"' in html
    assert '<del class="substantive">226</del>' in html
    assert '<ins class="substantive">301</ins>' in html
    # Unchanged paragraphs away from changes are folded.
    assert '<details class="unchanged">' in html
    # Previous / next revision.
    assert 'rel="next"' in html and "from=2&amp;to=3" in html
    assert 'rel="prev"' not in html
    changes = re.findall(r'class="row [^"]*\bchange\b[^"]*" id="(change-\d+)"', html)
    assert changes == [f"change-{k}" for k in range(1, len(changes) + 1)] and len(changes) >= 4


def test_diff_page_defaults_to_the_last_change_and_links_back(ds) -> None:
    html = get(ds, doc(DUMA, "/diff")).text
    assert "Version 2 → version 3" in html
    assert 'rel="prev"' in html and "from=1&amp;to=2" in html and 'rel="next"' not in html


def test_diff_inline_view_and_cosmetic_toggle(ds) -> None:
    inline = get(ds, doc(DUMA, "/diff?from=1&to=2&view=inline")).text
    assert 'class="diff view-inline"' in inline
    assert '<del class="substantive">226</del><ins class="substantive">301</ins>' in inline
    shown = get(ds, doc(DUMA, "/diff?from=1&to=2&context=all")).text
    hidden = get(ds, doc(DUMA, "/diff?from=1&to=2&context=all&cosmetic=hide")).text
    assert '<del class="cosmetic">!</del>' not in shown  # old side has "."
    assert 'class="cosmetic"' in shown
    assert 'class="cosmetic"' not in hidden
    assert "show cosmetic changes" in hidden and "hide cosmetic changes" in shown
    assert '<details class="unchanged">' not in shown


def test_diff_shows_splits_and_merges(ds) -> None:
    split = get(ds, doc(STORM, "/diff?from=1&to=2")).text
    assert "¶1-2 split from ¶1" in split and 'class="row op-split' in split
    merge = get(ds, doc(STORM, "/diff?from=2&to=3")).text
    assert "¶1 merged from ¶1-2" in merge and 'class="row op-merge' in merge


def test_a_key_ending_in_diff_is_still_a_document(tmp_path: Path) -> None:
    from corpus.model import Block, Document
    from corpus.pipeline import FileResult
    from corpus.store import Store

    path = tmp_path / "s.db"
    with Store.open(path) as store, store.begin_run(roots=["r"], arguments=[]) as run:
        d = Document(key="notes/diff", title="Notes on diff", blocks=[Block("Text.")])
        run.record("r", FileResult("notes/diff.txt", "ok", (), d))
    ds = build_datasette(str(path))
    r = get(ds, "/doc/notes/diff")
    assert r.status_code == 200 and "Notes on diff" in r.text


# -- runs and feeds --------------------------------------------------------------------------


def test_run_page_lists_what_the_ingest_changed(ds) -> None:
    one = get(ds, "/runs/1")
    assert one.status_code == 200
    assert_safe_page(one)
    assert "New (5)" in one.text and "Rejected (1)" in one.text
    assert "NO_BODY" in one.text and "bad.txt" in one.text
    two = get(ds, "/runs/2").text
    assert "Changed (3)" in two and "Removed (1)" in two
    changed = two[two.index("Changed (") : two.index("Removed (")]
    assert 'href="/doc/world/duma/diff?from=1&amp;to=2"' in changed
    assert re.search(r'<span class="size">\d+%</span>', changed)
    assert FINAL in two[two.index("Removed (") :]


def _feed(ds, query: str = ""):
    r = get(ds, "/feed.atom" + query)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(r.content)


def test_feed_of_every_change(ds) -> None:
    feed = _feed(ds)
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert len(entries) == 5  # duma v2, v3; evil v2; storm v2, v3
    assert f"Evil {SCRIPT} title (version 2)" in titles  # escaped as XML, read back whole
    for entry in entries:
        href = entry.find(f"{ATOM}link").get("href")
        assert href.startswith("http") and "/diff?from=" in href
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
    assert feed.findtext(f"{ATOM}updated")


def test_feed_filters(ds) -> None:
    one_doc = _feed(ds, "?key=" + urllib.parse.quote(DUMA))
    keys = {e.findtext(f"{ATOM}summary").split(":")[0] for e in one_doc.iter(f"{ATOM}entry")}
    assert keys == {DUMA}
    headline = _feed(ds, "?title_only=1").findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in headline] == ["The Duma votes again (version 2)"]
    big = _feed(ds, "?min_change=0.25").findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in big] == [f"Evil {SCRIPT} title (version 2)"]
    assert len(_feed(ds, "?min_change=25%25").findall(f"{ATOM}entry")) == 1
    assert len(_feed(ds, "?min_change=0").findall(f"{ATOM}entry")) == 5
    assert get(ds, "/feed.atom?min_change=lots").status_code == 400
    assert get(ds, "/feed.atom?min_change=2").status_code == 400
    assert get(ds, "/feed.atom?key=no/such").status_code == 404


def test_assets_are_served_from_the_package(ds) -> None:
    css = get(ds, "/-/corpus/corpus.css")
    js = get(ds, "/-/corpus/corpus.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "keydown" in js.text


def test_datasette_table_browser_and_json_api_come_with_it(ds, store_path: Path) -> None:
    name = store_path.stem
    r = get(ds, f"/{name}/documents.json?_shape=array&key={urllib.parse.quote(DUMA)}")
    assert r.status_code == 200
    assert [row["latest"] for row in r.json()] == [3]
    facets = get(ds, f"/{name}/documents.json?_facet=state").json()
    counts = {f["value"]: f["count"] for f in facets["facet_results"]["state"]["results"]}
    assert counts == {"present": 4, "removed": 1}
    assert get(ds, f"/{name}/runs.csv").status_code == 200


def test_datasette_search_on_external_content_fts_tables_matches_only_matches(
    ds, store_path: Path
) -> None:
    """Datasette's own search works on every FTS5 table that keeps its text elsewhere.

    Datasette recognises ``content="table"`` only with double quotes or brackets: with single
    quotes its ``_search`` matches every row. Stores without such a table pass trivially.
    """
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        ddl = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql LIKE '%fts5%' AND sql LIKE '%content%'"
        ).fetchall()
    finally:
        conn.close()
    for _name, sql in ddl:
        match = re.search(r"content\s*=\s*(['\"\[])?(\w+)", sql)
        if not match or not match.group(2):
            continue
        table = match.group(2)
        r = get(ds, f"/{store_path.stem}/{table}.json?_search=zzqxnotaword&_shape=array")
        assert r.status_code == 200
        assert r.json() == [], f"Datasette's search on {table} matched rows: {sql}"


# -- read-only, start-up errors --------------------------------------------------------------


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def test_serving_never_writes_the_store(tmp_path: Path) -> None:
    path = build_store(tmp_path / "ro.db")
    # A checkpoint folds the WAL into the file, so the file alone holds the store.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _fingerprint(path)
    ds = build_datasette(str(path))
    for page in (
        "/",
        "/search?q=vote",
        doc(DUMA),
        doc(DUMA, "/diff?from=1&to=2"),
        "/runs/2",
        "/feed.atom",
        f"/{path.stem}/documents",
    ):
        assert get(ds, page).status_code == 200
    for db in ds.databases.values():
        db.close()
    assert _fingerprint(path) == before
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_serves_while_an_ingest_writes(tmp_path: Path) -> None:
    from corpus.model import Block, Document
    from corpus.pipeline import FileResult
    from corpus.store import Store

    path = build_store(tmp_path / "busy.db")
    ds = build_datasette(str(path))
    with Store.open(path) as store:
        run = store.begin_run(roots=["articles"], arguments=["again"])
        new = Document(key="late/news", title="Late news", blocks=[Block("Breaking.")])
        run.record("articles", FileResult("late/news.txt", "ok", (), new))
        # The writer holds its lock and an open transaction: pages still answer, without it.
        assert get(ds, "/").status_code == 200
        assert get(ds, "/doc/late/news").status_code == 404
        assert get(ds, doc(DUMA)).status_code == 200
        run.finish()
    assert get(ds, "/doc/late/news").status_code == 200
    assert "run 4" in get(ds, "/").text


def test_a_missing_corrupt_or_foreign_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as missing:
        build_datasette(str(tmp_path / "nope.db"))
    assert missing.value.code == "STORE_MISSING"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError) as corrupt:
        build_datasette(str(garbage))
    assert corrupt.value.code == "STORE_CORRUPT"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError) as foreign:
        build_datasette(str(other))
    assert foreign.value.code == "STORE_SCHEMA"


def test_a_store_with_a_missing_table_is_refused_at_start_up(tmp_path: Path) -> None:
    """As every other command says: STORE_CORRUPT, before anything listens (not a 503 later)."""
    damaged = build_store(tmp_path / "news.db")
    with sqlite3.connect(damaged) as conn:
        conn.execute("DROP TABLE removals")
    with pytest.raises(StoreError) as raised:
        build_datasette(str(damaged))
    assert raised.value.code == "STORE_CORRUPT"
    assert "removals" in raised.value.message


def test_a_damaged_version_record_is_a_store_corrupt_page_not_an_error_500(tmp_path: Path) -> None:
    damaged = build_store(tmp_path / "news.db")
    with sqlite3.connect(damaged) as conn:
        conn.execute(
            "UPDATE versions SET document = x'00ff00' WHERE doc_id = "
            "(SELECT id FROM documents WHERE key = ?)",
            (DUMA,),
        )
    site = build_datasette(str(damaged))
    for path in ("/search?q=parliament", doc(DUMA)):
        r = get(site, path)
        assert r.status_code == 503, (path, r.status_code)
        assert "STORE_CORRUPT" in r.text


def test_a_store_sqlite_cannot_open_is_not_called_corrupt() -> None:
    """A store in WAL mode on a read-only medium: SQLite cannot create its -shm file.

    The store is fine; telling the user to restore it from a backup would be wrong.
    """
    from corpus.store.browse import check_readable

    class Unopenable:
        def execute(self, *args: object) -> None:
            raise sqlite3.OperationalError("unable to open database file")

    with pytest.raises(StoreError) as raised:
        check_readable(Unopenable(), "archive/news.db")  # type: ignore[arg-type]
    assert raised.value.code == "STORE_ERROR"
    assert "backup" not in raised.value.message and "news.db-shm" in raised.value.message


@pytest.mark.parametrize("name", ["my news#1.db", "what?.db", "100%.db"])
def test_a_store_name_datasette_cannot_open_is_refused_and_nothing_written(
    tmp_path: Path, name: str
) -> None:
    """Datasette puts the path into an SQLite URI unescaped: ``#`` or ``?`` cut it short (and
    drop ``mode=ro``, so SQLite creates an empty file named after the part before), ``%``
    escapes another name. Refused before anything opens, with what to do."""
    store = build_store(tmp_path / "plain.db")
    odd = tmp_path / name
    store.rename(odd)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError) as raised:
        build_datasette(str(odd))
    assert raised.value.code == "STORE_ERROR"
    assert "symbolic link" in raised.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == before
