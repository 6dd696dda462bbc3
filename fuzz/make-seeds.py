#!/usr/bin/env python3
"""Writes the seed corpora fuzz/seeds/<target>/ from the tests' inputs.

Run from anywhere: python3 fuzz/make-seeds.py. The seeds are committed; the
corpora the fuzzers grow (fuzz/corpus/) are not. Sources: the foreign-signer
and Spryker documentation tokens (shared/fixtures), the token tests' bodies
(crates/glue-auth-token/tests/token.rs, refresh.rs, src/params.rs), the
principal tests' subjects (glue-auth-core) and the Spryker matrix paths
(glue-auth-scope/tests/spryker_matrix.rs).
"""
import base64
import hashlib
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures")
SEEDS = os.path.join(HERE, "seeds")


def write(target, items):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    # Regenerate the seeds, keep the crash inputs the fuzzers found.
    for old in os.listdir(d):
        if not old.startswith("crash-"):
            os.remove(os.path.join(d, old))
    for item in items:
        if isinstance(item, str):
            item = item.encode()
        name = hashlib.sha1(item).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(item)


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


foreign = json.load(open(os.path.join(FIXTURES, "foreign-signer", "tokens.json")))
doc = json.load(open(os.path.join(FIXTURES, "spryker-doc-tokens.json")))
tokens = [c["token"] for c in foreign["cases"]]
doc_tokens = [v["token"] for k, v in doc.items() if isinstance(v, dict)]
# Index characters of the `$` escapes (fuzz/src/lib.rs): 16 PyJWT tokens,
# then 4 of ours.
IDX = "0123456789abcdefghijklmnopqrstuvwxyz"
N = len(tokens) + 4

# --- jwt_verify: whole tokens, and recombined parts -------------------------
jwt = tokens + doc_tokens + [f"$T{IDX[i]}" for i in range(N)]
jwt += ["$H0.$P3.$S0", "$H4.$P0.$S4", "$H0.$P0.", "$H0.$P0", "..", "", "a.b.c"]
# Header parameters jsonwebtoken refuses before the signature (`crit`, a
# `b64` that is not a boolean): the verifier must refuse them as it did.
jwt += [
    base64.urlsafe_b64encode(h.encode()).decode().rstrip("=") + ".eyJzdWIiOiJ4In0.AAAA"
    for h in ('{"alg":"RS256","crit":["exp"]}', '{"alg":"RS256","b64":"no"}')
]
write("jwt_verify", jwt)

# --- subject: subjects and payloads -----------------------------------------
subjects = [
    '{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}',
    '{"user_reference":"DE--7","id_user":7,"uuid":"u-7"}',
    '{"id_warehouse":12}',
    '{"id_warehouse":1}',
    '{}',
    '{"customer_reference":"DE--1","id_customer":1}',
    '{"id_user":"4","uuid":"x"}',
    '{"id_user":4,"uuid":"x","id_warehouse":1}',
    '{"id_warehouse":1.5}',
    '4',
    'null',
]
payloads = [v["payload_json"] for v in doc.values() if isinstance(v, dict)]
for t in tokens:
    try:
        payloads.append(b64decode(t.split(".")[1]).decode())
    except Exception:
        pass
payloads += [
    '{"exp":1700000000,"sub":"{\\"id_warehouse\\":1}"}',
    '{"exp":1700000000,"sub":"{\\"id_warehouse\\":1}","nbf":1699000000.5}',
    '{"exp":1700000000,"sub":"{\\"id_warehouse\\":1}","nbf":null}',
    '{"exp":1700000000,"sub":"{\\"id_warehouse\\":1}","iat":"1699000000"}',
    '{"aud":["a","b"],"exp":1e300,"sub":"{\\"id_warehouse\\":1}"}',
]
write("subject", subjects + payloads)

# --- token_params: the token tests' bodies ----------------------------------
bodies = []
for rel in ["crates/glue-auth-token/tests/token.rs",
            "crates/glue-auth-token/tests/refresh.rs",
            "crates/glue-auth-token/src/params.rs"]:
    src = open(os.path.join(ROOT, rel)).read()
    for m in re.finditer(r'r#"(\{[^#]*?)"#', src):
        if "grant" in m.group(1).lower() or "username" in m.group(1).lower():
            bodies.append(m.group(1).replace("{{", "{").replace("}}", "}"))
    for m in re.finditer(r'"((?:grant_type|grantType|GrantType|username|Username|password)=[^"]*)"', src):
        bodies.append(m.group(1))
bodies += [
    "grant_type=password&username=sonia%40spryker.com&password=change123",
    "grant_type=refresh_token&refresh_token=abc&client_id=frontend",
    "username=%C3%A9&password=100%&scope=%zz",
    b"username=\xff&password=x",
    "",
    "&&=&",
]
write("token_params", sorted(set(b if isinstance(b, bytes) else b.encode() for b in bodies)))

# --- route_table: selector byte, method, path (the Spryker matrix) ----------
ID = "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b"
paths = [
    "/token", "/warehouse-tokens", "/picking-lists", f"/picking-lists/{ID}",
    f"/picking-lists/{ID}/start-picking", f"/picking-lists/{ID}/picking-list-items",
    "/warehouse-user-assignments", f"/warehouse-user-assignments/{ID}",
    "/", "/other", "/picking%2Dlists", "//picking-lists///x/start-picking",
    "/x/../picking-lists", "/picking-lists/%2e%2E", "/warehouse-tokens/?a=b",
    "/authorize",
]
methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]
routes = []
for i, p in enumerate(paths):
    for j, m in enumerate(methods):
        sel = (i + j) % 7
        routes.append(bytes([sel]) + f"{m}\n{p}".encode())
write("route_table", routes)

# --- proxy_path: the normaliser's test paths and the matrix paths ----------
proxy = paths + [
    "/picking-lists/7f2a/", "//%70icking-lists//%2D/", "/%41%42/c", "/%7E%2d%5F%2E1",
    "/WAREHOUSE-TOKENS", "/a:b@c!$&'()*+,=", "/picking-lists%2Fx", "/picking-lists\\x",
    "/picking-lists%5cx", "/warehouse-tokens;x=1", "/warehouse-tokens%3B",
    "/warehouse-tokens%00", "/picking-lists/%2570", "/%C3%A9", "/x%2", "/a b",
    "/a/%2E%2e/token", "/./token", "picking-lists", "",
]
write("proxy_path", [p.split("?")[0].encode() for p in proxy])

# --- authorization_header: header lines with token escapes ------------------
auth = [f"authorization: Bearer $T{IDX[i]}" for i in range(N)]
auth += [f"Bearer {tokens[0]}", f"bearer {tokens[3]}", "Bearer", "fake_token", "",
         "authorization: Basic dXNlcjpwYXNz", "authorization: Bearer $T0\nauthorization: Bearer $T0",
         "authorization: Bearer $H0.$P3.$S0", "authorization: Bearer $T0 extra",
         "authorization:   BEARER\t$T3  ", "x-other: 1"]
write("authorization_header", auth)

# --- bearer_scope_service: method, URI, headers -----------------------------
svc = []
for i, p in enumerate(paths):
    for j, m in enumerate(methods[:5]):
        tok = IDX[(i * 5 + j) % N]
        accept = "accept: application/vnd.api+json\n" if (i + j) % 3 == 0 else ""
        svc.append(f"{m}\n{p}\n{accept}authorization: Bearer $T{tok}")
        if j == 0:
            svc.append(f"{m}\n{p}\n{accept}")
svc += ["POST\n/token\nauthorization: Bearer\ncontent-type: application/x-www-form-urlencoded",
        "GET\nhttp://example.invalid/picking-lists?x=1\nauthorization: Bearer $H0.$P3.$S0",
        "OPTIONS\n*\norigin: https://app.example",
        "POST\n/warehouse-tokens\nauthorization: Bearer $T3\nauthorization: Bearer $T3"]
write("bearer_scope_service", svc)

for t in sorted(os.listdir(SEEDS)):
    print(t, len(os.listdir(os.path.join(SEEDS, t))))
