import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from signatures.algorithms import Algorithm, generate_private_key, verify
from signatures.errors import SignatureError, WrongPin
from signatures.keys import EncryptedKey, KeyStore, PemKeyStore, ScryptCost, Signer, encrypt_private_key
from signatures.pki import issue_officer_certificate
from tests.unit.signatures.sigcase import DAY, T0, Agency

FAST = ScryptCost(n=2**4, r=8, p=1)  # tests only: the default is deliberately slow (2,000 unlocks below)


@pytest.fixture(scope="module")
def stored(agency: Agency) -> EncryptedKey:
    key = generate_private_key()
    cert = issue_officer_certificate(agency.ca, user_id="u-zhou", name="周监督员", public_key=key.public_key(),
                                     now=T0, valid_for=DAY)
    return EncryptedKey(encrypt_private_key(key, "246810", FAST), cert)


def test_unlocked_key_signs_for_its_certificate(stored: EncryptedKey):
    signer = stored.unlock("246810")
    assert isinstance(signer, Signer)
    assert signer.algorithm is Algorithm.ECDSA_P256_SHA256
    signature = signer.sign(b"step record")
    verify(Algorithm.ECDSA_P256_SHA256, stored.certificate.public_key(), signature, b"step record")


def test_wrong_pin_is_refused_with_a_clear_message(stored: EncryptedKey):
    with pytest.raises(WrongPin, match="PIN"):
        stored.unlock("246811")


def test_every_wrong_pin_is_a_wrong_pin_even_when_the_padding_happens_to_fit(stored: EncryptedKey):
    # AES-CBC without integrity: ~1 wrong PIN in 256 passes the padding check and yields undecodable bytes.
    # 2,000 PINs miss that case with probability (255/256)^2000 < 0.05 %.
    for n in range(2000):
        with pytest.raises(WrongPin):
            stored.unlock(f"{n:06d}x")


def test_empty_pin_is_refused(stored: EncryptedKey):
    with pytest.raises(WrongPin):
        stored.unlock("")


def test_stored_pem_is_encrypted_pkcs8_and_never_contains_the_key_in_clear(stored: EncryptedKey):
    assert stored.pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(stored.pem, password=None)


def test_default_kdf_is_scrypt_and_openssl_opens_the_key_with_the_pin(tmp_path):
    key = generate_private_key()
    path = tmp_path / "officer.key"
    path.write_bytes(encrypt_private_key(key, "135790"))
    parsed = subprocess.run(["openssl", "asn1parse", "-in", str(path)], capture_output=True, text=True, check=True)
    assert ":scrypt" in parsed.stdout and ":aes-256-cbc" in parsed.stdout and "INTEGER           :4000" in parsed.stdout
    ok = subprocess.run(["openssl", "pkey", "-in", str(path), "-passin", "pass:135790", "-noout"], capture_output=True)
    assert ok.returncode == 0
    bad = subprocess.run(["openssl", "pkey", "-in", str(path), "-passin", "pass:000000", "-noout"], capture_output=True)
    assert bad.returncode != 0


def test_unencrypted_key_is_refused(agency: Agency):
    key = generate_private_key()
    clear = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    with pytest.raises(SignatureError, match="not encrypted"):
        EncryptedKey(clear, agency.ca.certificate).unlock("1234")


def test_key_for_another_certificate_is_refused(stored: EncryptedKey, agency: Agency):
    wrong = EncryptedKey(stored.pem, agency.officers["u-wang"].signer.certificate)
    with pytest.raises(SignatureError, match="does not belong"):
        wrong.unlock("246810")


def test_key_store_unlocks_by_reference_and_names_unknown_references(stored: EncryptedKey):
    store: KeyStore = PemKeyStore({"u-zhou": stored}.__getitem__)
    assert store.signer("u-zhou", "246810").certificate == stored.certificate
    with pytest.raises(SignatureError, match="no signing key"):
        store.signer("u-nobody", "246810")
    with pytest.raises(WrongPin):
        store.signer("u-zhou", "0")
