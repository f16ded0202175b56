"""Passwords, session tokens and API keys: pure functions, no database.

- Passwords: scrypt (hashlib), 16-byte random salt, stored as `scrypt$n$r$p$salt$hash`; the cost N is
  OWASP's 2^17 (settings may lower it in the test and local stages only), and a hash made with another
  cost is redone at the next successful login (`needs_rehash`).
- Tokens: `base64url(payload).base64url(HMAC-SHA256(secret, payload))`, payload {sub, iat, exp, ver}.
- API keys: `grk_<prefix>_<secret>`; the prefix finds the row, the secret's SHA-256 is compared.
  The secret has 256 random bits, so a fast hash is enough (a KDF guards guessable passwords).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from chalicelib.platform import config

SCRYPT_R, SCRYPT_P = 8, 1
API_KEY_MARK = "grk"
# grk_<hex prefix>_<urlsafe base64 secret>, as new_api_key makes them
API_KEY_SHAPE = re.compile(rf"{API_KEY_MARK}_(?P<prefix>[0-9a-f]{{1,32}})_(?P<secret>[A-Za-z0-9_-]{{1,128}})")


def hash_password(password: str) -> str:
    n = config.settings().password_scrypt_n
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        # Spend the same time as a real check so response times do not reveal unknown emails.
        _scrypt(password, b"0" * 16, config.settings().password_scrypt_n, SCRYPT_R, SCRYPT_P)
        return False
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(computed, _unb64(digest))


def needs_rehash(stored: str) -> bool:
    """A hash made with other parameters than today's, to be redone while the password is at hand."""
    scheme, n, r, p, *_ = stored.split("$")
    wanted = ("scrypt", config.settings().password_scrypt_n, SCRYPT_R, SCRYPT_P)
    return (scheme, int(n), int(r), int(p)) != wanted


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # scrypt holds 128 * n * r * p bytes at once (128 MiB at OWASP's cost): allow twice that.
    limit = 256 * n * r * p
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=limit)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    issued_at: int
    expires_at: int
    version: int  # the user's token_version when issued; a newer one invalidates the token


class InvalidToken(Exception):
    pass


def issue_token(
    user_id: int, secret: str, ttl_seconds: int, now: float | None = None, version: int = 1
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": user_id, "iat": issued, "exp": issued + ttl_seconds, "ver": version}
    payload = _b64(json.dumps(claims).encode())
    return f"{payload}.{_sign(payload, secret)}"


def read_token(token: str, secret: str, now: float | None = None) -> TokenClaims:
    """Checks signature and expiry; raises InvalidToken with the reason."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise InvalidToken("malformed token")
    if not hmac.compare_digest(signature.encode(), _sign(payload, secret).encode()):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_unb64(payload))
        parsed = TokenClaims(int(claims["sub"]), int(claims["iat"]), int(claims["exp"]), int(claims["ver"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise InvalidToken("malformed payload") from error
    if parsed.expires_at <= (now if now is not None else time.time()):
        raise InvalidToken("expired")
    return parsed


def _sign(payload: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret_sha256: bytes
    plaintext: str  # shown to the user once, never stored


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(prefix, sha256(secret), f"{API_KEY_MARK}_{prefix}_{secret}")


def split_api_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None: only the characters we issue, so that no
    other (a NUL, which PostgreSQL's text cannot hold) reaches the lookup."""
    found = API_KEY_SHAPE.fullmatch(key)
    return (found["prefix"], found["secret"]) if found else None


def sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
