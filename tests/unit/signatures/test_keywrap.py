"""The envelope that wraps an officer's PIN-encrypted key under the key-encryption key (signatures.keywrap)."""

import pytest
from cryptography.hazmat.primitives import serialization

from signatures.algorithms import generate_private_key
from signatures.errors import KeyWrapError
from signatures.keys import ScryptCost, encrypt_private_key
from signatures.keywrap import AesGcmKek, KeyEncryptionKey, envelope_kek_id, is_wrapped, unwrap_key, wrap_key

FAST = ScryptCost(n=2**10, r=8, p=1)
FP = "ab" * 32
OTHER_FP = "cd" * 32


@pytest.fixture(scope="module")
def pem() -> bytes:
    return encrypt_private_key(generate_private_key(), "246810", FAST)


@pytest.fixture(scope="module")
def kek() -> AesGcmKek:
    return AesGcmKek.generate()


def test_a_wrapped_key_opens_under_its_kek_for_its_officer_and_certificate(pem, kek):
    blob = wrap_key(kek, pem, user_id="officer1", fingerprint=FP)
    assert isinstance(kek, KeyEncryptionKey)
    assert is_wrapped(blob) and not is_wrapped(pem)
    assert envelope_kek_id(blob) == kek.key_id
    assert unwrap_key(kek, blob, user_id="officer1", fingerprint=FP) == pem
    assert wrap_key(kek, pem, user_id="officer1", fingerprint=FP) != blob  # a fresh nonce each time


def test_the_envelope_holds_no_pem_and_nothing_that_loads_as_a_key(pem, kek):
    blob = wrap_key(kek, pem, user_id="officer1", fingerprint=FP)
    assert b"BEGIN" not in blob and b"PRIVATE KEY" not in blob and pem[40:80] not in blob
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(blob, password=b"246810")
    with pytest.raises(ValueError):
        serialization.load_der_private_key(blob, password=b"246810")


def test_another_officer_or_certificate_does_not_open_it(pem, kek):
    blob = wrap_key(kek, pem, user_id="officer1", fingerprint=FP)
    for user_id, fingerprint in (("officer2", FP), ("officer1", OTHER_FP)):
        with pytest.raises(KeyWrapError, match="not this officer's key"):
            unwrap_key(kek, blob, user_id=user_id, fingerprint=fingerprint)


def test_another_kek_is_named_as_such(pem, kek):
    blob = wrap_key(kek, pem, user_id="officer1", fingerprint=FP)
    other = AesGcmKek.generate()
    assert other.key_id != kek.key_id
    with pytest.raises(KeyWrapError, match="another key-encryption key"):
        unwrap_key(other, blob, user_id="officer1", fingerprint=FP)


def test_a_changed_byte_anywhere_is_refused(pem, kek):
    blob = wrap_key(kek, pem, user_id="officer1", fingerprint=FP)
    for index in (4, 6, 20, len(blob) // 2, len(blob) - 1):  # version, kek id, nonce, ciphertext, tag
        altered = bytearray(blob)
        altered[index] ^= 0x01
        with pytest.raises(KeyWrapError):
            unwrap_key(kek, bytes(altered), user_id="officer1", fingerprint=FP)
    with pytest.raises(KeyWrapError, match="truncated"):
        unwrap_key(kek, blob[:30], user_id="officer1", fingerprint=FP)


def test_a_kek_must_be_32_bytes_and_never_shows_itself(kek):
    with pytest.raises(KeyWrapError, match="32 bytes"):
        AesGcmKek(b"short")
    assert kek.key_id.hex() in repr(kek) and len(repr(kek)) < 40


def test_a_wrapped_key_is_not_wrapped_twice(pem, kek):
    with pytest.raises(KeyWrapError, match="already"):
        wrap_key(kek, wrap_key(kek, pem, user_id="officer1", fingerprint=FP), user_id="officer1", fingerprint=FP)
