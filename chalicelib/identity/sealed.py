"""Small secrets kept in a table only sealed: encrypted and authenticated with keys derived from the
token secret (which lives in Secrets Manager), bound to what they belong to (`context`).

Sealed form: version byte, 16-byte random nonce, ciphertext, 32-byte tag. Encryption XORs an
HMAC-SHA256 keystream (HMAC as a PRF in counter mode); the tag is HMAC-SHA256 over everything
before it and the context (encrypt-then-MAC). Rotating the token secret makes every sealed value
unreadable: what depends on them (Digest's HA1) is set again at the user's next password login.
"""

# Hand-written rather than AES-GCM: `cryptography` is not in the Lambda package, and HMAC-SHA256 (stdlib)
# in counter mode with encrypt-then-MAC is a standard construction for a few bytes.
import hashlib
import hmac
import secrets

VERSION = b"\x01"
NONCE_BYTES = 16
TAG_BYTES = 32
BLOCK = hashlib.sha256().digest_size


def seal(secret: str, plaintext: bytes, context: str) -> bytes:
    encryption, authentication = _keys(secret)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = VERSION + nonce + _xor(plaintext, _keystream(encryption, nonce, len(plaintext)))
    return body + _tag(authentication, body, context)


def unseal(secret: str, sealed: bytes | None, context: str) -> bytes | None:
    """The plaintext, or None when it was sealed with another secret or for another context."""
    if not sealed or len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[:1] != VERSION:
        return None
    encryption, authentication = _keys(secret)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(authentication, body, context)):
        return None
    nonce, ciphertext = body[1 : 1 + NONCE_BYTES], body[1 + NONCE_BYTES :]
    return _xor(ciphertext, _keystream(encryption, nonce, len(ciphertext)))


def _keys(secret: str) -> tuple[bytes, bytes]:
    root = hmac.new(secret.encode(), b"georegistry sealed v1", hashlib.sha256).digest()
    return (
        hmac.new(root, b"encryption", hashlib.sha256).digest(),
        hmac.new(root, b"authentication", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + BLOCK - 1) // BLOCK
    stream = b"".join(
        hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(blocks)
    )
    return stream[:length]


def _tag(key: bytes, body: bytes, context: str) -> bytes:
    encoded = context.encode()
    return hmac.new(key, body + len(encoded).to_bytes(4, "big") + encoded, hashlib.sha256).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))
