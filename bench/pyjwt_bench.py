#!/usr/bin/python3
"""pyjwt_bench.py: verify and sign rates of PyJWT (Debian's python3-jwt)
on the tokens and keys bench/jose_export wrote.

Usage: /usr/bin/python3 pyjwt_bench.py DIR SECONDS.  Prints
"ALG VERIFY_PER_S SIGN_PER_S" per algorithm.  Keys are loaded once (as
cryptography key objects), as a server would keep them."""
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key, load_pem_public_key)


def rate(op, seconds):
    op()
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(8):
            op()
        n += 8
        t = time.perf_counter() - start
        if t >= seconds:
            return n / t


def main():
    d, seconds = sys.argv[1], float(sys.argv[2])
    with open(f"{d}/claims.json", encoding="utf-8") as f:
        claims = json.load(f)
    for alg in ("HS256", "RS256", "PS256", "ES256", "EdDSA"):
        with open(f"{d}/{alg}.token", encoding="ascii") as f:
            token = f.read().strip()
        if alg == "HS256":
            with open(f"{d}/HS256.key", "rb") as f:
                skey = vkey = f.read()
        else:
            with open(f"{d}/{alg}.pem", "rb") as f:
                skey = load_pem_private_key(f.read(), password=None)
            with open(f"{d}/{alg}.pub.pem", "rb") as f:
                vkey = load_pem_public_key(f.read())
        headers = {"kid": f"bench-{alg}", "typ": "at+jwt"}

        def verify():
            jwt.decode(token, vkey, algorithms=[alg],
                       issuer="https://auth.example.com",
                       audience="https://api.example.com")

        def sign():
            jwt.encode(claims, skey, algorithm=alg, headers=headers)

        print(f"{alg} {rate(verify, seconds):.0f} {rate(sign, seconds):.0f}",
              flush=True)


if __name__ == "__main__":
    main()
