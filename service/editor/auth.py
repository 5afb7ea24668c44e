"""Editor sign-in: passwords from settings, a signed session cookie, and a CSRF token per session.

The cookie holds the editor's name and a random CSRF token, signed (itsdangerous) with the
settings' secret key or a random key kept in the data dir (so every worker shares it). Every form
that changes something carries the token and is refused without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from seealso.config import Settings

COOKIE = "seealso_editor"
SESSION_SECONDS = 12 * 3600
HASH_PREFIX = "pbkdf2_sha256"
HASH_ITERATIONS = 200_000


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str


def hash_password(password: str, *, salt: str | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """A hash to put in SEEALSO_EDITOR_USERS instead of the password itself."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"{HASH_PREFIX}${iterations}${salt}${digest}"


def check_password(settings: Settings, user: str, password: str) -> bool:
    stored = settings.editor_users.get(user)
    if stored is None:
        hash_password(password, salt="x", iterations=1000)  # about the same work for unknown names
        return False
    expected = stored.get_secret_value()
    if expected.startswith(HASH_PREFIX + "$"):
        _, iterations, salt, _ = expected.split("$", 3)
        return hmac.compare_digest(hash_password(password, salt=salt, iterations=int(iterations)), expected)
    return hmac.compare_digest(password.encode(), expected.encode())


class Sessions:
    def __init__(self, settings: Settings) -> None:
        key = (
            settings.secret_key.get_secret_value()
            if settings.secret_key
            else _data_dir_key(settings.data_dir)
        )
        self._signer = URLSafeTimedSerializer(key, salt="seealso-editor-session")

    def start(self, user: str) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(user, secrets.token_urlsafe(24))
        return session, self._signer.dumps({"user": session.user, "csrf": session.csrf})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("user"), str):
            return None
        return Session(data["user"], str(data.get("csrf", "")))


def csrf_ok(session: Session | None, token: str | None) -> bool:
    return session is not None and bool(token) and hmac.compare_digest(session.csrf, token or "")


def _data_dir_key(data_dir: Path) -> str:
    path = data_dir / "editor-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    for _ in range(100):  # another worker may be between creating the file and writing it
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it or set SEEALSO_SECRET_KEY")
