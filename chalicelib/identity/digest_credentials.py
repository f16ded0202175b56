"""Digest's HA1 (MD5 of email:realm:password) per user, kept sealed (identity/sealed.py).

It is set whenever the password is at hand: set by an admin or its user, or checked at a login or a
Basic request. A user whose password predates Digest gets it at their next password login. The seal
is bound to the user's id and email, so a changed email (the Digest username) voids it.
"""

from chalicelib.identity import http_digest, sealed, users_sql

REALM = "georegistry"


def remember(cur, secret: str, user: dict, password: str, stored: bytes | None = None) -> None:
    """Seals and stores the HA1 of `user` (id, email) unless `stored` already holds that one."""
    ha1 = http_digest.ha1(user["email"], REALM, password)
    if stored is not None and sealed.unseal(secret, bytes(stored), _context(user)) == ha1:
        return  # a write per Basic request would be one too many
    users_sql.set_digest_ha1(cur, user["id"], sealed.seal(secret, ha1, _context(user)))


def ha1_of(secret: str, user: dict) -> bytes | None:
    """The user's HA1 (row with id, email, digest_ha1_sealed), None if not set or no longer valid."""
    stored = user.get("digest_ha1_sealed")
    return sealed.unseal(secret, bytes(stored), _context(user)) if stored else None


def _context(user: dict) -> str:
    return f"digest ha1 {user['id']} {user['email'].lower()}"
