"""Document keys from web addresses: the same page fetched twice is one document.

A page's key is its host and path, normalized so that addresses which name the same article
give the same key, and made safe as a relative output path (see ``check_key``):

- the scheme, user, port 80/443, a leading ``www.`` and the fragment are dropped; the host is
  lower-cased;
- tracking parameters (``utm_*``, ``fbclid``, ``gclid``...) are dropped from the query; what is
  left is sorted and kept, after a ``%3F`` (an encoded ``?``), because ``?id=5`` often *is*
  the article;
- ``.`` and ``..`` segments are resolved, empty segments and a trailing slash dropped; a
  page at the root of its site is ``<host>/index``;
- characters that are not safe in file names on common systems are percent-encoded
  (``%`` itself too, so the encoding cannot be confused with one in the address).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import parse_qsl, unquote, urlsplit

#: Query parameters that track a visit, not the article: dropped from keys.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ocid",
        "cmpid",
        "smid",
        "smtyp",
        "ref",
        "ref_src",
        "share",
        "amp",
        "_ga",
        "at_medium",
        "at_campaign",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "ga_", "pk_", "mtm_")
#: Characters kept as they are in a key segment; everything else is percent-encoded.
_UNSAFE = re.compile(r"[^\w.\-~!$&'()+,;=@]", re.UNICODE)
#: Segments longer than this (in characters) are shortened and given a digest suffix.
MAX_SEGMENT = 120


def is_web_url(url: str | None) -> bool:
    """Whether ``url`` is an absolute http(s) address with a host."""
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _encode(segment: str) -> str:
    out = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), segment)
    if out in (".", ".."):
        out = out.replace(".", "%2E")
    if len(out) > MAX_SEGMENT:
        digest = hashlib.sha1(out.encode("utf-8")).hexdigest()[:10]
        out = out[: MAX_SEGMENT - 11] + "-" + digest
    return out


def _query(query: str) -> str:
    kept = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMS and not name.lower().startswith(_TRACKING_PREFIXES)
    ]
    return "&".join(f"{name}={value}" if value else name for name, value in sorted(kept))


def url_key(url: str) -> str | None:
    """The document key of a web address, or None when it is not an http(s) URL with a host.

    >>> url_key("https://www.Example.com/news/2024/storm/?utm_source=x#top")
    'example.com/news/2024/storm'
    """
    if not is_web_url(url):
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    path = posixpath.normpath("/" + unquote(parts.path)) if parts.path else "/"
    segments = [s for s in path.split("/") if s and s not in (".", "..")]
    query = _query(parts.query)
    if query:
        if not segments:
            segments = ["index"]
        segments[-1] = segments[-1] + "?" + query
    if not segments:
        segments = ["index"]
    encoded = [_encode(host)] + [_encode(s) for s in segments]
    return "/".join(encoded)
