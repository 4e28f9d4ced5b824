"""Signed tree heads and proofs: what an investigator holding one saved head can check, and how a
cut tail or a rewritten history shows against it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from pymerkle import InmemoryTree
from pymerkle.proof import InclusionProof
from sqlalchemy import text
from typer.testing import CliRunner

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.cli.main import app
from shelterwatch.clock import utcnow
from shelterwatch.config import get_settings
from shelterwatch.log import chain, merkle
from shelterwatch.log import service as log
from tests.log.test_merkle import ref_mth, ref_proof


def append(url: str, n: int, tag: str = "") -> None:
    with db.transaction(url) as session:
        for i in range(n):
            log.append(session, kind="test.fact", actor="system", now=utcnow(),
                       payload={"name": f"Укриття №{i}{tag}", "lat": 50.4501, "tiny": 1e-7},
                       private={"device": f"d{i}"})


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def sign_head() -> dict[str, object]:
    code, out = cli("log", "head")
    assert code == 0, out
    head: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return head


def fact_hashes(url: str) -> list[bytes]:
    with db.reading(url) as session:
        rows = session.execute(text("SELECT hash FROM facts ORDER BY seq")).scalars().all()
    return [bytes.fromhex(h) for h in rows]


def sql(url: str, statement: str, **params: object) -> None:
    with db.transaction(url) as session:
        session.execute(text(statement), params)


def test_head_is_signed_by_the_served_key_and_proofs_verify_elsewhere(both_url: str) -> None:
    append(both_url, 7)
    first = sign_head()
    append(both_url, 12, tag="b")
    second = sign_head()
    with TestClient(create_app(get_settings())) as client:
        assert client.get("/v1/log/sth").json() == second
        key = client.get("/v1/log/key").json()
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"]))
        for head in (first, second):
            message = merkle.tree_head_message(int(str(head["timestamp"])),
                                               int(str(head["tree_size"])),
                                               bytes.fromhex(str(head["root_hash"])))
            public.verify(base64.b64decode(str(head["signature"])), message)  # raises if bad
        size = int(str(second["tree_size"]))
        hashes = fact_hashes(both_url)
        assert len(hashes) == size
        theirs = InmemoryTree(algorithm="sha256")
        for h in hashes:
            theirs.append_entry(h)
        assert theirs.get_root(size).hex() == second["root_hash"]
        for seq in (1, size // 2, size - 3, size):
            proof = client.get("/v1/log/proof", params={"seq": seq, "size": size}).json()
            leaf = bytes.fromhex(proof["leaf_hash"])
            path = [bytes.fromhex(p) for p in proof["audit_path"]]
            rule = theirs.prove_inclusion(seq, size).rule
            InclusionProof("sha256", True, size, seq, rule, [leaf, *path]).verify(
                leaf, bytes.fromhex(str(second["root_hash"])))
        got = client.get("/v1/log/consistency",
                         params={"first": first["tree_size"], "second": size}).json()
        m = int(str(first["tree_size"]))
        assert got["first_root_hash"] == first["root_hash"] == ref_mth(hashes[:m]).hex()
        assert [bytes.fromhex(p) for p in got["consistency_path"]] == ref_proof(m, hashes)


def test_questions_the_tree_cannot_answer_yet_get_precise_problems(both_url: str) -> None:
    with TestClient(create_app(get_settings())) as client:
        none_yet = client.get("/v1/log/sth")
        assert none_yet.status_code == 404 and "no signed tree head" in none_yet.json()["detail"]
        size = int(str(sign_head()["tree_size"]))
        beyond = client.get("/v1/log/proof", params={"seq": 1, "size": size + 10})
        assert beyond.status_code == 409
        assert beyond.headers["content-type"].startswith("application/problem+json")
        assert f"holds {size} facts" in beyond.json()["detail"]
        outside = client.get("/v1/log/proof", params={"seq": size, "size": size - 1})
        assert outside.status_code == 422
        backwards = client.get("/v1/log/consistency", params={"first": size, "second": 2})
        assert backwards.status_code == 422


def test_cut_tail_and_rewound_head_are_caught_against_a_saved_head(
        both_url: str, tmp_path: Path) -> None:
    append(both_url, 10)
    saved = tmp_path / "sth.json"
    saved.write_text(json.dumps(sign_head()))
    kept = int(json.loads(saved.read_text())["tree_size"]) - 4
    append(both_url, 5)
    sign_head()
    code, out = cli("log", "verify", "--against", str(saved))
    assert code == 0, out

    # Someone deletes the last facts and rewinds the head: the chain alone still looks whole.
    sql(both_url, "DELETE FROM facts WHERE seq > :k", k=kept)
    sql(both_url, "UPDATE log_head SET seq = :k, hash = (SELECT hash FROM facts WHERE seq = :k)",
        k=kept)
    code, out = cli("log", "verify")
    assert code == 1 and "facts were deleted" in out  # the stored tree still remembers

    # ... and the tree and its heads with them: only a head saved elsewhere can tell.
    for table in ("merkle_nodes", "merkle_state", "tree_heads"):
        sql(both_url, f"DELETE FROM {table}")
    code, out = cli("log", "verify")
    assert code == 0, out
    code, out = cli("log", "verify", "--against", str(saved))
    assert code == 1
    assert f"log truncated: the saved head signed {kept + 4} facts, the log holds {kept}" in out

    # Filling the gap with other facts rewrites history, which the saved root shows.
    append(both_url, 9, tag="forged")
    code, out = cli("log", "verify", "--against", str(saved))
    assert code == 1 and "log rewritten" in out


def test_a_forged_saved_head_is_refused(both_url: str, tmp_path: Path) -> None:
    append(both_url, 3)
    head = sign_head()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**head, "tree_size": int(str(head["tree_size"])) - 1}))
    code, out = cli("log", "verify", "--against", str(forged))
    assert code == 1 and "not signed by a key of this log" in out
    broken = tmp_path / "broken.json"
    broken.write_text('{"tree_size": 3}')
    code, out = cli("log", "verify", "--against", str(broken))
    assert code == 1 and "lacks 'timestamp'" in out


def test_facts_are_hashed_as_the_documented_canonical_json(both_url: str) -> None:
    """The `/v1/log` text with Ukrainian names verifies with the standard library alone, and not
    with Python's default json.dumps (which writes \\u escapes)."""
    from shelterwatch.log import standalone_verifier as sv

    append(both_url, 2)
    with TestClient(create_app(get_settings())) as client:
        facts = client.get("/v1/log", params={"limit": 5000}).json()["facts"]
    mine = [f for f in facts if f["kind"] == "test.fact"]
    assert mine and all(sv.fact_hash(f) == f["hash"] for f in facts)
    body = {k: mine[0][k] for k in ("seq", "at", "kind", "actor", "payload", "private_digest")}
    naive = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert chain.fact_hash(mine[0]["prev_hash"], chain.FactBody(**body)) == mine[0]["hash"]
    assert naive != chain.canonical_json(body)


@pytest.mark.parametrize("witness_kind", ["dir", "webhook"])
def test_each_new_head_reaches_the_witnesses(both_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             witness_kind: str) -> None:
    from shelterwatch.log.publisher import Publisher
    from shelterwatch.worker import heads
    from tests.notify.receivers import http_receiver
    from tests.support.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/nobody"  # a witness that is down is skipped
    with http_receiver() as receiver:
        target = f"dir:{tmp_path / 'witness'}" if witness_kind == "dir" else receiver.url + "/sth"
        monkeypatch.setenv("SHELTERWATCH_LOG_WITNESSES", f"{dead},{target}")
        get_settings.cache_clear()
        publisher = Publisher(get_settings())
        append(both_url, 3)
        first = heads.tick(publisher, now=utcnow(), force=True)
        append(both_url, 2)
        second = heads.tick(publisher, now=utcnow(), force=True)
        heads.tick(publisher, now=utcnow(), force=True)  # nothing new: nothing pushed again
        assert first and second and second["tree_size"] == int(str(first["tree_size"])) + 2
        if witness_kind == "dir":
            folder = tmp_path / "witness"
            assert json.loads((folder / "latest.json").read_text()) == second
            kept = sorted(p.name for p in folder.glob("sth-*.json"))
            assert kept == [f"sth-{h['tree_size']:012d}.json" for h in (first, second)]
        else:
            assert [r.json() for r in receiver.requests] == [first, second]
