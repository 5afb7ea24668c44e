"""`seealso embed`: an archive embedded on Ray Data, into a folder of vector shards (`indexer.shards`).

Ray Data reads the archive's parts in parallel, runs the embedder in a pool of actors (one model
load each; a GPU each when asked, else CPUs) and streams the vectors back to this process, which
writes each part's shard once all its rows are in. Ray schedules, retries and spreads the work;
seealso only says what a part is and what is done.

Without an address it starts a Ray instance on this machine; with one it joins that cluster, whose
nodes must have seealso and the model installed. The model is loaded here once first, which gives
the vectors' identity and makes the OpenVINO export that actors on this machine then read.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seealso.embeddings import DocumentRecipe, Embedder, embed_articles
from seealso.embeddings.document import DEFAULT_RECIPE
from seealso.errors import SeealsoError
from seealso.indexer import files
from seealso.indexer.reader import Record, Rejected
from seealso.indexer.runner import arithmetic_of
from seealso.indexer.shards import Part, VectorsManifest, plan_parts, read_part, shard_name, write_shard

Loader = Callable[[], Embedder]
# What a reader task asks of Ray: reading a part is light beside embedding it.
READER_CPUS = 0.5


@dataclass
class EmbedReport:
    parts: int = 0
    skipped_parts: int = 0  # finished by an earlier run
    embedded: int = 0
    rejected: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dashboard: str | None = None

    def summary(self) -> str:
        rate = self.embedded / self.seconds if self.seconds else 0.0
        return (
            f"embedded {self.embedded} articles in {self.seconds:.1f}s ({rate:.1f}/s), "
            f"{self.parts - self.skipped_parts} parts written, {self.skipped_parts} already done, "
            f"rejected {len(self.rejected)}"
        )


def embed_archive(
    archive: Path,
    out: Path,
    loader: Loader,
    *,
    address: str | None = None,
    workers: int = 1,
    cpus_per_worker: float = 1,
    gpus_per_worker: float = 0,
    recipe: DocumentRecipe = DEFAULT_RECIPE,
    lines_per_part: int | None = None,
    batch_size: int = 64,
    on_reject: Callable[[str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int | None], None] | None = None,
    on_dashboard: Callable[[str], None] | None = None,
    identity: Loader | None = None,
) -> EmbedReport:
    """Embed `archive` into shards under `out`, skipping parts an earlier run finished.

    Args:
        loader: loads the embedder (in this process, then once in each actor); picklable.
        address: a Ray cluster to join ("auto", "ray://host:10001"); None starts one here with
            `workers * cpus_per_worker` CPUs.
        workers: actors running the embedder.
        on_plan: called with the number of lines to embed (None when a part's size is unknown).
        on_progress: called with the number of lines each finished part held.
        on_dashboard: called with the address of Ray's dashboard, when it has one.
        identity: loads the model here, to learn what the vectors will be (default: `loader`;
            a CPU loader when the actors' one needs a GPU this machine may lack).
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise SeealsoError("seealso embed needs Ray: pip install 'seealso[ray]'") from None

    started = time.perf_counter()
    reference = (identity or loader)()
    wanted = VectorsManifest(
        model=reference.name,
        dimension=reference.dimension,
        recipe=recipe.identity,
        arithmetic=arithmetic_of(reference),
        runtime=reference.runtime,
        model_spec=reference.spec.to_json() if reference.spec is not None else None,
    )
    del reference
    files.make_dir(out)
    with _only_run(out):
        manifest = VectorsManifest.load(out) or wanted
        if not manifest.same_vectors(wanted):
            raise SeealsoError(
                f"{out} holds vectors of {manifest.describe()}, not {wanted.describe()}: use another --out"
            )
        parts = plan_parts(archive, **({"lines_per_part": lines_per_part} if lines_per_part else {}))
        keys = {part.key: part for part in parts}
        # A part is done once the manifest lists it (its shard is written first): a shard a killed run
        # wrote but did not list yet is written again.
        todo = {
            key: part
            for key, part in keys.items()
            if key not in manifest.parts or not (out / manifest.parts[key]["file"]).exists()
        }
        report = EmbedReport(parts=len(keys), skipped_parts=len(keys) - len(todo))
        for key, entry in manifest.parts.items():
            if key in keys and key not in todo:
                report.rejected.extend(entry.get("rejected", []))
        if on_plan:
            unknown = any(part.lines is None for part in todo.values())
            on_plan(None if unknown else sum(part.lines or 0 for part in todo.values()))
        if not todo:
            manifest.save(out)
            report.seconds = time.perf_counter() - started
            return report

        with _ray(ray, address, workers * cpus_per_worker) as dashboard:
            free = ray.cluster_resources().get("CPU", 0) - workers * cpus_per_worker
            if free < READER_CPUS:  # Ray would wait for a reader's CPU that actors hold for ever
                raise SeealsoError(
                    f"{workers} actors of {cpus_per_worker:g} CPUs leave no CPU to read the archive with "
                    f"on this Ray cluster ({free + workers * cpus_per_worker:g} CPUs): ask for fewer"
                )
            report.dashboard = dashboard
            if dashboard and on_dashboard:
                on_dashboard(dashboard)
            dataset = (
                ray.data.from_items(
                    [{"key": key, "part": json.dumps(asdict(part))} for key, part in todo.items()],
                    override_num_blocks=len(todo),
                )
                .flat_map(functools.partial(_part_rows, recipe=recipe.identity), num_cpus=READER_CPUS)
                .map_batches(
                    _EmbedActor,
                    fn_constructor_args=(loader, recipe.identity),
                    batch_size=batch_size,
                    batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=workers),
                    num_cpus=cpus_per_worker,
                    num_gpus=gpus_per_worker,
                )
            )
            pending: dict[str, dict[str, list[Any]]] = {}
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                for row in range(len(batch["key"])):
                    key = str(batch["key"][row])
                    rows = pending.setdefault(
                        key, {"id": [], "content_hash": [], "vector": [], "rejected": [], "seen": []}
                    )
                    rows["seen"].append(1)
                    kind = str(batch["kind"][row])
                    if kind == "article":
                        rows["id"].append(str(batch["id"][row]))
                        rows["content_hash"].append(str(batch["content_hash"][row]))
                        rows["vector"].append(batch["vector"][row])
                    elif kind == "rejected":
                        rejected = Rejected(
                            int(batch["line"][row]),
                            str(batch["reason"][row]),
                            str(batch["id"][row]) or None,
                            Path(todo[key].source).name,
                        )
                        message = str(rejected)
                        rows["rejected"].append(message)
                        report.rejected.append(message)
                        if on_reject:
                            on_reject(message)
                    if len(rows["seen"]) == int(batch["part_rows"][row]):
                        _finish(out, manifest, key, todo[key], pending.pop(key), report, on_progress)
            if pending:  # every part's rows come back, or Ray raises: this would be a defect here
                raise SeealsoError(f"{len(pending)} parts came back incomplete; run seealso embed again")
        manifest.save(out)
        report.seconds = time.perf_counter() - started
        return report


@contextlib.contextmanager
def _only_run(out: Path) -> Iterator[None]:
    """Hold `out`'s lock for the run: two runs into one folder would overwrite each other's manifest."""
    path = out / "embed.lock"
    files.create_private(path)
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SeealsoError(f"another seealso embed is writing {out}; wait for it to finish") from None
        yield


def _finish(
    out: Path,
    manifest: VectorsManifest,
    key: str,
    part: Part,
    rows: dict[str, list[Any]],
    report: EmbedReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    write_shard(out, key, rows, manifest.model, manifest.recipe, manifest.dimension)
    manifest.parts[key] = {
        "file": shard_name(key),
        "source": part.source,
        "first_line": part.first_line,
        "rows": len(rows["id"]),
        "rejected": rows["rejected"],
    }
    manifest.save(out)  # after each part: the manifest always lists every finished shard
    report.embedded += len(rows["id"])
    if on_progress:
        on_progress(part.lines if part.lines is not None else len(rows["seen"]))


@contextlib.contextmanager
def _ray(ray: Any, address: str | None, cpus: float) -> Iterator[str | None]:
    """Ray joined or started for the run (left as found when it was already running here)."""
    if ray.is_initialized():
        yield None
        return
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        context = (
            ray.init(address=address, **quiet)
            if address
            # A new instance of its own ("local"), even beside a cluster this machine runs.
            else ray.init(address="local", num_cpus=math.ceil(cpus) + 1, **quiet)  # +1: readers
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if not address:
            raise SeealsoError(f"cannot start a local Ray instance: {exc}") from None
        raise SeealsoError(
            f"cannot join the Ray cluster at {address}: {exc} (is it running? `ray status` says; a "
            "cluster with Ray's token authentication also wants RAY_AUTH_MODE=token and its token)"
        ) from None
    # seealso reports progress itself; Ray Data's execution logs stay in Ray's session folder.
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        yield getattr(context, "dashboard_url", None) or None
    finally:
        ray.shutdown()


def _part_rows(item: dict[str, Any], recipe: str) -> list[dict[str, Any]]:
    """The rows of one part: an article's text to embed, or a rejected line; each row says how many
    rows its part has, so that the writer knows when a part is complete."""
    part = Part(**json.loads(item["part"]))
    rows: list[dict[str, Any]] = []
    for entry in read_part(part):
        row: dict[str, Any] = {"key": item["key"], "line": entry.line, "id": "", "content_hash": ""}
        row.update(title="", summary="", body="", reason="")
        if isinstance(entry, Record):
            article = entry.article
            row.update(kind="article", id=article.id, content_hash=article.text_hash(recipe))
            row.update(title=article.title, summary=article.summary, body=article.body)
        else:
            row.update(kind="rejected", reason=entry.reason, id=entry.article_id or "")
        rows.append(row)
    if not rows:
        empty = {"key": item["key"], "line": 0, "kind": "empty", "id": "", "content_hash": ""}
        rows.append({**empty, "title": "", "summary": "", "body": "", "reason": ""})
    for row in rows:
        row["part_rows"] = len(rows)
    return rows


@dataclass(frozen=True)
class _Text:
    title: str
    summary: str
    body: str


class _EmbedActor:
    """Holds one model for the life of a Ray actor and embeds batches of rows."""

    def __init__(self, loader: Loader, recipe: str) -> None:
        # Actors on one machine share the model cache: one builds or exports it, the others wait.
        lock_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"seealso-embed-model-{os.getuid()}.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.embedder = loader()
        self.recipe = DocumentRecipe.from_identity(recipe) or DEFAULT_RECIPE

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        count = len(batch["key"])
        vectors = np.zeros((count, self.embedder.dimension), dtype=np.float32)
        rows = [row for row in range(count) if batch["kind"][row] == "article"]
        if rows:
            texts = [
                _Text(str(batch["title"][r]), str(batch["summary"][r]), str(batch["body"][r])) for r in rows
            ]
            vectors[rows] = embed_articles(self.embedder, texts, self.recipe)
        keep = ("key", "kind", "line", "id", "content_hash", "reason", "part_rows")
        return {**{name: batch[name] for name in keep}, "vector": vectors}
