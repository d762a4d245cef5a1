"""Who may open the Feedback page: the password, its strength, throttled guesses, and a sign-in
bound to the browser that made it.

- A weak FEEDBACK_ADMIN_PASSWORD (under MIN_PASSWORD_CHARS, or blank around the edges) keeps the
  page locked and says why.
- Wrong guesses are counted per session and per client address (the last X-Forwarded-For entry,
  the one Heroku's router adds; else the connection's own). After FREE_TRIES, each further wrong
  guess locks that session and address out for twice as long as the last, up to MAX_LOCK_S. A
  failure is logged with the address and count, never the guess.
- A sign-in holds a keyed digest of what the browser sends with every connection (its XSRF cookie,
  user agent and address). Each run checks it: a client that knows the session id but lacks the
  cookie (Streamlit resumes sessions by id) is signed out. It also ends after IDLE_S without a page
  run and after MAX_AGE_S in all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

MIN_PASSWORD_CHARS = 12
FREE_TRIES = 3
MAX_LOCK_S = 300
IDLE_S = 30 * 60
MAX_AGE_S = 8 * 60 * 60
_KEY = secrets.token_bytes(32)  # per process: a restart signs everyone out


def weakness(password: str) -> str | None:
    """Why the configured password is too weak to open the page, or None."""
    if password != password.strip():
        return "it begins or ends with a space"
    if len(password) < MIN_PASSWORD_CHARS:
        return f"it has fewer than {MIN_PASSWORD_CHARS} characters"
    if len(set(password)) < 5:
        return "it repeats too few different characters"
    return None


def client_address(headers, connection_address: str | None) -> str:
    """The visitor's address: the last X-Forwarded-For entry (added by Heroku's router; earlier
    entries come from the client and prove nothing), else the connection's."""
    # Streamlit's st.context.headers has get_all, Starlette's request.headers getlist.
    read_all = getattr(headers, "get_all", None) or getattr(headers, "getlist", None)
    values = read_all("X-Forwarded-For") if read_all else []
    forwarded = [part.strip() for value in values if isinstance(value, str) for part in value.split(",")
                 if part.strip()] if isinstance(values, list) else []
    return forwarded[-1] if forwarded else (_text(connection_address) or "unknown")


def _text(value) -> str:
    """A header or cookie value, or "" where there is none (AppTest gives stand-ins)."""
    return value if isinstance(value, str) else ""


class Throttle:
    """Wrong guesses per key (a session id, an address), and when each key may guess again."""

    def __init__(self):
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """Seconds until every key may guess again (0: now)."""
        now = time.monotonic()
        with self._lock:
            return max([self._locked_until.get(k, 0) - now for k in keys] + [0])

    def failed(self, *keys: str) -> int:
        """Count a wrong guess for each key; returns the most failures any key has."""
        now, most = time.monotonic(), 0
        with self._lock:
            for key in keys:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                if failures >= FREE_TRIES:
                    self._locked_until[key] = now + min(2 ** (failures - FREE_TRIES), MAX_LOCK_S)
                most = max(most, failures)
        return most

    def succeeded(self, *keys: str):
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
                self._locked_until.pop(key, None)


THROTTLE = Throttle()


def fingerprint(cookie: str | None, user_agent: str | None, address: str) -> str:
    """A keyed digest of what this browser sends on every connection."""
    return hmac.new(_KEY, "\x00".join([_text(cookie), _text(user_agent), address]).encode(), hashlib.sha256).hexdigest()


@dataclass
class SignIn:
    fingerprint: str
    started: float
    last_seen: float

    @classmethod
    def now(cls, fingerprint: str) -> SignIn:
        now = time.monotonic()
        return cls(fingerprint, now, now)

    def why_ended(self, fingerprint: str) -> str | None:
        """Why this sign-in no longer holds for a run with this fingerprint, or None (then it is renewed)."""
        now = time.monotonic()
        if not hmac.compare_digest(self.fingerprint, fingerprint):
            return "this connection is not the one that signed in"
        if now - self.last_seen > IDLE_S:
            return f"nothing happened for {IDLE_S // 60} minutes"
        if now - self.started > MAX_AGE_S:
            return f"it is {MAX_AGE_S // 3600} hours old"
        self.last_seen = now
        return None
