"""HTTP Digest authentication (RFC 7616) as ODK Collect speaks it: MD5, qop="auth". Pure functions.

Collect (OkHttp with burgstaller's okhttp-digest) answers the first Digest challenge it is offered,
then keeps the nonce for the next requests, counting `nc` up, until a 401 says `stale=true`.
Nonces are stateless (a Lambda keeps no memory between requests): `<unix time>.<HMAC of it>` with
the token secret, good for NONCE_SECONDS; an expired or unknown one is answered `stale=true`, so the
phone retries with the fresh nonce without asking its user. Within its lifetime a nonce may be
replayed for the same method and URI (counting `nc` would need a store): Collect talks HTTPS.
"""

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

NONCE_SECONDS = 300
CLOCK_SKEW_SECONDS = 30  # between Lambda instances' clocks
ALGORITHM = "MD5"
QOP = "auth"
# name=value or name="value" (with \" inside), separated by commas
PARAMETER = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)')
MAX_HEADER_CHARS = 4096


@dataclass(frozen=True)
class DigestResponse:
    """The parameters of an `Authorization: Digest …` header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str
    nc: str
    cnonce: str
    algorithm: str


def ha1(username: str, realm: str, password: str) -> bytes:
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()  # noqa: S324 (Digest's MD5)


def new_nonce(secret: str, now: float | None = None) -> str:
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_nonce_mac(secret, stamp)}"


def nonce_is_fresh(secret: str, nonce: str, now: float | None = None) -> bool:
    stamp, _, mac = nonce.partition(".")
    if not stamp.isdigit() or len(stamp) > 12 or not hmac.compare_digest(mac, _nonce_mac(secret, stamp)):
        return False
    age = (now if now is not None else time.time()) - int(stamp)
    return -CLOCK_SKEW_SECONDS <= age <= NONCE_SECONDS


def challenge(realm: str, secret: str, stale: bool = False) -> str:
    value = f'Digest realm="{realm}", qop="{QOP}", algorithm={ALGORITHM}, nonce="{new_nonce(secret)}"'
    return value + (", stale=true" if stale else "")


def parse(value: str) -> DigestResponse | None:
    """The parameters of a Digest Authorization value (without the scheme); None if one is missing."""
    if len(value) > MAX_HEADER_CHARS:
        return None
    found: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = PARAMETER.match(value, position)
        if match is None or match.end() == position:
            return None
        quoted, bare = match.group(2), match.group(3)
        found[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        position = match.end()
    try:
        return DigestResponse(
            username=found["username"],
            realm=found["realm"],
            nonce=found["nonce"],
            uri=found["uri"],
            response=found["response"].lower(),
            qop=found.get("qop", ""),
            nc=found.get("nc", ""),
            cnonce=found.get("cnonce", ""),
            algorithm=found.get("algorithm", ALGORITHM),
        )
    except KeyError:
        return None


def expected_response(ha1_digest: bytes, method: str, answer: DigestResponse) -> str:
    ha2 = _md5(f"{method}:{answer.uri}")
    return _md5(f"{ha1_digest.hex()}:{answer.nonce}:{answer.nc}:{answer.cnonce}:{answer.qop}:{ha2}")


def verify(ha1_digest: bytes, method: str, answer: DigestResponse) -> bool:
    """Whether the response proves the password (qop=auth with MD5, the only kind we offer)."""
    if answer.qop != QOP or answer.algorithm.upper() != ALGORITHM or not answer.nc or not answer.cnonce:
        return False
    return hmac.compare_digest(
        answer.response.encode(), expected_response(ha1_digest, method, answer).encode()
    )


def _nonce_mac(secret: str, stamp: str) -> str:
    digest = hmac.new(secret.encode(), f"digest nonce {stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (Digest's MD5)
