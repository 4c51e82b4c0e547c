"""Bytes to text for line-oriented inputs: binary sniffing, BOMs, UTF-8, legacy fallbacks.

The rule is "never decode into silent mojibake": UTF-8 (with or without BOM) is the normal
case and costs one strict decode. Only when that fails do we look further, in this order:
Western European text (Windows-1252 / ISO-8859-1, the BBC dataset's Latin-1), then a charset
detector restricted to non-Western legacy encodings, each guess checked for tell-tale garbage.
Anything else is rejected with a coded error, and every fallback is reported as a warning
that names the encoding used.
"""

from __future__ import annotations

import re

import attrs

from .errors import InputRejected
from .model import Finding, Severity

#: Magic numbers of binary formats people drop into article folders by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office/EPUB document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Microsoft Office document"),
    (b"\x7fELF", "an ELF executable"),
)

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le", "utf-16"),
    (b"\xfe\xff", "utf-16-be", "utf-16"),
)

#: First bytes of the magic numbers and of the BOMs: most files start with neither, and one
#: set lookup then replaces the loops over both tables.
_MAGIC_INITIALS = frozenset(magic[0] for magic, _ in _MAGIC)
_BOM_INITIALS = frozenset(bom[0] for bom, _, _ in _BOMS)

#: One valid non-ASCII UTF-8 sequence (RFC 3629), to tell mixed files from legacy ones.
_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
#: Windows-1252 bytes that decode to letters (used to measure how "accented" a text is).
_CP1252_LETTER_BYTES = bytes(
    b for b in range(0x80, 0x100) if bytes([b]).decode("cp1252", "ignore").isalpha()
)
#: A letter directly followed by a symbol that never ends a Western word: the signature of
#: Central European or other legacy text read as Windows-1252 ("są" -> "s¹", "ł" -> "³").
_SUSPECT = re.compile(r"[^\W\d_][¹²³¼½¾¿¡¥¦§¨¬¯±¶¸]")
#: Above this share of accented letters, "Western European" is not a plausible reading
#: (Albanian and French stay well under 0.2; Cyrillic read as Windows-1252 is near 1.0).
_MAX_ACCENTED_SHARE = 0.35
_WESTERN_CODECS = (
    "cp1252", "latin_1", "iso8859_15", "cp850", "cp437", "cp858", "mac_roman", "cp1254",
    "cp1257", "cp775", "mac_iceland", "mac_latin2", "cp852", "cp1125",
    "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le", "utf_7",
)  # fmt: skip
#: charset-normalizer's "chaos" above which a guess is not trusted.
_MAX_CHAOS = 0.15
#: Python codec names -> the names we report (IANA where one exists).
_NICE_NAMES = {
    "cp1250": "windows-1250",
    "cp1251": "windows-1251",
    "cp1253": "windows-1253",
    "cp1255": "windows-1255",
    "cp1256": "windows-1256",
    "cp1258": "windows-1258",
    "cp874": "windows-874",
    "cp932": "shift_jis",
    "shift_jis": "shift_jis",
    "euc_jp": "euc-jp",
    "euc_kr": "euc-kr",
    "gb2312": "gb2312",
    "gb18030": "gb18030",
    "big5": "big5",
    "koi8_r": "koi8-r",
    "koi8_u": "koi8-u",
    "iso8859_2": "iso-8859-2",
    "iso8859_5": "iso-8859-5",
    "iso8859_7": "iso-8859-7",
}


@attrs.frozen
class Decoded:
    """Decoded text, the encoding name to record in ``Source.encoding``, and what we noticed."""

    text: str
    encoding: str
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=tuple)


def binary_kind(head: bytes) -> str | None:
    """What binary format ``head`` starts with (``"a PNG image"``), or None for text-like."""
    if not head or head[0] not in _MAGIC_INITIALS:
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def byte_line(data: bytes, pos: int) -> int:
    """1-based line number of byte offset ``pos`` (LF, CRLF or CR line endings)."""
    head = data[:pos]
    lf = head.count(b"\n")
    return lf + head.count(b"\r") - head.count(b"\r\n") + 1


def decode(data: bytes, *, path: str) -> Decoded:
    """Decode an input's raw bytes, or raise :class:`InputRejected` (BINARY_DATA, UNDECODABLE).

    Lone surrogates that a UTF-8/16/32 file encodes are let through (``surrogatepass``) so the
    character cleaner can replace them and say on which line they were.
    """
    if data and data[0] in _BOM_INITIALS:
        for bom, codec, name in _BOMS:
            if data.startswith(bom):
                return _decode_bom(data[len(bom) :], codec, name, path)
    kind = binary_kind(data)
    if kind is not None:
        raise InputRejected(
            f"this is {kind}, not text; remove it from the input folder or rename it",
            code="BINARY_DATA",
            path=path,
            line=1,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputRejected(
            _nul_message(data), code="BINARY_DATA", path=path, line=byte_line(data, nul)
        )
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        return _fallback(data, exc, path)


def _decode_bom(body: bytes, codec: str, name: str, path: str) -> Decoded:
    try:
        text = body.decode(codec, "surrogatepass")
    except UnicodeDecodeError as exc:
        unit = "" if codec == "utf-8" else f" ({codec.upper()} text must have whole code units)"
        line = byte_line(body, exc.start) if codec == "utf-8" else None
        raise InputRejected(
            f"the file starts with a {name.upper()} byte-order mark but byte "
            f"{exc.start + 1} is not valid {codec.upper()}{unit}; the file is damaged or mixes "
            "encodings: re-save it as UTF-8",
            code="UNDECODABLE",
            path=path,
            line=line,
        ) from None
    findings: tuple[Finding, ...] = ()
    if codec != "utf-8":
        findings = (
            Finding(
                "ENCODING_UTF16" if name == "utf-16" else "ENCODING_UTF32",
                Severity.INFO,
                f"decoded as {name.upper()} (byte-order mark found); UTF-8 is the usual "
                "encoding for these files",
                path=path,
                line=1,
            ),
        )
    return Decoded(text, name, findings)


def _nul_message(data: bytes) -> str:
    odd_nuls = data[1::2].count(0)
    if len(data) >= 4 and odd_nuls * 2 >= len(data) // 2 * 0.8:
        return (
            "the file contains NUL bytes in every other position: it looks like UTF-16 without "
            "a byte-order mark; re-save it as UTF-8"
        )
    if len(data) >= 4 and data[0::2].count(0) * 2 >= len(data) // 2 * 0.8:
        return (
            "the file contains NUL bytes in every other position: it looks like big-endian "
            "UTF-16 without a byte-order mark; re-save it as UTF-8"
        )
    return (
        "the file contains NUL bytes, so it is binary data, not text; remove it from the input "
        "or strip the NUL bytes (for example with: tr -d '\\000')"
    )


def _fallback(data: bytes, exc: UnicodeDecodeError, path: str) -> Decoded:
    """UTF-8 failed: surrogates, truncation, mixed encodings, or a legacy 8-bit encoding."""
    line = byte_line(data, exc.start)
    try:
        # UTF-8-encoded surrogates (CESU-8 / WTF-8): UTF-8 text the cleaner can repair.
        return Decoded(data.decode("utf-8", "surrogatepass"), "utf-8")
    except UnicodeDecodeError:
        pass
    if exc.end == len(data) and exc.reason == "unexpected end of data":
        try:
            text = data[: exc.start].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            pass
        else:
            return Decoded(
                text,
                "utf-8",
                (
                    Finding(
                        "TRUNCATED_UTF8",
                        Severity.WARNING,
                        f"the file ends in the middle of a UTF-8 character; the incomplete "
                        f"last {len(data) - exc.start} byte(s) were dropped: check whether the "
                        "file was cut short",
                        path=path,
                        line=line,
                    ),
                ),
            )
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    utf8_bytes = sum(len(m) for m in _UTF8_SEQ.findall(data))
    if utf8_bytes and utf8_bytes * 2 >= high:
        raise InputRejected(
            f"the file is mostly UTF-8 but byte 0x{data[exc.start]:02X} on line {line} is not "
            "valid UTF-8: it mixes encodings; re-save it as UTF-8 (fix that line by hand)",
            code="UNDECODABLE",
            path=path,
            line=line,
        )
    western = _western(data)
    if western is not None:
        text, name = western
        return Decoded(text, name, (_fallback_finding(name, data, exc, path, line),))
    guessed = _detect(data)
    if guessed is not None:
        text, name = guessed
        return Decoded(text, name, (_fallback_finding(name, data, exc, path, line),))
    raise InputRejected(
        f"the file is not UTF-8 (byte 0x{data[exc.start]:02X} on line {line}) and its legacy "
        "encoding could not be told reliably; convert it to UTF-8 (for example with iconv) "
        "and ingest it again",
        code="UNDECODABLE",
        path=path,
        line=line,
    )


def _fallback_finding(
    name: str, data: bytes, exc: UnicodeDecodeError, path: str, line: int
) -> Finding:
    return Finding(
        "ENCODING_FALLBACK",
        Severity.WARNING,
        f"not valid UTF-8 (byte 0x{data[exc.start]:02X} on line {line}); decoded as {name}. "
        "Check the text reads right and re-save the file as UTF-8 to silence this",
        path=path,
        line=line,
    )


def _western(data: bytes) -> tuple[str, str] | None:
    """Windows-1252 / ISO-8859-1 text, if that reading is plausible, with its name."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    accented = len(data) - len(data.translate(None, _CP1252_LETTER_BYTES))
    letters = ascii_letters + accented
    if letters and accented / letters > _MAX_ACCENTED_SHARE:
        return None
    if _SUSPECT.search(text):
        return None
    # Without bytes 0x80-0x9F both codecs give the same text; name the one the file declares
    # by content: Latin-1 has only control characters there, Windows-1252 has punctuation.
    return text, ("windows-1252" if _C1_BYTES.search(data) else "iso-8859-1")


def _detect(data: bytes) -> tuple[str, str] | None:
    """A non-Western legacy encoding guessed by charset-normalizer, if a guess looks clean."""
    import charset_normalizer  # imported lazily: only files that are not UTF-8 pay for it

    for match in charset_normalizer.from_bytes(data, cp_exclusion=list(_WESTERN_CODECS)):
        if match.chaos > _MAX_CHAOS:
            continue
        text = str(match)
        if _SUSPECT.search(text):
            continue
        return text, _NICE_NAMES.get(match.encoding, match.encoding.replace("_", "-"))
    return None
