"""From alert start to the last of 10,000 Telegram subscribers queued and sent (issue 16).

A real worker follows the log, queues the alert for every chat following the area (set-based),
and its outbox sends each message to a local server answering like the Bot API's sendMessage.
Printed: seconds from the alert's commit to the last delivery queued, and to the last one
received by the server — with the per-channel limits lifted (what this system can do), and, with
`--paced N`, N subscribers at Telegram's published 30 messages/s (what a bot may do).

Run: .venv/bin/python bench/channels.py [--subscribers 10000] [--paced 300] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from shelterwatch import db, migrate
from shelterwatch.alerts import service as alerts
from shelterwatch.areas import service as areas
from shelterwatch.channels import service as channels
from shelterwatch.channels.models import Follow
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.outbox.models import Delivery
from shelterwatch.vocabulary import AlertType
from shelterwatch.worker.runner import Worker

TOKEN = "1:bench"


class Receiver:
    """A keep-alive HTTP server that answers every Bot API call with a sendMessage result."""

    def __init__(self) -> None:
        self.count = 0
        self.last_at = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.count += 1
                    receiver.last_at = time.monotonic()
                    n = receiver.count
                body = json.dumps({"ok": True, "result": {"message_id": n}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def prepare(url: str, subscribers: int) -> None:
    migrate.upgrade(url)
    with db.transaction(url) as session:
        areas.load_bundled(session, now=utcnow())
    now = utcnow()
    rows = [{"channel": "telegram", "address": str(5_000_000_000 + n),
             "address_digest": channels.digest("bench", "telegram", str(5_000_000_000 + n)),
             "subject": "area:31", "language": "uk" if n % 5 else "en", "created_at": now}
            for n in range(subscribers)]
    with db.transaction(url) as session:
        session.execute(insert(Follow), rows)


def run(url: str, subscribers: int, *, paced: bool) -> tuple[float, float]:
    prepare(url, subscribers)
    receiver = Receiver()
    settings = Settings(database_url=url, telegram_api_url=receiver.url,
                        telegram_bot_token=TOKEN, secret_key="bench",
                        notify_channels=("telegram",), worker_tick_s=0.05,
                        follow_interval_s=0.05, outbox_senders=16, outbox_round=400,
                        **({} if paced else {"telegram_rate_per_s": 1e9}))
    worker = Worker(settings).start()
    try:
        with db.transaction(url) as session:
            alerts.start(session, area_id="31", type=AlertType.AIR_RAID, started_at=utcnow(),
                         source="operator", actor="bench", now=utcnow())
        started = time.monotonic()
        queued_at = None
        deadline = started + max(600.0, subscribers / 20)
        while receiver.count < subscribers and time.monotonic() < deadline:
            if queued_at is None:
                with db.reading(url) as session:
                    n = session.execute(select(func.count()).select_from(Delivery).where(
                        Delivery.step == "alert_started")).scalar_one()
                if n >= subscribers:
                    queued_at = time.monotonic()
            time.sleep(0.01)
        if receiver.count < subscribers:
            raise SystemExit(f"only {receiver.count} of {subscribers} arrived")
        return (queued_at or receiver.last_at) - started, receiver.last_at - started
    finally:
        worker.stop()
        receiver.server.shutdown()


def database(tmp: Path, name: str, postgres: str | None) -> str:
    if not postgres:
        return f"sqlite:///{tmp / name}.sqlite3"
    import psycopg

    admin = postgres.replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS bench_{name}")
        conn.execute(f"CREATE DATABASE bench_{name}")
    return admin.rsplit("/", 1)[0] + f"/bench_{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--paced", type=int, default=0,
                        help="also N subscribers at Telegram's published limits")
    parser.add_argument("--postgres", help="a PostgreSQL admin URL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = database(Path(tmp), "channels", args.postgres)
        queued, sent = run(url, args.subscribers, paced=False)
        print(f"{args.subscribers} subscribers, limits lifted: last queued {queued:.2f} s, "
              f"last sent {sent:.2f} s after the alert started ({args.subscribers / sent:,.0f} "
              "messages/s)")
        if args.paced:
            url = database(Path(tmp), "paced", args.postgres)
            queued, sent = run(url, args.paced, paced=True)
            print(f"{args.paced} subscribers at Telegram's 30 messages/s: last queued "
                  f"{queued:.2f} s, last sent {sent:.2f} s ({args.paced / sent:.1f} messages/s); "
                  f"at that limit 10,000 chats need at least {10_000 / 30:.0f} s")


if __name__ == "__main__":
    main()
