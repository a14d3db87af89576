"""Local staff tokens: a key pair generated on first use, its JWKS, and a command to mint tokens.

In AWS, Cognito signs staff tokens and publishes its JWKS; locally this module plays that
part so the app verifies tokens with the very same code (``chalicelib/adapters/tokens.py``).

    python -m devtools.tokens --tenant theatre-lyon --roles staff,admin --subject alice
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from devtools.engines import LOCAL

DEV_ISSUER = "https://ticketing.local/dev"
KEY_ID = "local-1"


class LocalSigner:
    """Signs RS256 staff tokens with a key pair kept in ``key_dir``."""

    def __init__(self, key_dir: Path, issuer: str = DEV_ISSUER) -> None:
        self.key_dir = key_dir
        self.issuer = issuer
        self._private_key = self._load_or_create()

    @property
    def jwks_path(self) -> Path:
        return self.key_dir / "jwks.json"

    def _load_or_create(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        pem_path = self.key_dir / "signing-key.pem"
        if pem_path.exists():
            return serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        self.key_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        pem_path.chmod(0o600)
        public_jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        public_jwk.update(kid=KEY_ID, use="sig", alg="RS256")
        self.jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
        return key

    def mint(self, tenant_id: str, roles: list[str], subject: str = "dev-staff", *,
             ttl_seconds: int = 12 * 3600, **extra_claims) -> str:
        import jwt

        issued = int(time.time())
        claims = {"sub": subject, "iss": self.issuer, "iat": issued, "exp": issued + ttl_seconds,
                  "tenant_id": tenant_id, "roles": roles, **extra_claims}
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": KEY_ID})


def dev_signer() -> LocalSigner:
    return LocalSigner(LOCAL / "keys")


def main() -> None:
    parser = argparse.ArgumentParser(description="Mint a local staff token")
    parser.add_argument("--tenant", default="theatre-lyon")
    parser.add_argument("--roles", default="staff,admin")
    parser.add_argument("--subject", default="dev-staff")
    parser.add_argument("--hours", type=int, default=12)
    args = parser.parse_args()
    print(dev_signer().mint(args.tenant, args.roles.split(","), args.subject, ttl_seconds=args.hours * 3600))


if __name__ == "__main__":
    main()
