import pytest

from chalicelib import credentials


def test_password_hash_is_salted_and_verifies():
    first, second = credentials.hash_password("s3cret pass"), credentials.hash_password("s3cret pass")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert credentials.verify_password("s3cret pass", first)
    assert not credentials.verify_password("s3cret pasS", first)
    assert not credentials.verify_password("anything", None)


def test_token_round_trip_and_expiry():
    token = credentials.issue_token(42, "k", ttl_seconds=60, now=1_000)
    claims = credentials.read_token(token, "k", now=1_030)
    assert (claims.user_id, claims.issued_at, claims.expires_at) == (42, 1_000, 1_060)
    with pytest.raises(credentials.InvalidToken, match="expired"):
        credentials.read_token(token, "k", now=1_060)


@pytest.mark.parametrize("token", ["", "abc", "abc.", ".abc", "a.b.c"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(credentials.InvalidToken):
        credentials.read_token(token, "k", now=0)


def test_token_signed_with_another_key_is_refused():
    token = credentials.issue_token(1, "one", 60, now=0)
    with pytest.raises(credentials.InvalidToken, match="bad signature"):
        credentials.read_token(token, "two", now=1)


def test_api_keys_split_and_hash():
    new = credentials.new_api_key()
    prefix, secret = credentials.split_api_key(new.plaintext)
    assert prefix == new.prefix
    assert credentials.sha256(secret) == new.secret_sha256
    assert credentials.split_api_key("grk_only") is None
    assert credentials.split_api_key("xyz_a_b") is None
