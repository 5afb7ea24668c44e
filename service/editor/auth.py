"""Editor sign-in: passwords from settings, sessions kept on the server, and limits on guessing.

- Passwords: settings hold a password or a hash from `seealso hash-password`. Plain ones are hashed
  when the app starts, and an unknown name is checked against a hash of the same cost, so every
  sign-in costs the same PBKDF2 work whether or not the name exists.
- Sessions: the cookie holds a random session id; the session (editor, CSRF token, expiry) is a row
  of `editor.sqlite3` in the data dir, shared by every worker process and keyed by a hash of the id.
  Signing out deletes the row, so the old cookie opens nothing.
- The sign-in form carries a token that must match a cookie set with the form (no signing in from
  another site's form), and failed sign-ins are counted per name and address, per address, and per
  name: beyond a limit, the answer is 429 with Retry-After, before any password is checked. An
  attempt counts as a failure from the moment it is checked, so guesses sent in parallel cannot
  slip past the limit. A browser an editor has signed in from gets a device cookie: from it, only
  that browser's own failures count, so guessers elsewhere cannot lock the editor out.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seealso.config import Settings
from seealso.indexer import files

COOKIE = "seealso_editor"
LOGIN_COOKIE = "seealso_login"
DEVICE_COOKIE = "seealso_device"
DEVICE_SECONDS = 90 * 86400
MAX_NAME_LENGTH = 200  # longer is not a name in settings: refused before anything is stored
SESSIONS_FILE = "editor.sqlite3"
SESSION_SECONDS = 12 * 3600
HASH_PREFIX = "pbkdf2_sha256"
HASH_ITERATIONS = 200_000
# Failed sign-ins allowed within the window: for a name from one address, from one address, and for
# a name from all addresses (so that one guesser does not lock an editor out).
FAILURE_WINDOW = 15 * 60
MAX_FAILURES_PER_NAME_AND_ADDRESS = 10
MAX_FAILURES_PER_ADDRESS = 30
MAX_FAILURES_PER_NAME = 100


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str


class TooManyAttempts(Exception):
    """Too many failed sign-ins; `retry_after` seconds until the next is allowed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} seconds")
        self.retry_after = retry_after


def hash_password(password: str, *, salt: str | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """A hash to put in SEEALSO_EDITOR_USERS instead of the password itself."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"{HASH_PREFIX}${iterations}${salt}${digest}"


def is_hash(value: str) -> bool:
    parts = value.split("$")
    return len(parts) == 4 and parts[0] == HASH_PREFIX and parts[1].isdigit()


def verify(password: str, stored_hash: str) -> bool:
    _, iterations, salt, _ = stored_hash.split("$", 3)
    candidate = hash_password(password, salt=salt, iterations=int(iterations))
    return hmac.compare_digest(candidate.encode(), stored_hash.encode())


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Editors:
    """Who may sign in, and their sessions, over `<data dir>/editor.sqlite3`."""

    def __init__(self, settings: Settings) -> None:
        self._hashes = {
            user: value if is_hash(value) else hash_password(value)
            for user, secret in settings.editor_users.items()
            for value in [secret.get_secret_value()]
        }
        # An unknown name costs what a known one does: the iterations most hashes use.
        iterations = Counter(int(h.split("$")[1]) for h in self._hashes.values()).most_common(1)
        self._unknown = hash_password(
            secrets.token_hex(16), iterations=iterations[0][0] if iterations else HASH_ITERATIONS
        )
        self._lock = threading.Lock()
        path = Path(settings.data_dir) / SESSIONS_FILE
        files.create_private(path)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
            " csrf TEXT NOT NULL, expires_at REAL NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at)")
        self._db.execute("CREATE INDEX IF NOT EXISTS failures_at ON failures (at)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
            " expires_at REAL NOT NULL)"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _sql(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    # -- signing in ---------------------------------------------------------------------------------

    def sign_in(
        self, user: str, password: str, address: str, device: str | None = None
    ) -> tuple[Session, str, str] | None:
        """A new session, its cookie value and the browser's device cookie value, or None for a
        wrong name or password.

        Args:
            device: the device cookie the browser sent: when it is one this editor signed in with,
                only that browser's failures count.

        Raises:
            TooManyAttempts: the name, the address or the device failed too often lately (nothing
                is checked).
        """
        now = time.time()
        known_device = device is not None and self._device_user(device, now) == user
        if known_device:
            limits = {f"device:{_digest(str(device))}": MAX_FAILURES_PER_NAME_AND_ADDRESS}
        else:
            limits = {
                f"pair:{user}\x00{address}": MAX_FAILURES_PER_NAME_AND_ADDRESS,
                f"address:{address}": MAX_FAILURES_PER_ADDRESS,
                f"name:{user}": MAX_FAILURES_PER_NAME,
            }
        attempt = self._count_attempt({_digest(key): limit for key, limit in limits.items()}, now)
        long_name = len(user) > MAX_NAME_LENGTH  # checked after counting: it costs the same
        ok = (
            not long_name and verify(password, self._hashes.get(user, self._unknown)) and user in self._hashes
        )
        if not ok:
            return None  # the attempt stays counted as a failure
        with self._sql() as db:
            mine = [_digest(next(iter(limits)))]
            db.execute(f"DELETE FROM failures WHERE rowid IN ({','.join('?' * len(attempt))})", attempt)
            db.execute("DELETE FROM failures WHERE key = ?", mine)
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            db.execute("DELETE FROM devices WHERE expires_at < ?", (now,))
            session, cookie = Session(user, secrets.token_urlsafe(24)), secrets.token_urlsafe(32)
            db.execute(
                "INSERT INTO sessions (id, user, csrf, expires_at) VALUES (?, ?, ?, ?)",
                (_digest(cookie), user, session.csrf, now + SESSION_SECONDS),
            )
            device = device if known_device else secrets.token_urlsafe(32)
            db.execute(
                "INSERT INTO devices (id, user, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at",
                (_digest(str(device)), user, now + DEVICE_SECONDS),
            )
        return session, cookie, str(device)

    def _device_user(self, device: str, now: float) -> str | None:
        with self._sql() as db:
            row = db.execute(
                "SELECT user FROM devices WHERE id = ? AND expires_at >= ?", (_digest(device), now)
            ).fetchone()
        return None if row is None else str(row[0])

    def _count_attempt(self, limits: dict[str, int], now: float) -> list[int]:
        """Refuse the attempt when a key is at its limit; else count it as a failure of every key
        (in one transaction, which other workers wait for). Returns the rows it added. Keys are
        stored as digests, so that any name costs the same few bytes."""
        with self._sql() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM failures WHERE at < ?", (now - FAILURE_WINDOW,))
                for key, limit in limits.items():
                    rows = db.execute(
                        "SELECT at FROM failures WHERE key = ? AND at >= ? ORDER BY at DESC LIMIT ?",
                        (key, now - FAILURE_WINDOW, limit),
                    ).fetchall()
                    if len(rows) >= limit:  # the oldest of the last `limit` must leave the window
                        raise TooManyAttempts(max(1, int(rows[-1][0] + FAILURE_WINDOW - now) + 1))
                added = [
                    int(db.execute("INSERT INTO failures (key, at) VALUES (?, ?)", (key, now)).lastrowid or 0)
                    for key in limits
                ]
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return added

    # -- sessions -----------------------------------------------------------------------------------

    def session(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None."""
        if not cookie:
            return None
        with self._sql() as db:
            row = db.execute(
                "SELECT user, csrf FROM sessions WHERE id = ? AND expires_at >= ?",
                (_digest(cookie), time.time()),
            ).fetchone()
        if row is None or row[0] not in self._hashes:  # an editor removed from settings is signed out
            return None
        return Session(row[0], row[1])

    def sign_out(self, cookie: str | None) -> None:
        if cookie:
            with self._sql() as db:
                db.execute("DELETE FROM sessions WHERE id = ?", (_digest(cookie),))


def csrf_ok(expected: str | None, token: str | None) -> bool:
    return bool(expected) and bool(token) and hmac.compare_digest(str(expected), str(token))
