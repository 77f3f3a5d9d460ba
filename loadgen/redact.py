"""Keep secrets out of what loadgen prints, logs and writes.

Secrets reach loadgen in two ways: the userinfo of a ``--host`` URL
(``grpcs://user:password@gateway:443``) and ``--header`` values (``Authorization: Bearer …``).
Header values never leave the transports (a summary lists header *names* only); URLs go
through :func:`redact_url` wherever one is printed, logged or written. AWS credentials
never reach loadgen's own code: boto3 reads them (see :mod:`loadgen.cloud.aws`).
"""
from __future__ import annotations

import re

MASK = "***"
# Names (of URL query parameters, options, headers) that usually carry a secret.
_SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|credential|auth|api[-_]?key|access[-_]?key|"
                          r"private[-_]?key|signature|cookie|session", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_QUERY_ITEM = re.compile(r"([?&;])([^=&;#]+)=([^&;#]*)")


def is_secret_name(name: str) -> bool:
    """True when ``name`` (an option, header or query parameter) looks like it holds a secret,
    e.g. ``password``, ``api_key``, ``X-Auth-Token``."""
    return bool(_SECRET_NAME.search(name))


def split_userinfo(url: str) -> tuple[str, str]:
    """``(userinfo, url without it)``: ``("ann:pw", "grpc://gw:1")`` for ``grpc://ann:pw@gw:1``,
    ``("", url)`` without userinfo. The last ``@`` ends the userinfo, so a password may hold
    ``/``, ``?``, ``#`` or ``@`` unescaped (which :func:`urllib.parse.urlsplit` gets wrong)."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    userinfo, at, rest = url[start:].rpartition("@")
    return (userinfo, url[:start] + rest) if at else ("", url)


def redact_url(url: str) -> str:
    """``url`` safe to show: a userinfo password becomes ``***`` (``grpc://ann:***@gw:1``), a
    userinfo without a password too (it is usually a token: ``grpc://***@gw:1``), and so do
    query parameters with secret names (``?token=***``). Anything else is left as it is,
    including text that is not a URL at all (a URL with an ``@`` after its userinfo loses a
    little more: harmless in a message)."""
    userinfo, bare = split_userinfo(url)
    if userinfo:
        user, colon, _ = userinfo.partition(":")
        scheme = _SCHEME.match(bare)
        start = scheme.end() if scheme else 0
        bare = bare[:start] + (f"{user}:{MASK}" if colon else MASK) + "@" + bare[start:]
    return _QUERY_ITEM.sub(_mask_query_item, bare)


def _mask_query_item(match: re.Match) -> str:
    separator, name, value = match.groups()
    return f"{separator}{name}={MASK if is_secret_name(name) else value}"


def redact_argv(argv: "list[str] | tuple[str, ...]") -> list[str]:
    """A command line safe to show: the value after each ``--header`` becomes ``Name: ***``
    and URLs (``scheme://...``) go through :func:`redact_url`."""
    shown: list[str] = []
    for item in argv:
        if shown and shown[-1] == "--header":
            shown.append(f"{item.partition(':')[0].strip()}: {MASK}")
        else:
            shown.append(redact_url(item) if _SCHEME.match(item) else item)
    return shown
