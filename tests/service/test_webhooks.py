"""Webhooks to a real local receiver: signed, in order, retried after a failure, resumed after a
server restart (including what a batch run changed while no server ran)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.service.test_app import NEUTRAL_RULES, SEEALSO, data_dir, free_port, serving  # noqa: F401

SECRET = "webhook-secret-0123456789abcdef"
TOKEN = "webhook-test-token-0123456789"


class Receiver:
    """A webhook endpoint that redirects its first `failures` deliveries elsewhere (a misconfigured
    URL: not a delivery), then answers 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[int, dict[str, str], bytes]] = []  # (status answered, headers, body)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = 302 if receiver.failures > 0 else 204
                    receiver.failures -= 1
                    receiver.received.append((status, dict(self.headers), body))
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/moved")
                self.end_headers()

            def do_GET(self) -> None:
                with receiver.lock:
                    receiver.received.append((-1, dict(self.headers), b"GET " + self.path.encode()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict[str, object]]:
        with self.lock:
            return [json.loads(body) for status, _, body in self.received if status == 204]

    def wait_for(self, condition: object, within: float = 20.0) -> list[dict[str, object]]:
        deadline = time.monotonic() + within
        while not condition(self.delivered()):  # type: ignore[operator]
            assert time.monotonic() < deadline, self.received
            time.sleep(0.1)
        return self.delivered()


def pages_of(deliveries: list[dict[str, object]]) -> set[tuple[str, str, bool]]:
    return {(p["kind"], p["id"], bool(p.get("gone"))) for d in deliveries for p in d["pages"]}  # type: ignore[attr-defined, index]


def put(base: str, article: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{base}/v1/articles/{article['id']}",
        data=json.dumps(article).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def test_webhooks_are_signed_ordered_retried_and_resumed(data_dir: Path) -> None:  # noqa: F811
    receiver = Receiver(failures=1)
    env = {
        **os.environ,
        "SEEALSO_PORT": str(free_port()),
        "SEEALSO_DATA_DIR": str(data_dir),
        "SEEALSO_MODEL": "test/hashing",
        "SEEALSO_API_TOKEN": TOKEN,
        "SEEALSO_FEED_INTERVAL": "0.1",
        "SEEALSO_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": SECRET}]),
        **NEUTRAL_RULES,
    }
    story = {"id": "mali-9", "title": "Bamako junta extends the transition", "body": "Mali junta Bamako coup"}
    with serving(env) as base:
        put(base, story)
        delivered = receiver.wait_for(lambda d: ("related", "mali-9", False) in pages_of(d))
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'seealso_webhook_failures_total{url="0:127.0.0.1"} 1.0' in metrics
    # The first delivery was redirected: a failure (not followed as a GET), sent again, the same
    # batch; every delivery is signed.
    statuses = [status for status, _, _ in receiver.received]
    assert statuses[:2] == [302, 204] and -1 not in statuses
    assert receiver.received[0][2] == receiver.received[1][2]
    for _, headers, body in receiver.received:
        stamp = headers["X-Seealso-Timestamp"]
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["X-Seealso-Signature"] == f"sha256={expected}"
    # In order: each batch starts where the one before ended.
    assert delivered[0]["since"] == 0
    for before, after in itertools.pairwise(delivered):
        assert after["since"] == before["seq"]
    last = delivered[-1]["seq"]

    # A batch run while no server runs: it keeps the pages itself; the restarted server delivers them.
    subprocess.run([*SEEALSO, "delete", "mali-9"], env=env, check=True, capture_output=True)
    with serving(env):
        resumed = receiver.wait_for(lambda d: ("related", "mali-9", True) in pages_of(d))
    later = resumed[len(delivered) :]
    assert later[0]["since"] == last  # resumed at its cursor: nothing delivered twice, nothing lost
    assert ("related", "mali-9", True) in pages_of(later)
    stats = subprocess.run([*SEEALSO, "stats", "--json"], env=env, check=True, capture_output=True, text=True)
    assert json.loads(stats.stdout)["webhooks"] == {receiver.url: f"delivered to {later[-1]['seq']}"}
    receiver.server.shutdown()
