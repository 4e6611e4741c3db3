"""Encryption functions (dtl-functions-encryption.rst).

* ``encrypt``/``decrypt``: Fernet (AES-128-CBC + HMAC-SHA256) keyed by a password. The whole
  VALUES value is serialised as transit JSON first, so any DTL value round-trips.
* ``encrypt-pki``/``decrypt-pki``: RSA with OAEP padding, one string per bytes value.
* ``encrypt-pgp``/``decrypt-pgp``: ASCII-armoured OpenPGP messages (RFC 4880) via PGPy.

Keys are string literals in DTL, so parsed keys are cached by their text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import warnings

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dtl import transit
from dtl.errors import DTLRuntimeError
from dtl.functions.registry import expression
from dtl.secrets import resolve


def _each_keep_null(values, fn):
    """Apply `fn` to a value or to each element of a list; nulls stay null."""
    if type(values) is list:
        return [None if v is None else fn(v) for v in values]
    return None if values is None else fn(values)


def _key(env, what: str, key) -> str:
    """A key argument as a string; `$SECRET(name)` references are resolved (dtl/secrets.py)."""
    if not isinstance(key, str):
        raise DTLRuntimeError(f"{what} must be a string, not {type(key).__name__}")
    return resolve(env, key)


# -- Fernet --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _fernet(key: str) -> Fernet:
    # Fernet wants 32 random-looking bytes; the password is stretched with SHA-256 so that any
    # text works as KEY and the same KEY always decrypts what it encrypted.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode("utf-8")).digest()))


@expression("encrypt", "KEY(string{1}), VALUES(value-expression{1})", category="encryption",
            pure=False,
            needs_env=True,
            summary="Encrypt VALUES (any value, as one unit) with a password: Fernet bytes.")
def encrypt(env, key, values):
    if values is None:
        return None
    f = _fernet(_key(env, "encrypt: KEY", key))
    return f.encrypt(transit.dumps(values).encode("utf-8"))


@expression("decrypt", "KEY(string{1}), VALUES(value-expression{1})", category="encryption",
            needs_env=True,
            summary="Decrypt what `encrypt` made with the same password (null if it cannot).")
def decrypt(env, key, values):
    f = _fernet(_key(env, "decrypt: KEY", key))

    def one(token):
        # what cannot be decrypted (another key, not a token at all) is null: real
        # configurations test ["is-not-null", ["decrypt", K, v]] to tell tokens from plain
        # values, and keep the plain value otherwise
        if isinstance(token, str):
            token = token.encode("ascii", "replace")
        if not isinstance(token, bytes):
            return None
        try:
            plain = f.decrypt(token)
        except InvalidToken:
            return None
        return transit.loads(plain)
    return _each_keep_null(values, one)


# -- RSA -----------------------------------------------------------------------------------------

_OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                            label=None)
# Accepted when decrypting, for data from tools whose OAEP default is still SHA-1.
_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


@functools.lru_cache(maxsize=64)
def _rsa_public(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, UnsupportedAlgorithm) as e:
        raise DTLRuntimeError(f"encrypt-pki: invalid PEM public key: {e}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise DTLRuntimeError("encrypt-pki: the public key is not an RSA key")
    return key


@functools.lru_cache(maxsize=64)
def _rsa_private(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise DTLRuntimeError(f"decrypt-pki: invalid PEM private key: {e}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DTLRuntimeError("decrypt-pki: the private key is not an RSA key")
    return key


@expression("encrypt-pki", "PUBLIC_KEY(string{1}), VALUES(value-expression{1})",
            category="encryption", pure=False,
            needs_env=True,
            summary="RSA-encrypt each string with a PEM public key: bytes.")
def encrypt_pki(env, public_key, values):
    key = _rsa_public(_key(env, "encrypt-pki: PUBLIC_KEY", public_key))

    def one(v):
        if not isinstance(v, str):
            raise DTLRuntimeError(f"encrypt-pki: expected a string, not {type(v).__name__}; "
                                  "serialise other values first (json, json-transit)")
        try:
            return key.encrypt(v.encode("utf-8"), _OAEP_SHA256)
        except ValueError:
            raise DTLRuntimeError(f"encrypt-pki: the string is too long for a {key.key_size}-bit "
                                  "RSA key; use encrypt-pgp for large data") from None
    return _each_keep_null(values, one)


@expression("decrypt-pki", "PRIVATE_KEY(string{1}), VALUES(value-expression{1})",
            category="encryption",
            needs_env=True,
            summary="Decrypt encrypt-pki bytes with the PEM RSA private key: strings.")
def decrypt_pki(env, private_key, values):
    key = _rsa_private(_key(env, "decrypt-pki: PRIVATE_KEY", private_key))

    def one(v):
        if not isinstance(v, bytes):
            raise DTLRuntimeError(f"decrypt-pki: expected bytes, not {type(v).__name__}")
        for pad in (_OAEP_SHA256, _OAEP_SHA1):
            try:
                plain = key.decrypt(v, pad)
                break
            except ValueError:
                continue
        else:
            raise DTLRuntimeError("decrypt-pki: decryption failed (wrong key or corrupted data)")
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise DTLRuntimeError("decrypt-pki: the decrypted data is not UTF-8 text") from None
    return _each_keep_null(values, one)


# -- OpenPGP -------------------------------------------------------------------------------------

@functools.cache
def _pgpy():
    # Imported on first use: PGPy is slow to import and warns about legacy ciphers it knows.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
    return pgpy


@functools.lru_cache(maxsize=64)
def _pgp_key(blob: str, what: str):
    pgpy = _pgpy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key, _ = pgpy.PGPKey.from_blob(blob)
    except Exception as e:  # PGPy raises assorted types for malformed input
        raise DTLRuntimeError(f"{what}: invalid OpenPGP key: {e}") from None
    return key


@expression("encrypt-pgp", "PUBLIC_KEY(string{1}), VALUES(value-expression{1})",
            category="encryption", pure=False,
            needs_env=True,
            summary="Encrypt each string to an ASCII-armoured OpenPGP message.")
def encrypt_pgp(env, public_key, values):
    pgpy = _pgpy()
    key = _pgp_key(_key(env, "encrypt-pgp: PUBLIC_KEY", public_key), "encrypt-pgp")
    if not key.is_public:
        key = key.pubkey  # a private key can encrypt through its public half

    def one(v):
        if not isinstance(v, str):
            raise DTLRuntimeError(f"encrypt-pgp: expected a string, not {type(v).__name__}; "
                                  "serialise other values first (json, json-transit)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return str(key.encrypt(pgpy.PGPMessage.new(v)))
            except pgpy.errors.PGPError as e:
                raise DTLRuntimeError(f"encrypt-pgp: {e}") from None
    return _each_keep_null(values, one)


@functools.lru_cache(maxsize=16)
def _pgp_unlocked(blob: str, passphrase: str):
    """The private key, unlocked with the passphrase, kept unlocked for later calls.

    Unlocking runs the key's S2K derivation, deliberately slow (about 0.25 s per key packet):
    doing it once per key instead of once per entity is what makes decrypt-pgp usable in a
    pipe. The key is parsed afresh so the shared parsed key in `_pgp_key` stays locked.
    """
    pgpy = _pgpy()
    key = _pgp_key.__wrapped__(blob, "decrypt-pgp")
    if key.is_public:
        raise DTLRuntimeError("decrypt-pgp: PRIVATE_KEY is a public key")
    if not key.is_protected:
        return key, None
    ctx = key.unlock(passphrase)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.__enter__()
    except pgpy.errors.PGPDecryptionError:
        raise DTLRuntimeError("decrypt-pgp: wrong passphrase for the private key") from None
    # the context is never exited while cached: exiting would lock the key again
    return key, ctx


@expression("decrypt-pgp",
            "PRIVATE_KEY(string{1}), PASSPHRASE(string{1}), VALUES(value-expression{1})",
            category="encryption",
            needs_env=True,
            summary="Decrypt ASCII-armoured OpenPGP messages with a private key and passphrase.")
def decrypt_pgp(env, private_key, passphrase, values):
    pgpy = _pgpy()
    key, _ = _pgp_unlocked(_key(env, "decrypt-pgp: PRIVATE_KEY", private_key),
                           _key(env, "decrypt-pgp: PASSPHRASE", passphrase))

    def one(v):
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if not isinstance(v, str):
            raise DTLRuntimeError(f"decrypt-pgp: expected an OpenPGP message string, "
                                  f"not {type(v).__name__}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plain = key.decrypt(pgpy.PGPMessage.from_blob(v)).message
        except (pgpy.errors.PGPError, ValueError, NotImplementedError) as e:
            raise DTLRuntimeError(f"decrypt-pgp: cannot decrypt: {e}") from None
        if isinstance(plain, (bytes, bytearray)):
            plain = bytes(plain).decode("utf-8")
        return plain
    return _each_keep_null(values, one)
