"""The signed session cookie, read and written with less work per request.

Flask's own interface, two differences that keep the cookie byte for byte what Flask writes:

* the signing serializer is built once per secret key (a ``code`` cache: a function of the
  keys only), not twice per request;
* its HMAC-SHA1 is asked for by name, so Python's ``hmac`` uses OpenSSL's implementation;
  given the ``hashlib`` constructor (Flask's default) it falls back to computing the HMAC
  in Python — four times per signed-in request (the key derived and the signature checked on
  reading, both again on writing).
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from app.core.caches import memo


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the serializer kept (see the module doc)."""

    #: The same digest as Flask's (SHA-1), by name (see the module doc).
    digest_method = "sha1"

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        return _serializer(app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()),
                           self.salt, self.key_derivation, self.digest_method)


@memo("sessions.serializer", maxsize=4)
def _serializer(secret_key, fallbacks: tuple, salt: str, key_derivation: str,
                digest_method: str) -> URLSafeTimedSerializer:
    """Flask's serializer for these keys (its newest key signs; the fallbacks still verify)."""
    return URLSafeTimedSerializer(
        [*fallbacks, secret_key], salt=salt,
        serializer=SecureCookieSessionInterface.serializer,
        signer_kwargs={"key_derivation": key_derivation, "digest_method": digest_method})
