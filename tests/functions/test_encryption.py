"""Encryption functions (dtl-functions-encryption.rst): round trips and failure modes.

Test keys are generated once for the module (RSA for pki, an OpenPGP key with a separate
encryption subkey for pgp).
"""

import math
import warnings
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError
from dtl.values import NI, URI, DateTime, deep_equal

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgpy
    from pgpy.constants import (CompressionAlgorithm, HashAlgorithm, KeyFlags, PubKeyAlgorithm,
                                SymmetricKeyAlgorithm)




# -- keys -----------------------------------------------------------------------------------------

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PRIVATE_PKCS1 = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption()).decode()
RSA_PRIVATE_PKCS8 = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()
RSA_PUBLIC = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

PASSPHRASE = "valid-password"


def _pgp_key(protect: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        uid = pgpy.PGPUID.new("DTL test", email="dtl-test@example.invalid")
        key.add_uid(uid, usage={KeyFlags.Sign, KeyFlags.Certify},
                    hashes=[HashAlgorithm.SHA256], ciphers=[SymmetricKeyAlgorithm.AES256],
                    compression=[CompressionAlgorithm.ZLIB])
        sub = pgpy.PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_subkey(sub, usage={KeyFlags.EncryptCommunications, KeyFlags.EncryptStorage})
        if protect:
            key.protect(PASSPHRASE, SymmetricKeyAlgorithm.AES256, HashAlgorithm.SHA256)
    return key


PGP_KEY = _pgp_key(protect=True)
PGP_PRIVATE = str(PGP_KEY)
PGP_PUBLIC = str(PGP_KEY.pubkey)
PGP_OPEN_KEY = _pgp_key(protect=False)

# -- encrypt / decrypt (Fernet) -------------------------------------------------------------------


def test_doc_example():
    assert ev(["decrypt", "secret", ["encrypt", "secret", ["list", "a", "b", "c"]]]) == \
        ["a", "b", "c"]
    assert type(ev(["encrypt", "secret", ["list", "a", "b", "c"]])) is bytes


def test_encrypt_is_not_folded_and_not_deterministic():
    expr = dtl.compile_expression(["encrypt", "secret", "same"])
    a, b = expr({}), expr({})
    assert a != b
    assert ev(["decrypt", "secret", "_S.v"], {"v": [a, b, None]}) == ["same", "same", None]


def test_what_cannot_be_decrypted_is_null():
    # the pattern real configurations use to keep plain values: is-not-null on decrypt
    token = ev(["encrypt", "secret", "x"])
    assert ev(["decrypt", "other", "_S.v"], {"v": token}) is None
    assert ev(["decrypt", "secret", 5]) is None
    assert ev(["decrypt", "secret", "plain text"]) is None
    assert ev(["decrypt", "secret", "_S.v"], {"v": [token, "plain"]}) == ["x", None]
    assert ev(["if", ["is-not-null", ["decrypt", "secret", "_S.v"]],
               ["decrypt", "secret", "_S.v"], "_S.v"], {"v": "plain"}) == "plain"


def test_null_stays_null():
    assert ev(["encrypt", "secret", None]) is None
    assert ev(["decrypt", "secret", None]) is None


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 30), 10 ** 30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(0, 253402300799 * 10 ** 9).map(DateTime), st.binary(max_size=20),
    st.text(min_size=1).map(URI), st.text(min_size=1).map(NI), st.uuids(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12)


def _same(a, b):
    if type(a) is float and type(b) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is Decimal and type(b) is Decimal:
        return a == b
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and deep_equal(a, b)


# KEY is a string literal; keep clear of the "_" path and "~" transit prefixes, and of "$"
# ("$SECRET(...)" in a key is a secret reference, resolved at run time)
keys = st.text(st.characters(blacklist_characters="_~$", blacklist_categories=["Cs"]),
               min_size=1, max_size=30)


@settings(max_examples=100)
@given(keys, values.filter(lambda v: v is not None))
def test_fernet_round_trip(key, value):
    got = ev(["decrypt", key, ["encrypt", key, "_S.v"]], {"v": value})
    assert _same(got, value)


# -- encrypt-pki / decrypt-pki (RSA) --------------------------------------------------------------

def test_pki_round_trip_list_and_single():
    src = {"v": ["a", "b", "c"]}
    enc = ev(["encrypt-pki", RSA_PUBLIC, "_S.v"], src)
    assert [type(x) for x in enc] == [bytes, bytes, bytes]
    assert ev(["decrypt-pki", RSA_PRIVATE_PKCS1, "_S.e"], {"e": enc}) == ["a", "b", "c"]
    one = ev(["encrypt-pki", RSA_PUBLIC, "secret-passphrase"])
    assert ev(["decrypt-pki", RSA_PRIVATE_PKCS8, "_S.e"], {"e": one}) == "secret-passphrase"


def test_pki_interoperates_with_plain_rsa_oaep():
    enc = ev(["encrypt-pki", RSA_PUBLIC, "hello"])
    oaep256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                           label=None)
    assert RSA_KEY.decrypt(enc, oaep256) == b"hello"
    oaep1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    legacy = RSA_KEY.public_key().encrypt("hej".encode(), oaep1)
    assert ev(["decrypt-pki", RSA_PRIVATE_PKCS1, "_S.e"], {"e": legacy}) == "hej"


@settings(max_examples=100)
@given(st.lists(st.text(max_size=40), max_size=3) | st.text(max_size=40))
def test_pki_round_trip(value):
    got = ev(["decrypt-pki", RSA_PRIVATE_PKCS8, ["encrypt-pki", RSA_PUBLIC, "_S.v"]],
             {"v": value})
    assert got == value


# -- encrypt-pgp / decrypt-pgp --------------------------------------------------------------------

def test_pgp_doc_examples():
    assert ev(["decrypt-pgp", PGP_PRIVATE, PASSPHRASE,
               ["encrypt-pgp", PGP_PUBLIC, ["list", "data", "data2"]]]) == ["data", "data2"]
    msg = ev(["encrypt-pgp", PGP_PUBLIC, "secret message"])
    assert msg.startswith("-----BEGIN PGP MESSAGE-----")
    assert ev(["decrypt-pgp", PGP_PRIVATE, PASSPHRASE, "_S.m"], {"m": msg}) == "secret message"


def test_pgp_interoperates_with_pgpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msg = str(PGP_KEY.pubkey.encrypt(pgpy.PGPMessage.new("from elsewhere")))
        ours = ev(["encrypt-pgp", PGP_PUBLIC, "from dtl"])
        with PGP_KEY.unlock(PASSPHRASE):
            assert PGP_KEY.decrypt(pgpy.PGPMessage.from_blob(ours)).message == "from dtl"
    assert ev(["decrypt-pgp", PGP_PRIVATE, PASSPHRASE, "_S.m"], {"m": msg}) == "from elsewhere"


def test_pgp_unprotected_key_ignores_passphrase():
    msg = ev(["encrypt-pgp", str(PGP_OPEN_KEY.pubkey), "open"])
    assert ev(["decrypt-pgp", str(PGP_OPEN_KEY), "", "_S.m"], {"m": msg}) == "open"


@settings(max_examples=20)
@given(st.lists(st.text(max_size=200), max_size=3) | st.text(max_size=2000))
def test_pgp_round_trip(value):
    got = ev(["decrypt-pgp", PGP_PRIVATE, PASSPHRASE, ["encrypt-pgp", PGP_PUBLIC, "_S.v"]],
             {"v": value})
    assert got == value


# -- what pki and pgp refuse ----------------------------------------------------------------------

@pytest.mark.parametrize("expr", [
    ["encrypt-pki", "RSA_PEM_public_key", "x"],
    ["decrypt-pki", "RSA_PEM_private_key", "x"],
    ["encrypt-pki", RSA_PUBLIC, 5],
    ["encrypt-pki", RSA_PUBLIC, "x" * 300],  # longer than one RSA block can carry
    ["decrypt-pki", RSA_PRIVATE_PKCS1, "not bytes"],
    ["decrypt-pki", RSA_PRIVATE_PKCS1, "~bYWJj"],
    ["decrypt-pgp", PGP_PRIVATE, "wrong-password", ["encrypt-pgp", PGP_PUBLIC, "x"]],
    ["decrypt-pgp", PGP_PRIVATE, PASSPHRASE, ["encrypt-pgp", str(PGP_OPEN_KEY.pubkey), "x"]],
    ["decrypt-pgp", PGP_PUBLIC, PASSPHRASE, "x"],
    ["decrypt-pgp", PGP_PRIVATE, PASSPHRASE, "not a message"],
    ["encrypt-pgp", "OpenPGP_public_key", "x"],
    ["encrypt-pgp", PGP_PUBLIC, ["list", "x", 1]],
])
def test_pki_and_pgp_errors(expr):
    with pytest.raises(DTLError):
        ev(expr)
