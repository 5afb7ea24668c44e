"""Schemathesis over the app's own OpenAPI document: a bounded run of generated requests (valid and
not), with and without the bearer token, none of which may get a server error."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from seealso.config import Settings
from seealso.embeddings.hashing import HashingEmbedder
from seealso.indexer.reader import read_articles
from seealso.indexer.runner import index_articles
from seealso.indexer.store import Store
from seealso.service.app import create_app
from tests.service.test_api import AUTH, CORPUS, TOKEN, write_corpus

# Examples per operation and phase: about 30 operations, each anonymously and with the token, make
# some 1,300 requests in all (6 s here); derandomized, so a run is repeatable.
EXAMPLES = 12
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def _app() -> object:
    """The app over the test corpus (schemathesis loads its schema when this module is collected)."""
    tmp = Path(tempfile.mkdtemp(prefix="seealso-schemathesis-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    store = Store.open(tmp / "data", create=True)
    index_articles(store, HashingEmbedder(64), read_articles(str(write_corpus(tmp / "c.jsonl", CORPUS))))
    store.close()
    return create_app(Settings(data_dir=tmp / "data", model="test/hashing", api_token=TOKEN))


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """A bulk write's body (JSON Lines) as schemathesis generates it: its string, as UTF-8."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else json.dumps(value).encode()


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@FUZZ
def test_no_anonymous_request_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_request_with_the_token_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error])


def test_the_run_covers_every_operation() -> None:
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert len(operations) >= 15
    assert {("PUT", "/v1/articles/{article_id}"), ("POST", "/v1/similarity")} <= operations
