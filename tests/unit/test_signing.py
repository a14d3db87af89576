"""Signed tokens: tamper-proof, bound to their purpose, expiring."""
from __future__ import annotations

import pytest

from chalicelib.adapters import signing


def test_round_trip_keeps_the_payload():
    token = signing.sign("refund-link", {"order": "A1", "n": 3})
    assert signing.verify("refund-link", token) == {"order": "A1", "n": 3}


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: t.replace(".", ""),
    lambda t: t.split(".")[0],
])
def test_any_alteration_is_refused(mutate):
    token = signing.sign("refund-link", {"order": "A1"})
    with pytest.raises(signing.BadSignature):
        signing.verify("refund-link", mutate(token))


def test_a_token_for_one_purpose_does_not_verify_for_another():
    token = signing.sign("cursor:venues:tenant-a", {"k": "x"})
    with pytest.raises(signing.BadSignature):
        signing.verify("cursor:venues:tenant-b", token)


def test_expiry_is_enforced():
    token = signing.sign("refund-link", {"order": "A1"}, expires_at=1_000)
    assert signing.verify("refund-link", token, now=999) == {"order": "A1"}
    with pytest.raises(signing.Expired):
        signing.verify("refund-link", token, now=1_000)


def test_flipping_unused_padding_bits_does_not_make_a_second_valid_token():
    token = signing.sign("refund-link", {"order": "A1"})
    body, mac = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(mac[-1])
    twin = alphabet[last ^ 1]  # a 43-character MAC leaves the last character's 2 low bits unused
    with pytest.raises(signing.BadSignature):
        signing.verify("refund-link", f"{body}.{mac[:-1]}{twin}")


# -- key rotation: the key ring of chalicelib.adapters.secrets --------------------------------


@pytest.fixture
def signing_keys(monkeypatch):
    """Set the environment store's signing keys (``None``: missing) as an operator would."""
    import dataclasses

    from chalicelib.adapters import secrets

    def use(value: str | None) -> None:
        stored = {name: secret for name, secret in secrets.settings.environment_secrets.items()
                  if name != secrets.SIGNING_KEYS}
        if value is not None:
            stored[secrets.SIGNING_KEYS] = value
        monkeypatch.setattr(secrets, "settings", dataclasses.replace(
            secrets.settings, secrets_store="environment", environment_secrets=stored))

    return use


def _ring(current: str, **keys: str) -> str:
    import json

    return json.dumps({"current": current, "keys": keys})


def test_a_link_signed_before_a_rotation_stays_valid_until_it_expires(signing_keys):
    signing_keys(_ring("2026-06", **{"2026-06": "a" * 40}))
    old = signing.sign("refund-link", {"order": "A1"}, expires_at=2_000)
    signing_keys(_ring("2026-12", **{"2026-12": "b" * 40, "2026-06": "a" * 40}))  # rotated: the old key stays
    new = signing.sign("refund-link", {"order": "A2"}, expires_at=2_000)
    assert new != old and signing.verify("refund-link", old, now=1_999) == {"order": "A1"}
    assert signing.verify("refund-link", new, now=1_999) == {"order": "A2"}
    with pytest.raises(signing.Expired):
        signing.verify("refund-link", old, now=2_000)


def test_new_tokens_name_the_current_key_and_a_retired_key_no_longer_verifies(signing_keys):
    import base64
    import json

    signing_keys(_ring("k1", k1="a" * 40))
    old = signing.sign("tickets", {"o": "A1"})
    signing_keys(_ring("k2", k2="b" * 40, k1="a" * 40))
    body = signing.sign("tickets", {"o": "A2"}).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["k"] == "k2"
    signing_keys(_ring("k2", k2="b" * 40))  # the old key retired
    with pytest.raises(signing.BadSignature, match="unknown signing key"):
        signing.verify("tickets", old)


def test_a_token_cannot_choose_another_key_of_the_ring(signing_keys):
    """The key id is inside the signed body: naming the other key breaks the signature."""
    signing_keys(_ring("k2", k2="b" * 40, k1="a" * 40))
    body, mac = signing.sign("tickets", {"o": "A1"}).split(".")
    forged = signing._b64(signing._unb64(body).replace(b'"k":"k2"', b'"k":"k1"'))
    with pytest.raises(signing.BadSignature):
        signing.verify("tickets", f"{forged}.{mac}")


def test_a_plain_secret_is_a_ring_of_one_key_and_tokens_without_key_id_use_it(signing_keys):
    """Tokens made before key ids name no key: they verify with the plain key, id "0", which a
    ring can keep after a rotation like any other."""
    import hashlib
    import hmac
    import json

    signing_keys("c" * 40)
    body = json.dumps({"p": {"o": "A1"}, "e": None}, separators=(",", ":"), sort_keys=True).encode()
    key = hashlib.sha256(("c" * 40 + "\x00tickets").encode()).digest()
    legacy = f"{signing._b64(body)}.{signing._b64(hmac.new(key, body, hashlib.sha256).digest())}"
    assert signing.verify("tickets", legacy) == {"o": "A1"}
    signing_keys(_ring("k1", k1="a" * 40, **{"0": "c" * 40}))
    assert signing.verify("tickets", legacy) == {"o": "A1"}


def test_a_keyed_digest_follows_the_current_key(signing_keys):
    signing_keys(_ring("k1", k1="a" * 40))
    before = signing.keyed_digest("hold-slot", "ana@example.org")
    assert before == signing.keyed_digest("hold-slot", "ana@example.org") and len(before) == 32
    assert before != signing.keyed_digest("other", "ana@example.org")
    signing_keys(_ring("k2", k2="b" * 40, k1="a" * 40))
    assert signing.keyed_digest("hold-slot", "ana@example.org") != before


@pytest.mark.parametrize("value, why", [
    (None, "missing"),
    ("   ", "missing"),
    ('{"current": "k1", "keys": {"k1": "a"', "malformed (not JSON)"),
    ('{"current": "k9", "keys": {"k1": "secret-one"}}', '"current" names no key'),
    ('{"current": "k1", "keys": {}}', 'no "keys" object'),
    ('{"current": "k 1", "keys": {"k 1": "secret-one"}}', "a key id is not"),
    ('{"current": "k1", "keys": {"k1": ""}}', "a key is empty"),
])
def test_a_missing_or_malformed_ring_is_a_503_with_one_line_that_never_shows_a_key(signing_keys, value, why):
    from chalicelib.adapters.secrets import SecretUnavailable
    from tests.log_capture import captured_logs

    signing_keys(value)
    with captured_logs() as lines, pytest.raises(SecretUnavailable) as refused:
        signing.sign("tickets", {"o": "A1"})
    assert refused.value.status == 503
    assert [line["level"] for line in lines] == ["ERROR"]
    assert why in lines[0]["message"] and lines[0]["secret"] == "signing-keys"
    assert "secret-one" not in str(lines)
