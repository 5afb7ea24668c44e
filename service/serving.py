"""What answers requests, and switching it to another data dir without dropping one.

A `Served` is one data dir opened for serving: its store, ranker, keyword statistics and change
feed. A request takes the current one once (`seealso.service.deps.served`) and uses it to the end,
so it never mixes two data dirs. When `SEEALSO_DATA_DIR` is a symlink (a `current` link beside
the data dirs it points at), every server process checks where it points every
`switch_check_seconds`; when it points elsewhere, the process opens the new data dir in the
background while the old one answers, swaps the reference in one step, and closes the old one
once the requests that took it are done. Swapping the link back switches back the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from seealso.config import Settings
from seealso.errors import SeealsoError
from seealso.indexer.store import Store, require_data_dir
from seealso.ranking import Keywords, Ranker
from seealso.service.feed import Feed

log = logging.getLogger("seealso.service")

# After this long, a replaced data dir still in use by requests is logged (it closes when they end).
GRACE_SECONDS = 60.0


@dataclass(eq=False)
class Served:
    """One data dir, opened for serving (`path` is where the data dir link pointed)."""

    path: Path
    store: Store
    ranker: Ranker
    keywords: Keywords
    feed: Feed | None = None
    _requests: int = 0
    _retired: bool = False
    _closed: bool = False
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def enter(self) -> None:
        with self._idle:
            self._requests += 1

    def leave(self) -> None:
        with self._idle:
            self._requests -= 1
            self._idle.notify_all()
            last = self._retired and self._requests == 0 and not self._closed
            self._closed = self._closed or last
        if last:  # the last request of a replaced data dir closes it
            self.store.close()

    def retire(self, grace: float = GRACE_SECONDS) -> None:
        """Stop its feed, and close it once the requests that took it are done (at once if none
        did): a request is never left with a closed data dir."""
        if self.feed is not None:
            self.feed.stop()
        with self._idle:
            self._retired = True
            idle = self._requests == 0 and not self._closed
            self._closed = self._closed or idle
            if not idle and not self._idle.wait_for(lambda: self._requests == 0, timeout=grace):
                log.warning("%d requests still use %s, replaced %.0fs ago", self._requests, self.path, grace)
        if idle:
            self.store.close()


def open_served(settings: Settings, path: Path, on_webhook_failure: Callable[[str], None]) -> Served:
    """Open the data dir at `path` as `settings` say: its model, its index, its keyword statistics
    (its feed is made, not started)."""
    store = Store.open(path, create=True, index_kind=settings.index_type)
    try:
        config = settings.following(store.recorded_model(), store.recorded_arithmetic())
        store.check_model(config.model_identity())
        store.index()
        embedder = config.load_embedder()
    except BaseException:
        store.close()
        raise
    ranker = Ranker(store, embedder, rules=settings.list_rules(), cache_size=settings.list_cache_size)
    keywords = Keywords(
        ranker,
        min_similarity=settings.keyword_min_similarity,
        refresh_seconds=settings.keyword_refresh_seconds,
        cache_size=settings.list_cache_size,
    )
    feed = Feed(store, ranker, settings, on_failure=on_webhook_failure) if settings.feed else None
    return Served(path, store, ranker, keywords, feed)


class Serving:
    """The current `Served`, and the watch that switches it when the data dir link moves."""

    def __init__(self, settings: Settings, on_webhook_failure: Callable[[str], None]) -> None:
        self.settings = settings
        self._open = lambda path: open_served(settings, path, on_webhook_failure)
        self.current = self._open(self.target())
        if self.current.feed is not None:
            self.current.feed.start()
        self._taking = threading.Lock()  # a request takes `current` and counts itself in one step
        self._stop = threading.Event()
        self._failed: Path | None = None  # a target that would not open: tried again when it changes
        self._retired: list[threading.Thread] = []
        self._watch: threading.Thread | None = None
        if settings.data_dir.is_symlink() and settings.switch_check_seconds > 0:
            self._watch = threading.Thread(target=self._follow, name="seealso-switch", daemon=True)
            self._watch.start()

    def take(self) -> Served:
        """The current data dir, counted as in use by the caller until it calls `leave()`."""
        with self._taking:
            served = self.current
            served.enter()
        return served

    def target(self) -> Path:
        """Where the data dir setting points now (the link resolved)."""
        return self.settings.data_dir.resolve()

    def switch(self) -> bool:
        """Serve the data dir the link points at now, if it changed; True when it switched."""
        target = self.target()
        if target == self.current.path or target == self._failed:
            return False
        started = time.perf_counter()
        try:
            require_data_dir(target)  # a link to the wrong folder would serve nothing
            new = self._open(target)
        except SeealsoError as exc:  # not a data dir, another model than the settings name...
            log.error("switch to %s refused: %s; still serving %s", target, exc, self.current.path)
            self._failed = target
            return False
        except Exception:
            log.exception("switch to %s failed; still serving %s", target, self.current.path)
            self._failed = target
            return False
        self._failed = None
        with self._taking:  # a request sees one or the other, and the old one counts those that took it
            old, self.current = self.current, new
        log.warning(
            "switched from %s to %s (model %s) in %.1fs",
            old.path, target, new.store.model, time.perf_counter() - started,
        )  # fmt: skip
        retire = threading.Thread(target=old.retire, name="seealso-retire", daemon=True)
        retire.start()
        self._retired.append(retire)
        if new.feed is not None:
            new.feed.start()
        return True

    def _follow(self) -> None:
        while not self._stop.wait(self.settings.switch_check_seconds):
            try:
                self.switch()
            except Exception:  # the watch goes on: the next check may succeed
                log.exception("checking %s failed", self.settings.data_dir)

    def close(self) -> Served:
        """Stop watching and close every data dir but the current one, which is returned (the
        app saves its snapshot, then closes it)."""
        self._stop.set()
        if self._watch is not None:
            self._watch.join()
        for retire in self._retired:
            retire.join()
        if self.current.feed is not None:
            self.current.feed.stop()
        return self.current


class TakeServed:
    """ASGI middleware: each request takes the current `Served` once, as `request.state.served`,
    and holds it open until its response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")
        serving: Serving | None = getattr(app.state, "serving", None) if app is not None else None
        if scope["type"] != "http" or serving is None:
            await self.app(scope, receive, send)
            return
        served = serving.take()
        scope.setdefault("state", {})["served"] = served
        try:
            await self.app(scope, receive, send)
        finally:
            served.leave()
