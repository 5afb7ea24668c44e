"""The change feed in the server: a thread that keeps the pages current (seealso.ranking.pages)
and delivers them to webhooks, in the one process that holds the data dir's tracker lock.

Webhooks (`SEEALSO_WEBHOOKS`) get a POST per batch of changed pages, in order, at least once:

    POST <url>
    Content-Type: application/json
    X-Seealso-Timestamp: <unix seconds>
    X-Seealso-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret>
    {"since": 41, "seq": 57, "pages": [{"kind", "id", "url", "tag", ...}, ...]}

A delivery that does not get a 2xx within TIMEOUT seconds is sent again after a backoff (1 s, 2 s,
4 s, ... up to a minute); each webhook's cursor is kept in the catalog, so a restart resumes where
delivery stopped. A new webhook starts at the feed's end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace

from seealso.config import Settings, Webhook
from seealso.indexer.dates import now as utc_now
from seealso.indexer.pages import WebhookCursor
from seealso.indexer.store import Store
from seealso.ranking import Keywords, Ranker
from seealso.ranking.pages import PageTracker, TrackerLock, feed_entry

log = logging.getLogger("seealso.service")

TIMEOUT = 10.0


class _Refuse(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError for the 3xx


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)
BATCH = 500
MAX_BACKOFF = 60.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Seealso-Signature of a delivery."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Feed:
    """Runs the page tracker every `interval` seconds (and sweeps a few pages when idle), and one
    delivery loop a webhook, while this process holds the tracker lock; another process's server
    or batch run may hold it instead, and this one takes over when it is released."""

    def __init__(
        self,
        store: Store,
        ranker: Ranker,
        settings: Settings,
        on_failure: Callable[[str], None] = lambda url: None,
    ) -> None:
        self.store = store
        self.settings = settings
        # Its own keyword statistics, rebuilt whenever the catalog changed: a page is compared as it is now.
        keywords = Keywords(ranker, min_similarity=settings.keyword_min_similarity, refresh_seconds=0)
        self.tracker = PageTracker(ranker, keywords)
        self.lock = TrackerLock(store.data_dir)
        self.on_failure = on_failure
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._wake = threading.Condition()
        self.holding = False

    def start(self) -> None:
        self.store.catalog.forget_webhooks([str(hook.url) for hook in self.settings.webhooks])
        self._threads = [threading.Thread(target=self._track, name="seealso-feed", daemon=True)]
        self._threads += [
            threading.Thread(target=self._deliver, args=(hook,), name="seealso-webhook", daemon=True)
            for hook in self.settings.webhooks
        ]
        for thread in self._threads:
            thread.start()

    def label(self, hook: Webhook) -> str:
        """How metrics and logs name a webhook: its place and host (its URL may hold a token)."""
        return f"{self.settings.webhooks.index(hook)}:{hook.url.host}"

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT + 5)
        self.lock.release()

    def _track(self) -> None:
        interval = self.settings.feed_interval
        while not self._stop.is_set():
            try:
                self.holding = self.lock.acquire()
                if self.holding:
                    report = self.tracker.update()
                    changed = report.changed if report is not None else 0
                    if report is None and self.settings.feed_sweep:  # idle: look for drift
                        changed = self.tracker.sweep(self.settings.feed_sweep)
                    if changed:
                        with self._wake:
                            self._wake.notify_all()
            except Exception:  # the feed must outlive one bad update; the next one retries
                log.exception("the change feed could not update its pages")
            self._stop.wait(interval)

    def _deliver(self, hook: Webhook) -> None:
        catalog = self.store.catalog
        url, secret = str(hook.url), hook.secret.get_secret_value()
        failures = 0
        pending: tuple[int, bytes] | None = None  # a batch that failed: sent again as it was
        while not self._stop.is_set():
            if not self.holding:
                self._stop.wait(self.settings.feed_interval)
                continue
            cursor = catalog.webhook_cursors().get(url)
            if cursor is None:  # a new webhook starts at the feed's end
                cursor = WebhookCursor(url, catalog.page_bounds()[1], 0, None, None, None)
                catalog.set_webhook_cursor(cursor)
            if pending is None:
                changes = catalog.page_changes(cursor.seq, BATCH)
                if not changes:
                    with self._wake:
                        self._wake.wait(self.settings.feed_interval)
                    continue
                pages = [feed_entry(c.kind, c.key, c.url, c.gone, c.seq) for c in changes]
                body = json.dumps({"since": cursor.seq, "seq": changes[-1].seq, "pages": pages}).encode()
                pending = changes[-1].seq, body
            upto, body = pending
            stamp = str(int(time.time()))
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "seealso-webhook",
                    "X-Seealso-Timestamp": stamp,
                    "X-Seealso-Signature": sign(secret, stamp, body),
                },
            )
            error = None
            try:
                with _NO_REDIRECTS.open(request, timeout=TIMEOUT) as response:
                    if not 200 <= response.status < 300:
                        error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:  # 3xx too: a redirected POST would arrive as a GET
                error = f"HTTP {exc.code}"
            except (OSError, ValueError) as exc:
                error = str(getattr(exc, "reason", exc))
            now = utc_now()
            if error is None:
                failures, pending = 0, None
                catalog.set_webhook_cursor(
                    replace(cursor, seq=upto, failures=0, last_attempt=now, delivered_at=now)
                )
                continue
            failures += 1
            self.on_failure(self.label(hook))
            log.warning("webhook %s failed (%s); retrying", self.label(hook), error)
            catalog.set_webhook_cursor(
                replace(cursor, failures=cursor.failures + 1, last_error=error, last_attempt=now)
            )
            self._stop.wait(min(MAX_BACKOFF, 2.0 ** (failures - 1)))
