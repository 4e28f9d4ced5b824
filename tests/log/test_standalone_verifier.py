"""The shipped verifier needs only Python's standard library: its canonical JSON is the log's,
its Ed25519 agrees with `cryptography`, and it checks a live log against a head someone saved."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from shelterwatch import db
from shelterwatch.config import Settings
from shelterwatch.log import chain, standalone_verifier
from tests.log.test_signed_heads import append, sign_head
from tests.support.server import LiveServer

SCRIPT = Path(standalone_verifier.__file__)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_its_canonical_json_is_the_logs(value: Any) -> None:
    assert standalone_verifier.canon(value).encode("utf-8") == chain.canonical_json(value)


@given(st.binary(max_size=64))
def test_its_ed25519_agrees_with_cryptography(message: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key().public_bytes_raw()
    signature = key.sign(message)
    assert standalone_verifier.ed25519_ok(public, message, signature)
    assert not standalone_verifier.ed25519_ok(public, message + b"!", signature)
    bent = bytes([signature[0] ^ 1]) + signature[1:]
    assert not standalone_verifier.ed25519_ok(public, message, bent)


def run(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), *args], capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
def test_it_checks_a_live_log_and_catches_a_cut_tail(
        settings: Settings, live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    url = settings.database_url
    append(url, 6)
    saved = tmp_path / "sth.json"
    saved.write_text(json.dumps(sign_head()))
    append(url, 4)
    sign_head()
    server = live_server()
    served = httpx.get(f"{server.url}/v1/log/verifier.py").text
    assert served == SCRIPT.read_text()
    assert run("--url", server.url, "--against", str(saved)) == (0, "verified\n")

    size = json.loads(saved.read_text())["tree_size"]
    with db.transaction(url) as session:  # cut the tail, rewind everything the database holds
        session.execute(text("DELETE FROM facts WHERE seq > :k"), {"k": size - 2})
        for table in ("merkle_nodes", "merkle_state"):
            session.execute(text(f"DELETE FROM {table}"))
        session.execute(text("DELETE FROM tree_heads WHERE tree_size > :k"), {"k": size - 2})
    code, out = run("--url", server.url, "--against", str(saved))
    assert code == 1
    assert f"log truncated: a head signed {size} facts, the log serves {size - 2}" in out
