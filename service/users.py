"""Accounts of the people who run the assistant: hotline agents, policy staff, administrators.

SQLite under var/ (users.db, created 0600). Passwords are argon2id hashes (argon2-cffi); session ids and
bearer tokens are stored only as SHA-256 digests, so a copy of the file opens no session.

CLI (the first admin is created here; there is no default password):
    python -m service.users add NAME --role admin|staff|agent   (asks for the password twice)
    python -m service.users token NAME [--label LABEL]          (prints a bearer token once, for scripts)
    python -m service.users passwd NAME | disable NAME | enable NAME | revoke NAME | list
"""
from __future__ import annotations

import argparse
import getpass
import hashlib
import secrets
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.private_db import PrivateDatabase

ROLES = ("agent", "staff", "admin")  # each role can do everything the roles before it can
MIN_PASSWORD_CHARS = 10
SESSION_IDLE_S = 8 * 3600          # one shift
SESSION_ABSOLUTE_S = 12 * 3600
FREE_FAILURES = 5                  # wrong passwords allowed before the account is delayed
FIRST_DELAY_S = 30                 # then 30 s, 60 s, 120 s … up to MAX_DELAY_S per further failure
MAX_DELAY_S = 15 * 60
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
LEGACY_TOKEN_USER = "staff-token"  # the account STAFF_TOKEN acts as (transitional, see README)

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))  # unknown users cost the same time as known ones

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, password_hash TEXT, role TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), csrf TEXT NOT NULL,
    created_at REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), label TEXT NOT NULL,
    created_at REAL NOT NULL, last_used REAL);
"""


class UserError(ValueError):
    """A refused account operation; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    active: bool = True

    def has_role(self, minimum: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(minimum)


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class LoginResult:
    user: Optional[User] = None
    retry_after: float = 0.0  # > 0: delayed, the password was not even checked


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_username(username: str) -> str:
    username = username.strip().lower()
    if not 2 <= len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise UserError("username: 2-64 characters of a-z, 0-9, '.', '_' or '-'")
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    return password


def failure_delay(failures: int) -> float:
    """Seconds an account waits after `failures` consecutive wrong passwords (0 while under the limit)."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES)))


class UserStore(PrivateDatabase):
    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        super().__init__(path, SCHEMA)  # password hashes: the file is owner-only
        self.clock = clock

    # accounts
    def add(self, username: str, password: Optional[str], role: str) -> User:
        username, role = check_username(username), check_role(role)
        hashed = _HASHER.hash(check_password(password)) if password is not None else None
        try:
            self._query("INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                        (username, hashed, role, self.clock()))
        except sqlite3.IntegrityError:
            raise UserError(f"user {username} exists") from None
        return self.get(username)  # type: ignore[return-value]

    def ensure_service_account(self, username: str, role: str) -> User:
        """An account that cannot log in (no password): what a configured token acts as."""
        return self.get(username) or self.add(username, None, role)

    def get(self, username: str) -> Optional[User]:
        rows = self._query("SELECT id, username, role, active FROM users WHERE username = ?",
                           (username.strip().lower(),))
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [_user(row) for row in self._query("SELECT id, username, role, active FROM users ORDER BY id")]

    def set_password(self, username: str, password: str) -> None:
        self._require(username)
        self._query("UPDATE users SET password_hash = ?, failures = 0, locked_until = 0 WHERE username = ?",
                    (_HASHER.hash(check_password(password)), username))

    def set_role(self, username: str, role: str) -> None:
        self._require(username)
        self._query("UPDATE users SET role = ? WHERE username = ?", (check_role(role), username))

    def set_active(self, username: str, active: bool) -> None:
        user = self._require(username)
        self._query("UPDATE users SET active = ? WHERE id = ?", (int(active), user.id))
        if not active:
            self.end_sessions(user)

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise UserError(f"no user {username}")
        return user

    # passwords
    def login(self, username: str, password: str) -> LoginResult:
        """Checks a password; consecutive failures delay the account (see failure_delay)."""
        rows = self._query("SELECT * FROM users WHERE username = ?", (username.strip().lower(),))
        row = rows[0] if rows else None
        now = self.clock()
        if row is not None and row["locked_until"] > now:
            return LoginResult(retry_after=row["locked_until"] - now)
        if row is None or not row["active"] or not row["password_hash"]:
            _verify(_DUMMY_HASH, password)
            return LoginResult()
        if not _verify(row["password_hash"], password):
            # counted in SQL: concurrent wrong guesses must each count
            failures = self._query("UPDATE users SET failures = failures + 1 WHERE id = ? RETURNING failures",
                                   (row["id"],))[0][0]
            self._query("UPDATE users SET locked_until = ? WHERE id = ?", (now + failure_delay(failures), row["id"]))
            return LoginResult()
        self._query("UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?", (row["id"],))
        if _HASHER.check_needs_rehash(row["password_hash"]):
            self._query("UPDATE users SET password_hash = ? WHERE id = ?", (_HASHER.hash(password), row["id"]))
        return LoginResult(user=_user(row))

    # sessions
    def start_session(self, user: User) -> tuple[str, Session]:
        """A new session id (only its digest is stored) and the session with its CSRF token."""
        session_id, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        self._query("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (digest(session_id), user.id, csrf, now, now))
        self._query("DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                    (now - SESSION_IDLE_S, now - SESSION_ABSOLUTE_S))
        return session_id, Session(user, csrf)

    def session(self, session_id: str) -> Optional[Session]:
        now = self.clock()
        rows = self._query(
            "SELECT s.csrf, s.created_at, s.last_seen, u.id, u.username, u.role, u.active FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.digest = ?", (digest(session_id),))
        if not rows or not rows[0]["active"]:
            return None
        row = rows[0]
        if row["last_seen"] < now - SESSION_IDLE_S or row["created_at"] < now - SESSION_ABSOLUTE_S:
            self.end_session(session_id)
            return None
        self._query("UPDATE sessions SET last_seen = ? WHERE digest = ?", (now, digest(session_id)))
        return Session(_user(row), row["csrf"])

    def end_session(self, session_id: str) -> None:
        self._query("DELETE FROM sessions WHERE digest = ?", (digest(session_id),))

    def end_sessions(self, user: User) -> None:
        self._query("DELETE FROM sessions WHERE user_id = ?", (user.id,))

    # bearer tokens for scripts
    def issue_token(self, username: str, label: str = "script") -> str:
        user = self._require(username)
        token = "pat_" + secrets.token_urlsafe(32)
        self.add_token(user, token, label)
        return token

    def add_token(self, user: User, token: str, label: str) -> None:
        self._query("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?, NULL)",
                    (digest(token), user.id, label[:100], self.clock()))

    def token_user(self, token: str) -> Optional[User]:
        rows = self._query("SELECT u.id, u.username, u.role, u.active FROM tokens t JOIN users u "
                           "ON u.id = t.user_id WHERE t.digest = ?", (digest(token),))
        if not rows or not rows[0]["active"]:
            return None
        self._query("UPDATE tokens SET last_used = ? WHERE digest = ?", (self.clock(), digest(token)))
        return _user(rows[0])

    def revoke_tokens(self, username: str) -> int:
        user = self._require(username)
        with closing(self._connect()) as db, db:
            return db.execute("DELETE FROM tokens WHERE user_id = ?", (user.id,)).rowcount


def _user(row: sqlite3.Row) -> User:
    return User(id=row["id"], username=row["username"], role=row["role"], active=bool(row["active"]))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def default_path() -> Path:
    from service.config import Settings
    return Settings.from_env().users_db


def ask_password() -> str:
    if not sys.stdin.isatty():  # scripted: one line on stdin, never an argument (it would show in ps)
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise UserError("the two passwords differ")
    return first


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.users", description="Manage console accounts")
    parser.add_argument("--db", type=Path, default=None, help="users database (default var/users.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    for name, text in (("passwd", "set a new password"), ("disable", "block logins and end sessions"),
                       ("enable", "allow logins again"), ("revoke", "revoke every bearer token of the user")):
        commands.add_parser(name, help=text).add_argument("username")
    role = commands.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    token = commands.add_parser("token", help="issue a bearer token for scripts (printed once)")
    token.add_argument("username")
    token.add_argument("--label", default="script")
    commands.add_parser("list", help="list users")
    args = parser.parse_args(argv)
    store = UserStore(args.db or default_path())
    try:
        if args.command == "add":
            store.add(args.username, ask_password(), args.role)
            print(f"added {check_username(args.username)} ({args.role})")
        elif args.command == "passwd":
            store.set_password(args.username, ask_password())
            print("password changed")
        elif args.command in ("disable", "enable"):
            store.set_active(args.username, args.command == "enable")
            print(f"{args.username} {args.command}d")
        elif args.command == "revoke":
            print(f"{store.revoke_tokens(args.username)} token(s) revoked")
        elif args.command == "role":
            store.set_role(args.username, args.role)
            print(f"{args.username} is now {args.role}")
        elif args.command == "token":
            print(store.issue_token(args.username, args.label))
        else:
            for user in store.users():
                print(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
