"""`seealso rebuild` and `seealso compare`: a second data dir of another model beside the live one,
with the editors' work carried over and caught up, and what changes between their lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seealso.cli import app
from seealso.demo import ARTICLES
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer import transfer
from seealso.indexer.overrides import Override
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store

LINES = ARTICLES.read_text(encoding="utf-8").splitlines()


def work(store: Store) -> list[dict[str, Any]]:
    """The editors' work in a data dir, without who did it when (a rebuild logs its own writes)."""
    return [{k: v for k, v in line.items() if k not in ("at", "author", "created_at")}
            for line in transfer.export(store.catalog)]  # fmt: skip


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """The demo indexed with one model, and some of every kind of editors' work."""
    path = tmp_path / "demo.jsonl"
    path.write_text("\n".join(LINES) + "\n")
    store = Store.open(tmp_path / "live", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(path)))
    catalog = store.catalog
    catalog.set_override(Override("article", "mali-coup-01-en", "sahel-gold-01-en", "pin", position=1), "ed")
    catalog.set_override(Override("site", "*", "hotel-siege-01-en", "block"), "ed")
    catalog.set_override(Override("keyword", "bamako", "mali-coup-02-fr", "pin", position=2), "ed")
    catalog.edit_keyword("mali-coup-01-en", "Junta", "add", "ed")
    catalog.edit_keyword("mali-coup-02-fr", "Mali", "reject", "ed")
    catalog.confirm_alias("ecowas", "cedeao", "ed")
    group = catalog.canonical_key("cedeao")  # a pin on a keyword page of an alias group
    catalog.set_override(Override("keyword", group, "ecowas-summit-01-en", "pin", position=1), "ed")
    catalog.reject_alias("mali", "bamako", "ed")
    store.close()
    return tmp_path / "live"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SEEALSO_MODEL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_rebuild_makes_a_data_dir_of_another_model_with_the_editors_work(
    cli, live: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new"
    result = cli("rebuild", "--data-dir", str(live), "--model", "test/hashing-128", "--into", str(new), "-q")
    assert result.exit_code == 0, result.output
    assert "added 134, updated 0, unchanged 0, deleted 0" in result.stderr
    old_store, new_store = Store.open(live), Store.open(new)
    assert (old_store.model, new_store.model) == ("test/hashing-64", "test/hashing-128")
    assert new_store.catalog.count() == 134
    assert work(new_store) == work(old_store) and len(work(old_store)) == 8
    # What the site sent is carried, not what editors made of it: their fixes are carried as fixes.
    assert new_store.catalog.given_keywords("mali-coup-01-en") == old_store.catalog.given_keywords(
        "mali-coup-01-en"
    )
    assert (
        new_store.catalog.get("mali-coup-01-en").article.keywords
        == old_store.catalog.get("mali-coup-01-en").article.keywords
    )  # type: ignore[union-attr]
    old_store.close()
    new_store.close()
    # A site following the live feed gets a 410 (resync) from the new one, never another feed's pages.
    live_last = Store.open(live).catalog.page_bounds()[1]
    assert Store.open(new).catalog.page_bounds() == (live_last + 1, live_last + 1)
    again = cli("rebuild", "--data-dir", str(live), "--into", str(new), "-q")
    assert "added 0, updated 0, unchanged 134, deleted 0" in again.stderr
    assert "editors' work carried over: nothing new" in again.stderr


def test_rebuild_again_catches_up_with_what_changed_on_the_live_data_dir(
    cli, live: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new"
    assert (
        cli("rebuild", "-d", str(live), "--model", "test/hashing-128", "--into", str(new), "-q").exit_code
        == 0
    )
    store = Store.open(live)
    changed = json.loads(LINES[5])
    changed["body"] += " A paragraph added after the rebuild."
    path = tmp_path / "changed.jsonl"
    path.write_text(json.dumps(changed) + "\n")
    index_articles(store, HashingEmbedder(64), read_articles(str(path)))
    gone = json.loads(LINES[9])["id"]
    store.catalog.write(deletes=[gone], author="site")
    store.catalog.remove_override("article", "mali-coup-01-en", "sahel-gold-01-en", "ed")
    store.catalog.edit_keyword("mali-coup-01-en", "Junta", None, "ed")
    store.catalog.edit_keyword("sahel-gold-01-en", "Tuareg", "add", "ed")
    store.catalog.separate_alias("cedeao", "ed")
    store.catalog.unreject_alias("mali", "bamako", "ed")
    store.close()

    again = cli("rebuild", "-d", str(live), "--into", str(new), "-q")  # the new dir's model goes on
    assert again.exit_code == 0, again.output
    assert "added 0, updated 1, unchanged 132, deleted 1" in again.stderr
    assert "(1 embedded)" in again.stderr
    old_store, new_store = Store.open(live), Store.open(new)
    assert new_store.model == "test/hashing-128"
    assert work(new_store) == work(old_store)
    assert new_store.catalog.get(gone) is None and new_store.catalog.count() == 133
    assert not new_store.catalog.alias_groups() and not new_store.catalog.rejected_aliases()
    old_store.close()
    new_store.close()


def test_rebuild_refuses_what_is_no_live_data_dir(cli, live: Path, tmp_path: Path) -> None:
    missing = cli("rebuild", "-d", str(tmp_path / "nothing"), "--into", str(tmp_path / "new"))
    assert missing.exit_code == 1 and "is not a data dir" in missing.stderr
    same = cli("rebuild", "-d", str(live), "--into", str(live))
    assert same.exit_code == 1 and "another data dir than the live one" in same.stderr
    assert not (tmp_path / "new").exists()
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.jsonl").write_text("{}\n")
    other = cli("rebuild", "-d", str(live), "--into", str(tmp_path / "articles"))
    assert other.exit_code == 1 and "holds other files" in other.stderr
    assert sorted(p.name for p in (tmp_path / "articles").iterdir()) == ["a.jsonl"]
    (tmp_path / "afile").write_text("")
    unmakeable = cli("rebuild", "-d", str(live), "--into", str(tmp_path / "afile" / "new"))
    assert unmakeable.exit_code == 1
    assert unmakeable.stderr.strip() == f"seealso: error: Not a directory: {tmp_path / 'afile' / 'new'}"
    inside = cli("publish", "-d", str(live), "--into", str(live / "copy"))
    assert inside.exit_code == 1 and "outside the data dir" in inside.stderr


def test_compare_reports_the_overlap_of_the_lists_and_the_pages_that_change_most(
    cli, live: Path, tmp_path: Path
) -> None:
    from seealso.ranking import Ranker

    same, other = tmp_path / "same", tmp_path / "other"
    assert (
        cli("rebuild", "-d", str(live), "--model", "test/hashing-64", "--into", str(same), "-q").exit_code
        == 0
    )
    assert (
        cli("rebuild", "-d", str(live), "--model", "test/hashing-128", "--into", str(other), "-q").exit_code
        == 0
    )

    unchanged = cli("compare", str(live), str(same), "--json")
    assert unchanged.exit_code == 0, unchanged.output
    report = json.loads(unchanged.stdout)
    assert (report["old_model"], report["new_model"], report["k"]) == (
        "test/hashing-64",
        "test/hashing-64",
        10,
    )
    for kind in ("articles", "keywords", "related_keywords"):
        assert report[kind]["mean_overlap"] == 1.0 and report[kind]["unchanged"] == report[kind]["compared"]
    assert report["articles"]["compared"] == 134 and report["keywords"]["compared"] > 50

    changed = cli("compare", str(live), str(other), "--json", "--limit", "40", "--show", "3", "-k", "5")
    report = json.loads(changed.stdout)
    articles = report["articles"]
    assert articles["compared"] == 40 and 0 <= articles["mean_overlap"] < 1
    worst = articles["most_changed"]
    assert len(worst) == 3 and worst[0]["overlap"] <= worst[1]["overlap"] <= worst[2]["overlap"]
    assert worst[0]["overlap"] < articles["mean_overlap"]
    for side, folder in (("old", live), ("new", other)):
        store = Store.open(folder)
        assert worst[0][side] == [i.article.id for i in Ranker(store).related(worst[0]["key"], k=5).items]
        store.close()
    assert "hotel-siege-01-en" not in {i for c in worst for i in c["old"] + c["new"]}  # blocked in both

    text = cli("compare", str(live), str(other), "--limit", "40", "--show", "3", "-k", "5")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[1].startswith(
        f"articles: 40 compared, mean overlap {articles['mean_overlap']:.2f}"
    )
    assert f"articles {worst[0]['key']!r}" in text.stdout


def test_compare_refuses_what_is_no_data_dir(cli, live: Path, tmp_path: Path) -> None:
    result = cli("compare", str(live), str(tmp_path / "nothing"))
    assert result.exit_code == 1 and "is not a data dir" in result.stderr
    Store.open(tmp_path / "empty", create=True).close()
    empty = cli("compare", str(live), str(tmp_path / "empty"))
    assert empty.exit_code == 1 and "holds no articles yet" in empty.stderr


def test_publish_copies_a_data_dir_consistently_while_it_is_written(cli, live: Path, tmp_path: Path) -> None:
    import stat
    import threading

    from seealso.ranking import Ranker

    more = tmp_path / "more.jsonl"
    more.write_text(
        "".join(
            json.dumps({"id": f"new-{i}", "title": f"Cocoa harvest {i}", "body": "cocoa farmers"}) + "\n"
            for i in range(600)
        )
    )
    writing = threading.Thread(
        target=lambda: index_articles(
            Store.open(live), HashingEmbedder(64), read_articles(str(more)), batch_size=20
        )
    )
    writing.start()
    copies = [tmp_path / f"release-{n}" for n in range(3)]
    for copy in copies:
        result = cli("publish", "-d", str(live), "--into", str(copy))
        assert result.exit_code == 0, result.output
        assert f"into {copy}" in result.stderr
    writing.join()
    counts = []
    for copy in copies:
        store = Store.open(copy)
        count = store.catalog.count()
        counts.append(count)
        assert len(store.index()) == count  # the snapshot and the catalog's newer changes agree
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in copy.iterdir() if p.is_file()} == {0o600}
        assert work(store) == work(Store.open(live))
        related = Ranker(store).related("mali-coup-01-en", k=3).items
        assert related and related[0].article.id != "mali-coup-01-en"
        store.close()
    assert 134 <= counts[0] <= counts[1] <= counts[2] <= 734
    again = cli("publish", "-d", str(live), "--into", str(copies[0]))
    assert again.exit_code == 1 and "publish into a new folder" in again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial copy left


def test_after_a_switch_a_site_following_the_live_feed_is_told_to_resync(
    cli, live: Path, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from seealso.cli import _update_pages
    from seealso.config import Settings
    from seealso.service.app import create_app

    store = Store.open(live)
    settings = Settings(data_dir=live)
    _update_pages(store, settings, first=True)  # the live feed, as a server keeps it
    store.catalog.write(deletes=["mali-coup-02-fr"], author="site")  # its page goes, others change
    _update_pages(store, settings)
    first, live_last = store.catalog.page_bounds()
    assert live_last > first  # the site has followed the live feed up to here
    store.close()

    new = tmp_path / "new"
    assert (
        cli("rebuild", "-d", str(live), "--model", "test/hashing-128", "--into", str(new), "-q").exit_code
        == 0
    )
    with TestClient(create_app(Settings(data_dir=new))) as client:
        gone = client.get("/v1/changes", params={"since": live_last})
        assert gone.status_code == 410 and gone.json()["seq"] == live_last + 1
        assert client.get("/v1/changes", params={"since": live_last + 1}).json()["pages"] == []
