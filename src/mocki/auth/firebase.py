"""Verify Firebase ID tokens: RS256 signature against the project's JWKS, then the claims."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from mocki.core.errors import Unauthorized


@dataclass(frozen=True)
class FirebaseIdentity:
    uid: str
    email: str
    name: str


class FirebaseVerifier:
    def __init__(self, project_id: str, jwks_url: str) -> None:
        self.project_id = project_id
        # PyJWKClient caches keys and refetches when it meets an unknown key id.
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=10)

    def verify(self, id_token: str) -> FirebaseIdentity:
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256"],
                audience=self.project_id,
                issuer=f"https://securetoken.google.com/{self.project_id}",
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise Unauthorized(
                "Could not reach the Firebase key server.", code="firebase_unavailable"
            ) from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Firebase ID token rejected: {exc}", code="firebase_token_invalid") from exc
        email = claims.get("email")
        if not email:
            raise Unauthorized("Firebase account has no email address.", code="firebase_token_invalid")
        if claims.get("email_verified") is False:
            raise Unauthorized("Verify your email address with Firebase first.", code="email_unverified")
        return FirebaseIdentity(
            uid=str(claims["sub"]), email=str(email).lower(), name=str(claims.get("name", ""))
        )
