"""Keyword-only, frozen configuration records. Nothing here reads argv or the environment.

``TargetConfig.from_url`` turns a ``--host`` value into a target; ``PayloadConfig`` says
what documents go into each request. Both raise :class:`~loadgen.errors.ConfigError` with
a message naming the option and the fix.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Collection, Iterable, Optional
from urllib.parse import unquote, urlsplit

from loadgen.errors import ConfigError
from loadgen.redact import redact_url, split_userinfo

PROTOCOLS = ("grpc", "websocket", "http")
GRPC_MODES = ("unary", "stream")
KINDS = ("image", "text")
IMAGE_DTYPES = ("uint8", "float32", "float16")  # of generated image tensors (--image-dtype)
# URL scheme -> (protocol, tls)
_SCHEMES = {"grpc": ("grpc", False), "grpcs": ("grpc", True), "ws": ("websocket", False),
            "wss": ("websocket", True), "http": ("http", False), "https": ("http", True)}
#: Wire format of each protocol's request bodies (see :func:`loadgen.encoding.encode`).
PROTOCOL_WIRE = {"grpc": "protobuf", "websocket": "protobuf", "http": "json"}
#: ``(name, value)`` pairs sent with every request: gRPC metadata, HTTP/websocket headers.
Headers = tuple[tuple[str, str], ...]
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+\Z")  # an HTTP token (RFC 9110)
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*\Z")  # visible ASCII: what gRPC metadata accepts


@dataclass(frozen=True, kw_only=True)
class TargetConfig:
    """Where the gateway is and how to talk to it.

    :param protocol: wire protocol, one of :data:`PROTOCOLS`.
    :param host: host name or IP address of the gateway.
    :param port: TCP port of the gateway.
    :param tls: use TLS (``grpcs://``, ``wss://``, ``https://``).
    :param grpc_mode: ``unary`` (one call per request) or ``stream`` (one long-lived
        ``/jina.JinaRPC/Call`` stream per user).
    :param timeout_s: per-request deadline in seconds.
    :param headers: ``(name, value)`` pairs sent with every request and probe (``--header``
        and the ``--host`` URL's ``user:password``); left out of ``repr``: they hold credentials.
    """

    protocol: str = "grpc"
    host: str = "127.0.0.1"
    port: int = 12345
    tls: bool = False
    grpc_mode: str = "unary"
    timeout_s: float = 30.0
    headers: Headers = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"--protocol: unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}")
        if self.grpc_mode not in GRPC_MODES:
            raise ConfigError(f"--grpc-mode: unknown mode {self.grpc_mode!r}; use unary or stream")
        if not 0 < self.port < 65536:
            raise ConfigError(f"--host: port {self.port} is out of range; use 1-65535, e.g. grpc://127.0.0.1:12345")
        if not self.timeout_s > 0:
            raise ConfigError(f"--timeout: must be > 0 seconds, got {self.timeout_s}")

    @property
    def address(self) -> str:
        """``host:port`` as gRPC expects it."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The target as a URL, e.g. ``grpc://127.0.0.1:12345`` or ``ws://127.0.0.1:8080``."""
        return f"{scheme_of(self.protocol, self.tls)}://{self.address}"

    @property
    def wire(self) -> str:
        """The request body format of the protocol: ``protobuf`` or ``json``."""
        return PROTOCOL_WIRE[self.protocol]

    @classmethod
    def from_url(cls, url: str, *, default_protocol: str = "grpc", headers: Iterable[tuple[str, str]] = (),
                 **overrides) -> "TargetConfig":
        """Parse ``grpc://``, ``ws://`` or ``http://HOST:PORT`` (``grpcs``, ``wss``, ``https``
        with TLS) into a target; the scheme decides the protocol. A ``user:password@`` in the
        URL becomes an ``Authorization: Basic`` header (as curl sends it), unless ``headers``
        has an ``Authorization`` of its own; ``url`` and messages never show the password.

        :param default_protocol: the protocol of a URL without a scheme (``HOST:PORT``).
        :param headers: ``(name, value)`` pairs for every request (``--header``).
        :raises ConfigError: for an unknown scheme, a missing host or port.
        """
        userinfo, bare = split_userinfo(url)
        shown = redact_url(url)
        parts = urlsplit(bare if "://" in bare else f"{scheme_of(default_protocol, False)}://{bare}")
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ConfigError(f"--host: unsupported scheme {scheme!r} in {shown!r}; use grpc://, ws:// or "
                              f"http://HOST:PORT (grpcs://, wss://, https:// for TLS)")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"--host: bad port in {shown!r}; use grpc://HOST:PORT, e.g. grpc://127.0.0.1:12345")
        if not parts.hostname or port is None:
            raise ConfigError(f"--host: {shown!r} needs a host and a port, e.g. grpc://127.0.0.1:12345")
        protocol, tls = _SCHEMES[scheme]
        return cls(protocol=protocol, host=parts.hostname, port=port, tls=tls,
                   headers=merge_headers(basic_auth(userinfo), tuple(headers)), **overrides)


def basic_auth(userinfo: str) -> Headers:
    """The ``Authorization: Basic`` header of a URL's ``user:password`` (percent-escapes
    decoded), or none for an empty ``userinfo``."""
    if not userinfo:
        return ()
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return (("Authorization", f"Basic {token}"),)


def merge_headers(defaults: Headers, given: Headers) -> Headers:
    """``defaults`` whose names ``given`` does not repeat (case-insensitively), then ``given``."""
    names = {name.lower() for name, _ in given}
    return tuple(item for item in defaults if item[0].lower() not in names) + given


def parse_headers(items: Iterable[str], *, option: str = "--header") -> Headers:
    """Parse ``--header 'Name: value'`` items into ``(name, value)`` pairs.

    :raises ConfigError: for an item without a colon, a name that is not an HTTP token, or
        a value with control or non-ASCII characters. The message counts the item but never
        shows it: a header usually carries a credential.
    """
    headers = []
    for number, item in enumerate(items, 1):
        name, sep, value = str(item).partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.match(name) or not _HEADER_VALUE.match(value):
            raise ConfigError(f"{option}: item {number} is not 'Name: value' (an HTTP header name, a colon, then "
                              f"printable ASCII on one line); e.g. --header 'Authorization: Bearer TOKEN' "
                              f"(the value is not shown here)")
        headers.append((name, value))
    return tuple(headers)


def scheme_of(protocol: str, tls: bool) -> str:
    """The URL scheme of ``protocol`` (``grpc``/``websocket``/``http``), e.g. ``wss`` with TLS."""
    return next((s for s, pair in _SCHEMES.items() if pair == (protocol, tls)), protocol)


def resolve_protocol(*, host: str, requested: str = "", pinned: Collection[str] = ()) -> str:
    """The protocol of a run: ``host``'s scheme, else ``requested`` (``--protocol``), else the
    one the locustfile's users pin (e.g. ``JinaHttpUser``), else ``grpc``.

    :param host: ``--host`` (may be empty or lack a scheme).
    :param requested: ``--protocol``, or empty when not given.
    :param pinned: protocols pinned by user classes (empty when they follow the run).
    :raises ConfigError: when any two of them disagree, naming the option to fix.
    """
    if len(set(pinned)) > 1:
        raise ConfigError(f"--protocol: the locustfile mixes users of {', '.join(sorted(set(pinned)))}; "
                          f"one run speaks one protocol")
    protocol = requested or next(iter(pinned), "") or "grpc"
    if "://" in host:
        from_host = TargetConfig.from_url(host).protocol
        if requested and requested != from_host:
            raise ConfigError(f"--protocol {requested} does not match --host {redact_url(host)} (a {from_host} URL); "
                              f"drop --protocol or give a {scheme_of(requested, False)}:// URL")
        protocol = from_host
    if pinned and protocol not in pinned:
        raise ConfigError(f"--protocol: the locustfile's users speak only {next(iter(pinned))} but the run uses "
                          f"{protocol}; derive them from JinaUser to follow --protocol/--host")
    return protocol


@dataclass(frozen=True, kw_only=True)
class PayloadConfig:
    """What each request carries.

    :param kind: ``image`` (random uint8 tensors) or ``text`` (sentences).
    :param request_size: documents per request (>= 1).
    :param image_shape: tensor shape of one image, e.g. ``(224, 224, 3)``.
    :param image_dtype: numpy dtype name of generated image tensors: ``uint8`` (full range),
        ``float32`` or ``float16`` (uniform from 0 to 1; float16 rounds values near 1 up to 1.0).
    :param top_k: matches expected per query document on ``/search``.
    :param pool_size: pre-encoded requests per endpoint.
    :param pool_mb: cap on the memory of all pools of one process, in MiB.
    :param seed: base seed; each worker adds its index.
    :param match_field: a scalar field of ``/search`` matches whose values are counted
        (``--match-field``, e.g. ``shard``), or None.
    """

    kind: str = "image"
    request_size: int = 8
    image_shape: tuple[int, ...] = (224, 224, 3)
    image_dtype: str = "uint8"
    top_k: int = 10
    pool_size: int = 16
    pool_mb: float = 256.0
    seed: int = 0
    match_field: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"--kind: unknown document kind {self.kind!r}; use image or text")
        _positive("--request-size", self.request_size, "e.g. --request-size 8")
        _positive("--top-k", self.top_k, "e.g. --top-k 10")
        _positive("--pool-size", self.pool_size, "e.g. --pool-size 16")
        if not self.pool_mb > 0:
            raise ConfigError(f"--pool-mb: must be > 0 MiB, got {self.pool_mb}")
        if not self.image_shape or any(d < 1 for d in self.image_shape):
            raise ConfigError(f"--image-shape: every dimension must be >= 1, got {self.image_shape}")
        if self.image_dtype not in IMAGE_DTYPES:
            raise ConfigError(f"--image-dtype: unknown dtype {self.image_dtype!r}; use {', '.join(IMAGE_DTYPES)}")


def _positive(option: str, value: int, example: str) -> None:
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{option}: must be a whole number >= 1, got {value!r}; {example}")


def parse_image_shape(text: str, *, option: str = "--image-shape") -> tuple[int, ...]:
    """Parse ``--image-shape`` (or ``option``) such as ``224,224,3`` or ``64x64x3``.

    :raises ConfigError: when a dimension is not a positive integer.
    """
    shape = ()
    if re.fullmatch(r"\s*\d+(\s*[,x]\s*\d+)*\s*", text):
        shape = tuple(int(p) for p in re.split(r"\s*[,x]\s*", text.strip()))
    if not shape or any(d < 1 for d in shape):
        raise ConfigError(f"{option}: cannot read {text!r}; use positive integers like 224,224,3")
    return shape


def parse_task_mix(text: str, *, option: str = "--task-mix") -> dict[str, int]:
    """Parse ``--task-mix`` (or ``option``) such as ``index:1,search:4`` into ``{"/index": 1, "/search": 4}``.

    :raises ConfigError: for a missing or non-positive weight or an empty mix.
    """
    mix: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = item.partition(":")
        try:
            w = int(weight) if sep else 1
        except ValueError:
            w = -1
        if not name.strip() or w < 0:
            raise ConfigError(f"{option}: bad item {item!r}; use ENDPOINT:WEIGHT pairs like index:1,search:4")
        mix["/" + name.strip().lstrip("/")] = w
    if not mix or sum(mix.values()) == 0:
        raise ConfigError(f"{option}: {text!r} has no positive weight; use e.g. index:1,search:4")
    return mix
