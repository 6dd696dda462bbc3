#!/usr/bin/env python3
"""The load driver of scripts/soak.sh (standard library only).

Threads send a mix of requests to the gateway for a given time and count
every answer by request kind and status. A status outside the kind's
expected set is "unexpected"; while the database is down (the fault
window, read from a file the soak script writes) 503 with Retry-After is
expected too for the requests that need the database.

Kinds:
  login            the demo user's password login                 200
  login_bad        a wrong password for a made-up user            400 (invalid_grant)
  exchange         POST /warehouse-tokens with a user token       201
  read_user        GET /picking-lists, the worker's user token    200
  read_warehouse   GET /picking-lists, the worker's warehouse one 200
  read_first       GET /picking-lists, tokens issued at start     200 (valid across the key rotation)
  refresh          grant_type=refresh_token, the worker's chain   200
  invalid_token    a token with a flipped signature byte          401
  expired_token    a correctly signed token that has expired      401
  garbage_token    "Bearer not-a-jwt"                             401

Output: one JSON document on stdout (counts, unexpected samples).
"""

import base64
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
SECONDS = float(sys.argv[3])
FAULTS = sys.argv[4]  # file: lines "db_down <epoch>", "db_up <epoch>", "key_rotated <epoch>"
KEY = sys.argv[5]  # the private key at start (signs the expired token)
# At most 5: the per-username throttle (5) counts logins in flight, so a
# sixth concurrent login of the demo user would be 429 (by design).
WORKERS = int(os.environ.get("SOAK_WORKERS", "5"))
PAUSE = float(os.environ.get("SOAK_PAUSE", "0.01"))
# After the database is back: how long 503 stays expected (the pool
# reconnects within seconds; /healthz pings are cached for 1 s).
GRACE = float(os.environ.get("SOAK_GRACE", "15"))

USER, PASSWORD = "sonia@spryker.com", "change123"
NEEDS_DB = {"login", "login_bad", "exchange", "read_user", "read_warehouse", "read_first", "refresh"}
EXPECTED = {
    "login": {200},
    "login_bad": {400},
    "exchange": {201},
    "read_user": {200},
    "read_warehouse": {200},
    "read_first": {200},
    "refresh": {200},
    "invalid_token": {401},
    "expired_token": {401},
    "garbage_token": {401},
}
WEIGHTS = {
    "login": 3,
    "login_bad": 2,
    "exchange": 4,
    "read_user": 20,
    "read_warehouse": 20,
    "read_first": 10,
    "refresh": 4,
    "invalid_token": 6,
    "expired_token": 6,
    "garbage_token": 4,
}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expired_token():
    """RS256, Spryker's claims, expired an hour ago, signed with the key."""
    now = time.time()
    header = b64(json.dumps({"typ": "JWT", "alg": "RS256"}, separators=(",", ":")).encode())
    sub = json.dumps({"user_reference": None, "id_user": 4, "uuid": "0d743cc3-a772-5145-971e-d4018ee7a489"})
    claims = {
        "aud": "frontend",
        "jti": os.urandom(40).hex(),
        "iat": int(now) - 7200,
        "nbf": int(now) - 7200,
        "exp": int(now) - 3600,
        "sub": sub,
        "scopes": ["user", "back-office-user"],
    }
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", KEY], input=signing_input, capture_output=True, check=True
    ).stdout
    return f"{header}.{payload}.{b64(sig)}"


class Faults:
    """The database outages, as the soak script logs them (epoch seconds)."""

    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.windows = []  # (down, up or None)
        self.lock = threading.Lock()

    def _load(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self.mtime:
            return
        windows, down = [], None
        with open(self.path) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 2:
                    continue
                if parts[0] == "db_down":
                    down = float(parts[1])
                elif parts[0] == "db_up" and down is not None:
                    windows.append((down, float(parts[1])))
                    down = None
        if down is not None:
            windows.append((down, None))
        self.windows, self.mtime = windows, mtime

    def db_window(self, t):
        """Whether epoch time t is in an outage (1 s before the stop is
        logged, GRACE after the start)."""
        with self.lock:
            self._load()
            return any(down - 1 <= t and (up is None or t <= up + GRACE) for down, up in self.windows)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.unexpected = {}
        self.samples = []
        self.latency_max = {}

    def record(self, kind, status, in_window, elapsed, detail=""):
        with self.lock:
            key = f"{kind} {status}"
            self.counts[key] = self.counts.get(key, 0) + 1
            self.latency_max[kind] = max(self.latency_max.get(kind, 0.0), elapsed)
            ok = status in EXPECTED[kind] or (in_window and kind in NEEDS_DB and status == 503)
            if not ok:
                self.unexpected[key] = self.unexpected.get(key, 0) + 1
                if len(self.samples) < 20:
                    self.samples.append({"kind": kind, "status": status, "detail": detail[:300]})


class Worker(threading.Thread):
    def __init__(self, n, stats, faults, deadline, first, expired):
        super().__init__(daemon=True)
        self.last_try = 0.0
        self.n, self.stats, self.faults, self.deadline = n, stats, faults, deadline
        self.first, self.expired = first, expired
        self.rng = random.Random(n)
        self.conn = None
        self.user = self.warehouse = self.refresh_token = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body) or (0 for a failure, {}, reason)."""
        headers = dict(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                res = self.conn.getresponse()
                data = res.read()
                if res.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return res.status, {k.lower(): v for k, v in res.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # A kept-alive connection closed by the server between two
                # requests: retry once on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    return 0, {}, repr(e).encode()
            except Exception as e:  # timeouts and the like: counted
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                return 0, {}, repr(e).encode()
        return 0, {}, b"unreachable"

    def login(self, password=PASSWORD, username=USER):
        body = f"grant_type=password&username={username}&password={password}"
        return self.request("POST", "/token", body, {"Content-Type": "application/x-www-form-urlencoded"})

    def ensure_tokens(self):
        """Logs in and exchanges when the worker has no tokens (not counted)."""
        if self.user and self.warehouse and self.refresh_token:
            return True
        if time.monotonic() - self.last_try < 1:
            return False
        self.last_try = time.monotonic()
        status, _, data = self.login()
        if status != 200:
            return False
        doc = json.loads(data)
        self.user, self.refresh_token = doc["access_token"], doc["refresh_token"]
        status, _, data = self.request("POST", "/warehouse-tokens", "", {"Authorization": f"Bearer {self.user}"})
        if status != 201:
            return False
        self.warehouse = json.loads(data)[0]["accessToken"]
        return True

    def one(self, kind):
        bearer = lambda t: {"Authorization": f"Bearer {t}", "Accept": "application/vnd.api+json"}
        if kind == "login":
            return self.login()
        if kind == "login_bad":
            return self.login(password="wrong", username=f"soak-{self.n}-{self.rng.getrandbits(48):x}@example.com")
        if kind == "exchange":
            return self.request("POST", "/warehouse-tokens", "", {"Authorization": f"Bearer {self.user}"})
        if kind == "read_user":
            return self.request("GET", "/picking-lists", headers=bearer(self.user))
        if kind == "read_warehouse":
            return self.request("GET", "/picking-lists", headers=bearer(self.warehouse))
        if kind == "read_first":
            token = self.first[self.rng.randrange(len(self.first))]
            return self.request("GET", "/picking-lists", headers=bearer(token))
        if kind == "refresh":
            body = f"grant_type=refresh_token&refresh_token={self.refresh_token}"
            res = self.request("POST", "/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
            if res[0] == 200:
                doc = json.loads(res[2])
                self.user, self.refresh_token = doc["access_token"], doc["refresh_token"]
            else:
                # Unknown whether the old one was used: start a new family.
                self.refresh_token = None
            return res
        if kind == "invalid_token":
            token = self.user
            # Not the last character: it carries padding bits.
            i = len(token) - 2 - self.rng.randrange(40)
            c = "A" if token[i] != "A" else "B"
            return self.request("GET", "/picking-lists", headers=bearer(token[:i] + c + token[i + 1 :]))
        if kind == "expired_token":
            return self.request("GET", "/picking-lists", headers=bearer(self.expired))
        if kind == "garbage_token":
            return self.request("GET", "/picking-lists", headers=bearer("not-a-jwt"))
        raise ValueError(kind)

    def run(self):
        kinds = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in kinds]
        # Without tokens of its own (the database was down when it tried):
        # the kinds that need none.
        tokenless = ["login", "login_bad", "read_first", "expired_token", "garbage_token"]
        while time.monotonic() < self.deadline:
            if self.ensure_tokens():
                kind = self.rng.choices(kinds, weights)[0]
            else:
                kind = self.rng.choice(tokenless)
            t0 = time.time()
            status, headers, data = self.one(kind)
            t1 = time.time()
            elapsed = t1 - t0
            in_window = self.faults.db_window(t0) or self.faults.db_window(t1)
            if status == 503 and "retry-after" not in headers:
                status = "503-no-retry-after"
            self.stats.record(kind, status, in_window, elapsed, data.decode("utf-8", "replace"))
            if PAUSE:
                time.sleep(PAUSE * self.rng.random() * 2)


def main():
    start = time.monotonic()
    faults = Faults(FAULTS)
    stats = Stats()
    # Tokens issued at start, used for the whole run (across the rotation).
    probe = Worker(-1, stats, faults, 0, [], "")
    if not probe.ensure_tokens():
        print(json.dumps({"error": "initial login failed"}))
        return 2
    first = [probe.user, probe.warehouse]
    expired = expired_token()
    deadline = start + SECONDS
    workers = [Worker(n, stats, faults, deadline, first, expired) for n in range(WORKERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    total = sum(stats.counts.values())
    out = {
        "seconds": round(time.monotonic() - start, 1),
        "requests": total,
        "counts": dict(sorted(stats.counts.items())),
        "unexpected": stats.unexpected,
        "unexpected_samples": stats.samples,
        "max_latency_s": {k: round(v, 3) for k, v in sorted(stats.latency_max.items())},
    }
    print(json.dumps(out, indent=1))
    return 1 if stats.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
