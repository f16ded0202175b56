import pytest

from chalicelib.identity import credentials
from chalicelib.platform import config
from tests.unit.deployed import pose_as_deployed


def test_password_hash_is_salted_and_verifies():
    first, second = credentials.hash_password("s3cret pass"), credentials.hash_password("s3cret pass")
    assert first != second and first.startswith("scrypt$16$8$1$")  # the tests' cheap cost
    assert credentials.verify_password("s3cret pass", first)
    assert not credentials.verify_password("s3cret pasS", first)
    assert not credentials.verify_password("anything", None)
    assert not credentials.needs_rehash(first)


def test_production_hashes_at_owasps_cost_and_older_hashes_need_redoing(monkeypatch):
    pose_as_deployed(monkeypatch, "prod")
    monkeypatch.delenv("PASSWORD_SCRYPT_N")
    config.reset()
    try:
        hashed = credentials.hash_password("s3cret pass")
        assert hashed.startswith("scrypt$131072$8$1$") and credentials.verify_password("s3cret pass", hashed)
        assert not credentials.needs_rehash(hashed)
        assert credentials.needs_rehash("scrypt$16384$8$1$c2FsdA$ZGlnZXN0")
    finally:
        config.reset()


@pytest.mark.parametrize(("stage", "n", "reason"), [("prod", "1024", "local and test stages only"),
                                                    ("test", "1000", "power of 2")])  # fmt: skip
def test_a_weak_or_malformed_cost_stops_the_settings(monkeypatch, stage, n, reason):
    pose_as_deployed(monkeypatch, stage)
    monkeypatch.setenv("PASSWORD_SCRYPT_N", n)
    config.reset()
    with pytest.raises(RuntimeError, match=reason):
        config.settings()
    config.reset()


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
