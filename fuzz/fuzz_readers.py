"""Coverage-guided fuzzing of the readers and the whole pipeline (atheris; not run in CI).

Run from the project root (``pip install atheris`` first)::

    python fuzz/fuzz_readers.py                  # 10 minutes; corpus in $TMPDIR/corpus-fuzz
    python fuzz/fuzz_readers.py -max_total_time=60 -runs=100000   # any libFuzzer flag
    python fuzz/fuzz_readers.py --keep-going     # save each distinct failure, do not stop
    python fuzz/fuzz_readers.py SOME/FOLDER      # more seed inputs (first byte picks the target)

The property checked for every input: bytes in give either a coded rejection (a
``CorpusError``) or a document whose NITF export validates against the official XSD and whose
JSON export validates against the bundled schema and reads back to the same document.
``process_data`` must never report ``INTERNAL_ERROR``. A violation raises, and libFuzzer
saves the input as ``crash-<sha1>``; turn it into a regression fixture with::

    python fuzz/fuzz_readers.py --extract crash-<sha1> fixtures/fuzz/regressions/<name>

The first byte of a fuzz input picks the target (see ``TARGETS``); the rest is the file
content. ``--extract`` writes that content under the file name the target reads it as, which
is what ``tests/test_fuzz_regressions.py`` replays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["corpus"]):
    import importlib
    import pkgutil

    import corpus
    from corpus.config import Config
    from corpus.errors import CorpusError
    from corpus.pipeline import STATUS_REJECTED, process_data, read_bytes
    from corpus.plugins import Plugins, PluginSpec
    from corpus.readers import json_reader
    from corpus.readers.json_reader import document_from_json_bytes
    from corpus.schemacheck import check_json, check_xml, load_xsd

    # Plugins and readers import their modules lazily; import every corpus module now so it
    # is instrumented (a module imported later gives the fuzzer no coverage feedback).
    for _info in pkgutil.walk_packages(corpus.__path__, "corpus."):
        if not _info.name.endswith("__main__"):
            importlib.import_module(_info.name)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "fuzz" / "seeds"
REGRESSIONS = ROOT / "fixtures" / "fuzz" / "regressions"
#: Growing corpus and failures; kept between runs, outside the tree (build/ gets cleaned).
WORK = Path(os.environ.get("CORPUS_FUZZ_DIR") or Path(tempfile.gettempdir()) / "corpus-fuzz")

#: First byte (modulo the length) -> (file name the payload is read as, mode). ``text`` turns
#: the bytes into arbitrary Unicode first, so the article parser sees far more well-formed text
#: than random bytes would give it. ``no-jsonschema`` reads JSON with the type checks used when
#: jsonschema is not installed (weaker: only "no crash, exports raise only coded errors").
TARGETS = (
    ("x.txt", "bytes"),
    ("x.json", "bytes"),
    ("x.xml", "bytes"),
    ("x.txt", "text"),
    ("x.json", "no-jsonschema"),
    ("x.html", "bytes"),
)
#: Which targets a seed file feeds, by its suffix.
SUFFIX_TARGETS = {".txt": (0,), ".json": (1, 4), ".xml": (2,), ".html": (5,)}

#: Largest input libFuzzer makes (-max_len): 1 MiB, so size-driven slowness (a quadratic
#: step over attributes, lines or blocks) shows up as a slow unit, not only crashes.
MAX_LEN = 1024 * 1024

FORMATS = ("nitf", "json")
PLUGINS = Plugins(PluginSpec(entry_points=False))
CONFIG = Config()


def standards_dir() -> Path:
    """The official schemas: $CORPUS_STANDARDS, default ../shared/standards (as the tests)."""
    env = os.environ.get("CORPUS_STANDARDS")
    return Path(env) if env else ROOT.parent / "shared" / "standards"


def decode_input(data: bytes) -> tuple[str, str, bytes]:
    """The (file name, mode, content) a fuzz input stands for."""
    if not data:
        return (*TARGETS[0], b"")
    name, mode = TARGETS[data[0] % len(TARGETS)]
    payload = data[1:]
    if mode == "text":
        fdp = atheris.FuzzedDataProvider(payload)
        payload = fdp.ConsumeUnicode(len(payload)).encode("utf-8", "surrogatepass")
    return name, mode, payload


class PropertyViolation(AssertionError):
    """An input broke the pipeline's promise; libFuzzer keeps it as a crash file."""


def check(rel: str, mode: str, data: bytes, nitf_schema) -> None:
    """Raise unless ``data`` is a coded rejection or an accepted document with valid exports."""
    if mode == "no-jsonschema":
        check_without_jsonschema(rel, data)
        return
    try:
        read_bytes(data, rel, plugins=PLUGINS)
    except CorpusError:
        return  # a coded rejection; anything else escapes and is a crash
    result = process_data(data, rel, plugins=PLUGINS, config=CONFIG, formats=FORMATS)
    internal = [f for f in result.findings if f.code == "INTERNAL_ERROR"]
    if internal:
        raise PropertyViolation(internal[0].message)
    if result.status == STATUS_REJECTED:
        return
    nitf, json_bytes = result.outputs["nitf"], result.outputs["json"]
    problems = check_xml(nitf, nitf_schema) if nitf_schema is not None else []
    if problems:
        raise PropertyViolation(f"NITF export is not XSD-valid: {problems[:3]}")
    problems = check_json(json_bytes)
    if problems:
        raise PropertyViolation(f"JSON export is not schema-valid: {problems[:3]}")
    back = document_from_json_bytes(json_bytes, path=rel)
    if back != result.document:
        raise PropertyViolation("JSON export does not read back to the same document")


def check_without_jsonschema(rel: str, data: bytes) -> None:
    """The JSON reader's fallback checks: a document or a coded rejection, exports that work."""
    saved = json_reader.have_jsonschema
    json_reader.have_jsonschema = lambda: False
    try:
        document = document_from_json_bytes(data, path=rel)
    except CorpusError:
        return
    finally:
        json_reader.have_jsonschema = saved
    for fmt in FORMATS:
        with contextlib.suppress(CorpusError):
            PLUGINS.exporters.get(fmt).export(document)


def prepare_corpus() -> Path:
    """A writable corpus folder seeded from fixtures (libFuzzer adds new inputs to it)."""
    corpus = WORK / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for folder in (SEEDS, REGRESSIONS):
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            for target in SUFFIX_TARGETS.get(path.suffix, ()):
                seed = corpus / f"seed-{target}-{path.name}"
                seed.write_bytes(bytes([target]) + path.read_bytes())
    return corpus


def extract(crash: str, dest: str) -> None:
    """Write a crash file's content under ``dest`` + the suffix its target reads it as."""
    name, _mode, payload = decode_input(Path(crash).read_bytes())
    out = Path(dest).with_suffix(Path(name).suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(payload)
    print(f"wrote {out} ({len(payload)} bytes, read as {name})")


def save_failure(data: bytes, exc: Exception, seen: set[tuple[str, str]]) -> None:
    """``--keep-going``: keep the first input of each distinct failure and fuzz on."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    signature = (type(exc).__name__, where)
    if signature in seen:
        return
    seen.add(signature)
    folder = WORK / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    name = "failure-" + hashlib.sha1(data).hexdigest()
    (folder / name).write_bytes(data)
    text = "".join(traceback.format_exception(exc))
    (folder / (name + ".txt")).write_text(text, "utf-8")
    print(f"\n== failure {len(seen)}: {type(exc).__name__} at {where} -> {folder / name}")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    if len(argv) == 4 and argv[1] == "--extract":
        extract(argv[2], argv[3])
        return
    xsd = standards_dir() / "nitf" / "nitf-3-6.xsd"
    if xsd.is_file():
        nitf_schema = load_xsd(xsd)
    else:
        nitf_schema = None
        print(f"note: no NITF XSD at {xsd}; set CORPUS_STANDARDS to check NITF against it")

    keep_going = "--keep-going" in argv
    args = [a for a in argv if a != "--keep-going"]
    seen: set[tuple[str, str]] = set()

    def test_one_input(data: bytes) -> None:
        rel, mode, payload = decode_input(data)
        if not keep_going:
            check(rel, mode, payload, nitf_schema)
            return
        try:
            check(rel, mode, payload, nitf_schema)
        except Exception as exc:
            save_failure(data, exc, seen)

    # libFuzzer adds new inputs to the first folder; folders the user names are more seeds
    args.insert(1, str(prepare_corpus()))
    defaults = {
        "-max_total_time": "600",
        "-max_len": str(MAX_LEN),
        "-timeout": "20",
        "-dict": str(Path(__file__).with_name("readers.dict")),
    }
    for flag, value in defaults.items():
        if not any(a.startswith(flag + "=") for a in args):
            args.append(f"{flag}={value}")
    (WORK / "artifacts").mkdir(parents=True, exist_ok=True)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        args.append(f"-artifact_prefix={WORK / 'artifacts'}{os.sep}")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
