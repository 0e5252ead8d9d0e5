# Decrypts a Pyth-On zero-knowledge payload v1. Reads {"payload": {...}, "master_password": "..."} as
# JSON on stdin, writes the plaintext program to stdout, exits 0; any failure exits 3 with no detail
# (one generic "decryption failed" for a wrong password, a tampered blob or a malformed payload).
# Parameters are fixed by v=1, never read from the payload: Argon2id t=3 m=65536 KiB p=4 -> 32-byte key,
# XChaCha20-Poly1305-IETF with the tag appended to the ciphertext, no associated data.
import base64
import json
import sys
import unicodedata


def _b64(text, length=None, min_length=None):
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    if length is not None and len(raw) != length:
        raise ValueError("wrong length")
    if min_length is not None and len(raw) < min_length:
        raise ValueError("too short")
    return raw


def main():
    from argon2.low_level import Type, hash_secret_raw
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
    job = json.loads(sys.stdin.buffer.read())
    payload = job["payload"]
    if type(payload.get("v")) is not int or payload["v"] != 1:
        raise ValueError("unsupported version")
    salt = _b64(payload["salt"], length=16)
    nonce = _b64(payload["nonce"], length=24)
    ciphertext = _b64(payload["ciphertext"], min_length=16)
    password = unicodedata.normalize("NFC", job["master_password"]).encode("utf-8")
    key = hash_secret_raw(password, salt, time_cost=3, memory_cost=65536, parallelism=4, hash_len=32,
                          type=Type.ID, version=19)
    plaintext = crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, None, nonce, key)
    plaintext.decode("utf-8")
    sys.stdout.buffer.write(plaintext)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        sys.exit(3)
