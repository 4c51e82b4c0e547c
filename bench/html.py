"""HTML reader benchmark: the reader against ``trafilatura.extract`` alone, same pages, one run.

    python bench/html.py               # 5 rounds over the fixture pages and 60 generated pages
    python bench/html.py --rounds 9 --pages 200

Two baselines, both timed in the same process on the same bytes:

- ``extract``: ``trafilatura.extract(html)`` with its defaults (plain text, no metadata), the
  least one can ask of trafilatura;
- ``extract+``: ``trafilatura.extract`` asked for what the reader needs (XML with formatting,
  links and tables, and metadata), i.e. trafilatura's share of the reader's work.

The reader does decoding from bytes, its own metadata (canonical URL, JSON-LD, language),
page statistics for its findings and building the document, with trafilatura's fast pass
(its full pass and metadata search only for pages that need them). Target: at most 1.2x the
time of ``extract``. Each round times every page with each contender in turn
(page by page, order rotating); ratios are printed per round and as the median of rounds,
which is steadier on a shared machine than one long run.

Agreement: how much of the main text the reader and ``extract`` (plain text) share, as the
word-level similarity (rapidfuzz, 0-100) of the two texts, per page; mean and minimum.
No network: the pages are the fixtures and pages generated here.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file (html.py) would
# shadow the standard library's html module that trafilatura imports.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

WORDS = (  # noqa: SIM905
    "the council said on Friday that the harbour bridge would close for repairs while engineers "
    "replace corroded cables and residents warned of long diversions across town as ferries run "
    "every fifteen minutes between the two quays from early morning"
).split()


def generated_page(rng: random.Random, n: int) -> bytes:
    """A news page: navigation, cookie banner, article with JSON-LD, related links, comments."""

    def sentence(k: int) -> str:
        words = [rng.choice(WORDS) for _ in range(k)]
        return " ".join(words).capitalize() + "."

    title = sentence(8)[:-1]
    paras = []
    for i in range(rng.randint(6, 30)):
        text = " ".join(sentence(rng.randint(10, 25)) for _ in range(rng.randint(1, 4)))
        if i % 5 == 3:
            paras.append(f"<h2>{sentence(4)[:-1]}</h2>")
        if i % 7 == 4:
            items = "".join(f"<li>{sentence(6)}</li>" for _ in range(3))
            paras.append(f"<ul>{items}</ul>")
        paras.append(
            f"<p>{text} <a href='/n/{i}'>{sentence(3)}</a> <em>{rng.choice(WORDS)}</em></p>"
        )
    nav = "".join(f"<li><a href='/s/{i}'>{rng.choice(WORDS).title()}</a></li>" for i in range(25))
    related = "".join(f"<li><a href='/r/{i}'>{sentence(7)}</a></li>" for i in range(8))
    comments = "".join(f"<div class='comment'><p>{sentence(15)}</p></div>" for _ in range(6))
    script = "<script>var cfg = {" + ",".join(f'"k{i}": {i}' for i in range(300)) + "};</script>"
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Example Times</title>
<link rel="canonical" href="https://example-times.example/news/{n}/story">
<meta property="og:type" content="article"><meta property="og:site_name" content="Example Times">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}",
"datePublished": "2024-0{1 + n % 9}-1{n % 9}T08:00:00Z",
"author": {{"name": "A. Writer"}}}}</script>
{script}</head><body>
<div class="cookie"><p>We use cookies. <a href="/privacy">Privacy</a></p><button>OK</button></div>
<header><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{title}</h1><p class="byline">By A. Writer</p>
{"".join(paras)}</article>
<aside><h3>Related</h3><ul>{related}</ul></aside>
<section class="comments"><h3>Comments</h3>{comments}</section></main>
<footer><p>Example Times</p></footer></body></html>"""
    return html.encode("utf-8")


def pages(count: int) -> list[tuple[str, bytes]]:
    found = [
        (str(p.relative_to(ROOT)), p.read_bytes())
        for p in sorted((ROOT / "fixtures" / "html").rglob("*.html"))
    ]
    rng = random.Random(14)
    found += [(f"generated-{i}.html", generated_page(rng, i)) for i in range(count)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=60, help="generated pages (plus fixtures)")
    args = parser.parse_args()

    import trafilatura
    from rapidfuzz import fuzz

    from corpus.readers.html import HTMLReader

    reader = HTMLReader()
    corpus_pages = pages(args.pages)
    size = sum(len(d) for _, d in corpus_pages)
    print(f"{len(corpus_pages)} pages, {size / 1e6:.1f} MB, {args.rounds} rounds")

    def run_extract(data: bytes) -> object:
        return trafilatura.extract(data)

    def run_extract_plus(data: bytes) -> object:
        return trafilatura.extract(
            data,
            output_format="xml",
            include_formatting=True,
            include_links=True,
            include_tables=True,
            include_comments=False,
            with_metadata=True,
        )

    def run_reader(data: bytes) -> object:
        return reader.read(data, path="p.html", key="p")

    contenders = {"extract": run_extract, "extract+": run_extract_plus, "reader": run_reader}
    # Warm up on every page, untimed: imports, caches and one-time set-up (trafilatura's
    # full pass loads jusText's stop lists, about 0.5 s, on the first page that needs them),
    # which would otherwise fall on the first round only.
    for fn in contenders.values():
        for _, data in corpus_pages:
            fn(data)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    clock = time.perf_counter
    for r in range(args.rounds):
        # Page by page, contenders in turn (order rotating): a burst of load from elsewhere on
        # a shared machine falls on all three, not on whichever ran during it.
        spent = dict.fromkeys(names, 0.0)
        for i, (_, data) in enumerate(corpus_pages):
            for name in names[i % 3 :] + names[: i % 3]:
                started = clock()
                contenders[name](data)
                spent[name] += clock() - started
        for name in names:
            times[name].append(spent[name])
        print(
            f"round {r + 1}: "
            + ", ".join(f"{n} {len(corpus_pages) / times[n][-1]:6.1f} pages/s" for n in contenders)
            + f"; reader/extract+ {times['reader'][-1] / times['extract+'][-1]:.2f}x"
            + f", reader/extract {times['reader'][-1] / times['extract'][-1]:.2f}x"
        )
    ratios_plus = [a / b for a, b in zip(times["reader"], times["extract+"], strict=True)]
    ratios = [a / b for a, b in zip(times["reader"], times["extract"], strict=True)]
    for name in contenders:
        best = min(times[name])
        print(
            f"{name:9s} best {len(corpus_pages) / best:6.1f} pages/s, {size / best / 1e6:5.2f} MB/s"
        )
    print(
        f"reader / extract+ : median {statistics.median(ratios_plus):.2f}x "
        f"(rounds {min(ratios_plus):.2f}-{max(ratios_plus):.2f})"
    )
    print(
        f"reader / extract  : median {statistics.median(ratios):.2f}x "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}; target <= 1.2x)"
    )

    scores = []
    for name, data in corpus_pages:
        plain = trafilatura.extract(data) or ""
        try:
            ours = reader.read(data, path=name, key="p").document
        except Exception as exc:  # a rejected page: no agreement to measure
            print(f"  {name}: rejected ({getattr(exc, 'code', type(exc).__name__)})")
            continue
        text = "\n".join([ours.title, *(b.text for b in ours.blocks)])
        scores.append((fuzz.token_set_ratio(text, plain), name))
    values = [s for s, _ in scores]
    worst = min(scores)
    print(
        f"agreement with extract (word-set similarity 0-100): mean {statistics.mean(values):.1f}, "
        f"median {statistics.median(values):.1f}, min {worst[0]:.1f} ({worst[1]})"
    )


if __name__ == "__main__":
    main()
