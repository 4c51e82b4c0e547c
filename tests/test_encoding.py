"""Bytes to text: binary sniffing, BOMs, UTF-8, legacy fallbacks, and character cleaning."""

from __future__ import annotations

import pytest

from corpus.encoding import binary_kind, byte_line, decode
from corpus.errors import InputRejected
from corpus.model import Severity
from corpus.textscan import clean_text, normalize_newlines

TEXT = "Ministers met on Friday. “Fair,” one said – £5m café.\n"


def codes(decoded) -> list[str]:
    return [f.code for f in decoded.findings]


def test_utf8_is_decoded_without_findings():
    decoded = decode(TEXT.encode(), path="a.txt")
    assert (decoded.text, decoded.encoding, codes(decoded)) == (TEXT, "utf-8", [])


def test_utf8_bom_is_removed_and_recorded_in_the_encoding_name():
    decoded = decode(b"\xef\xbb\xbf" + TEXT.encode(), path="a.txt")
    assert (decoded.text, decoded.encoding, codes(decoded)) == (TEXT, "utf-8-sig", [])


@pytest.mark.parametrize(
    ("codec", "name", "code"),
    [
        ("utf-16-le", "utf-16", "ENCODING_UTF16"),
        ("utf-16-be", "utf-16", "ENCODING_UTF16"),
        ("utf-32-le", "utf-32", "ENCODING_UTF32"),
        ("utf-32-be", "utf-32", "ENCODING_UTF32"),
    ],
)
def test_utf16_and_utf32_with_bom(codec, name, code):
    decoded = decode(("\ufeff" + TEXT).encode(codec), path="a.txt")
    assert decoded.text == TEXT
    assert decoded.encoding == name
    assert [(f.code, f.severity) for f in decoded.findings] == [(code, Severity.INFO)]


def test_latin1_bbc_pound_sign_is_decoded_with_a_warning_naming_the_encoding():
    data = "Line one\nPrices rose by £5m at the café\n".encode("latin-1")
    decoded = decode(data, path="bbc.txt")
    assert decoded.text == "Line one\nPrices rose by £5m at the café\n"
    assert decoded.encoding == "iso-8859-1"
    (finding,) = decoded.findings
    assert finding.code == "ENCODING_FALLBACK"
    assert finding.severity is Severity.WARNING
    assert finding.line == 2
    assert finding.path == "bbc.txt"
    assert "iso-8859-1" in finding.message
    assert "0xA3" in finding.message


def test_windows_1252_curly_quotes_are_not_read_as_c1_controls():
    data = "“Shocked,” he said – it’s over…".encode("cp1252")
    decoded = decode(data, path="a.txt")
    assert decoded.text == "“Shocked,” he said – it’s over…"
    assert decoded.encoding == "windows-1252"
    assert codes(decoded) == ["ENCODING_FALLBACK"]


def test_cyrillic_windows_1251_is_not_decoded_as_western_mojibake():
    text = "Государственная дума проголосовала за признание независимости регионов."
    decoded = decode(text.encode("cp1251"), path="a.txt")
    assert decoded.text == text
    assert decoded.encoding == "windows-1251"
    assert codes(decoded) == ["ENCODING_FALLBACK"]


def test_central_european_text_is_not_decoded_as_windows_1252():
    text = "Łódź i Kraków są pięknymi miastami, żeby było jasne."
    try:
        decoded = decode(text.encode("cp1250"), path="a.txt")
    except InputRejected as exc:  # refusing is acceptable; mojibake is not
        assert exc.code == "UNDECODABLE"
    else:
        assert decoded.text == text
        assert decoded.encoding == "windows-1250"


def test_mixed_utf8_and_latin1_is_rejected_with_the_line():
    data = "Russia’s vote\n\nline three\n".encode() + b"Price \xa35m\n"
    with pytest.raises(InputRejected) as info:
        decode(data, path="m.txt")
    assert info.value.code == "UNDECODABLE"
    assert info.value.line == 4
    assert "0xA3" in info.value.message


def test_utf8_with_bom_and_bad_bytes_is_rejected_not_guessed():
    with pytest.raises(InputRejected) as info:
        decode(b"\xef\xbb\xbfabc\n\xa3", path="a.txt")
    assert info.value.code == "UNDECODABLE"
    assert info.value.line == 2


def test_utf16_odd_length_is_undecodable():
    with pytest.raises(InputRejected) as info:
        decode("abc".encode("utf-16") + b"x", path="a.txt")
    assert info.value.code == "UNDECODABLE"


def test_truncated_utf8_keeps_the_complete_text_and_warns():
    decoded = decode("Café ’".encode()[:-1], path="a.txt")
    assert decoded.text == "Café "
    assert codes(decoded) == ["TRUNCATED_UTF8"]


def test_utf8_encoded_surrogates_pass_through_for_the_cleaner():
    decoded = decode(b"a\xed\xa0\x80b", path="a.txt")
    assert decoded.text == "a\ud800b"
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"%PDF-1.7\n", "PDF"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"\xfd7zXZ\x00\x00", "xz"),
        (b"\x7fELF\x02\x01", "ELF"),
    ],
)
def test_binary_formats_are_named(head, what):
    assert what in (binary_kind(head) or "")
    with pytest.raises(InputRejected) as info:
        decode(head, path="x.txt")
    assert info.value.code == "BINARY_DATA"
    assert what in info.value.message


def test_text_is_not_binary():
    assert binary_kind(b" date 2022-02-26 PK in the title") is None


def test_nul_bytes_are_binary_with_the_line_of_the_first():
    with pytest.raises(InputRejected) as info:
        decode(b"one\ntwo\nthr\x00ee\n", path="x.txt")
    assert (info.value.code, info.value.line) == ("BINARY_DATA", 3)


def test_utf16_without_bom_gets_a_helpful_message():
    with pytest.raises(InputRejected) as info:
        decode("Hello world, this is text".encode("utf-16-le"), path="x.txt")
    assert info.value.code == "BINARY_DATA"
    assert "UTF-16" in info.value.message


@pytest.mark.parametrize(
    ("data", "pos", "line"),
    [(b"a\nb\nc", 4, 3), (b"a\r\nb\r\nc", 6, 3), (b"a\rb\rc", 4, 3), (b"abc", 2, 1)],
)
def test_byte_line_counts_every_line_ending_style(data, pos, line):
    assert byte_line(data, pos) == line


# --- textscan -------------------------------------------------------------------------------


def test_newlines_normalize_crlf_and_cr_only():
    assert normalize_newlines("a\r\nb\rc\nd\x85e\u2028f") == "a\nb\nc\nd\x85e\u2028f"


def test_clean_text_fast_path_returns_the_same_object():
    text = "Plain text with ’ and NBSP\u00a0and ZWNJ \u200c in Malayalam.\n"
    cleaned, findings = clean_text(text, path="a.txt")
    assert cleaned is text
    assert findings == []


def test_c0_controls_are_removed_or_spaced_with_lines():
    text = "one\ntw\x0bo\nthree\x1b[1m\nfour\x0c\nfi\x00ve\t."
    cleaned, findings = clean_text(text, path="a.txt")
    assert cleaned == "one\ntw o\nthree[1m\nfour \nfive\t."
    (finding,) = findings
    assert (finding.code, finding.severity, finding.line) == (
        "CONTROL_CHARACTER",
        Severity.WARNING,
        2,
    )
    assert finding.message.startswith("4 ")
    assert "lines 2, 3, 4, 5" in finding.message


def test_surrogates_and_noncharacters_become_replacement_characters():
    cleaned, findings = clean_text("a\nb\ud800c\uffff\ufffe", path="a.txt")
    assert cleaned == "a\nb\ufffdc\ufffd\ufffd"
    assert [(f.code, f.line) for f in findings] == [("INVALID_CHARACTER", 2)]


def test_c1_bidi_and_zero_width_are_kept_and_reported():
    text = "a\x85b\nc\u202ed\u202c\ne\u200bf\ufeff"
    cleaned, findings = clean_text(text, path="a.txt")
    assert cleaned == text
    assert [(f.code, f.severity, f.line) for f in findings] == [
        ("C1_CONTROL", Severity.WARNING, 1),
        ("BIDI_CONTROL", Severity.WARNING, 2),
        ("INVISIBLE_CHARACTER", Severity.INFO, 3),
    ]


def test_clean_text_lists_at_most_five_lines():
    text = "\n".join(["x\x01"] * 9)
    _, (finding,) = clean_text(text)
    assert "lines 1, 2, 3, 4, 5, ..." in finding.message
    assert finding.message.startswith("9 ")
