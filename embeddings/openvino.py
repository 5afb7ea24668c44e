"""A sentence-transformers model exported once and run by OpenVINO on the CPU: the default embedder.

The whole sentence-transformers pipeline (transformer, pooling, any dense layers, normalization) is
traced to ONNX with torch and converted to OpenVINO's format, at full fp32 precision, in a folder of
the data dir named after the model and the export recipe. Later loads read that folder only: no
torch, no model re-export. At run time the texts are tokenized once, sorted by length and batched,
so that a batch carries little padding; on CPUs with bf16 arithmetic (AVX512-BF16, AMX) OpenVINO
computes the matrix products in bf16 with fp32 accumulation.

Measured with scripts/bench_index.py on BBC articles (2 cores, AVX512-BF16): see that script; the
vectors agree with the torch model's to a cosine of 0.9999 (bf16) and 1.0000 (fp32).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seealso.embeddings.base import Embedder

log = logging.getLogger(__name__)

# Bump when the export changes what the folder holds or how it computes.
EXPORT_VERSION = 1
# Bump when the int8 quantization's recipe changes (see `quantize`).
QUANTIZE_VERSION = 2
PRECISIONS = ("auto", "exact", "fp32", "bf16", "int8")  # as embeddings.PRECISIONS


def export_key(identity: str, source: str) -> str:
    """The cache folder's name: the model, its files (names, sizes, times) and the export recipe."""
    files: list[tuple[str, int, int]] = []
    root = Path(source)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                files.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    digest = hashlib.sha256(json.dumps([identity, EXPORT_VERSION, files]).encode()).hexdigest()[:16]
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in identity.rsplit("/", 1)[-1])[:48]
    return f"{slug}-openvino-{digest}"


def export(source: str, folder: Path) -> None:
    """Trace the sentence-transformers model at `source` into `folder` (written whole or not at all)."""
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from seealso.embeddings.sentence import model_kwargs

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(source, device="cpu", model_kwargs=model_kwargs(source)).eval()
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    sample = tokenize(["seealso export", "a second, longer sample sentence"])
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    tokenizer = getattr(model.tokenizer, "backend_tokenizer", None)
    if tokenizer is None:
        raise ValueError("the model has no fast tokenizer, which the OpenVINO backend needs")

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # in the data dir: private
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))  # 0700
    try:
        onnx_path = work / "model.onnx"
        pipeline, inputs = Pipeline(), tuple(sample[name] for name in names)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python branches it fixes
            dimension = int(pipeline(*inputs).shape[1])
            torch.onnx.export(
                pipeline,
                inputs,
                str(onnx_path),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={
                    **{name: {0: "batch", 1: "tokens"} for name in names},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        ov.save_model(ov.convert_model(str(onnx_path)), str(work / "model.xml"), compress_to_fp16=False)
        onnx_path.unlink()
        tokenizer.save(str(work / "tokenizer.json"))
        meta = {
            "inputs": names,
            "dimension": dimension,
            "max_tokens": int(model.max_seq_length or 512),
            "lowercase": bool(getattr(model[0], "do_lower_case", False)),
        }
        (work / "export.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _publish(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _publish(work: Path, folder: Path) -> None:
    """Make the finished `work` folder `folder`, its files private, in one rename; when another
    process made the same folder meanwhile, keep theirs."""
    for file in work.iterdir():
        file.chmod(0o600)
    try:
        os.rename(work, folder)
    except OSError:
        if not (folder / "export.json").exists():
            raise


def calibration_texts(prompts: Mapping[str, str]) -> list[str]:
    """What int8 quantization is calibrated on: the demo corpus's articles as the model sees them,
    each lead as a passage and each headline as a query, with the model's prefixes."""
    from seealso.demo import ARTICLES

    texts: list[str] = []
    for line in ARTICLES.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        lead = "\n".join(filter(None, (record.get(f) for f in ("title", "summary", "body"))))
        texts.append(prompts.get("passage", "") + lead)  # the tokenizer cuts it at the window
        texts.append(prompts.get("query", "") + record["title"])
    return texts


def quantized_key(exported: Path, texts: Sequence[str]) -> str:
    """The int8 folder's name: the export it comes from, the recipe and the calibration texts."""
    digest = hashlib.sha256(json.dumps([exported.name, QUANTIZE_VERSION, list(texts)]).encode())
    return f"{exported.name}-int8-{digest.hexdigest()[:12]}"


def quantize(exported: Path, folder: Path, texts: Sequence[str]) -> None:
    """Quantize the export in `exported` to int8 into `folder` (written whole or not at all).

    NNCF's post-training static quantization with its transformer preset (SmoothQuant, then
    per-channel int8 weights and int8 activations with ranges measured on `texts`, fast bias
    correction): the matrix products run on the CPU's int8 units (AVX512-VNNI, AVX-VNNI, AMX)
    where bf16 is absent. Measured on SemEval dev.csv through seealso's score, int8 / fp32
    Pearson: en-en 0.859 / 0.857, fr-fr 0.719 / 0.720, cross-lingual 0.746 / 0.733 (see
    scripts/bench_index.py for the speed). The folder's export.json says "int8"."""
    import nncf
    import openvino as ov
    from tokenizers import Tokenizer

    meta = json.loads((exported / "export.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(exported / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(int(meta["max_tokens"]))
    lowercase = bool(meta.get("lowercase"))

    def feed(text: str) -> dict[str, np.ndarray]:
        ids = np.asarray([tokenizer.encode(text.lower() if lowercase else text).ids], dtype=np.int64)
        arrays = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in meta["inputs"]:
            arrays["token_type_ids"] = np.zeros_like(ids)
        return arrays

    nncf.set_log_level(logging.ERROR)
    model = ov.Core().read_model(str(exported / "model.xml"))
    with contextlib.redirect_stdout(sys.stderr):  # its progress bars: stdout is a command's answer
        quantized = nncf.quantize(
            model,
            nncf.Dataset(list(texts), feed),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(texts),
        )
    work = Path(tempfile.mkdtemp(prefix=".quantize-", dir=folder.parent))  # 0700
    try:
        ov.save_model(quantized, str(work / "model.xml"), compress_to_fp16=False)
        shutil.copyfile(exported / "tokenizer.json", work / "tokenizer.json")
        (work / "export.json").write_text(json.dumps({**meta, "int8": True}, indent=1), encoding="utf-8")
        _publish(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def multiplies_int8() -> bool:
    """Whether int8 is faster than fp32 on this CPU: where it has int8 dot products (AVX512-VNNI,
    AVX-VNNI, AMX) or AVX-512. Measured with oneDNN's ISA limit on an AVX512-BF16 machine (96 BBC
    leads, 2 cores), int8 took 0.58 of fp32's time with AVX-VNNI and 0.80 with AVX-512 alone,
    but 1.43 times fp32's with AVX2 alone."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    lines = cpuinfo.splitlines()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return not {"avx512_vnni", "avx_vnni", "amx_int8", "avx512bw"}.isdisjoint(flags)


def supports_bf16() -> bool:
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVINOEmbedder(Embedder):
    """Runs an exported model folder (see `export`) with OpenVINO."""

    def __init__(
        self,
        folder: Path,
        *,
        name: str,
        languages: frozenset[str] | None,
        prompts: Mapping[str, str] | None = None,
        batch_size: int = 8,
        precision: str = "auto",
        threads: int = 0,
    ) -> None:
        import openvino as ov
        from tokenizers import Tokenizer

        meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
        self.name = name
        self.prompts = dict(prompts or {})
        self.languages = languages
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_tokens"])
        self.batch_size = batch_size
        self.inputs: list[str] = meta["inputs"]
        self.lowercase = bool(meta.get("lowercase"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if bool(meta.get("int8")) != (precision == "int8"):
            raise ValueError(f"{folder}: int8 is the precision of a folder made by quantize, and only of one")
        if precision in ("auto", "exact"):
            precision = "bf16" if supports_bf16() else "fp32"
        self.precision = precision
        self.runtime = f"openvino {precision}"
        # "int8" is a folder made by `quantize`: its int8 operations run as such, the rest in fp32.
        config: dict[str, Any] = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
            # A share of the cores, beside other processes (Ray actors, say): OpenVINO pins its
            # threads to the first cores, so two such processes would take turns on one core
            # (measured: two 1-thread processes, each as slow as both one after the other).
            config["ENABLE_CPU_PINNING"] = False
        self.compiled = ov.Core().compile_model(str(folder / "model.xml"), "CPU", config)
        # An infer request holds its input and output tensors, so it serves one call at a time:
        # each call borrows an idle one, and a new one is made when all are busy (a server's
        # request threads embed at once; see `_request`).
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle.put(self.compiled.create_infer_request())
        self._made = 1
        self._make_lock = threading.Lock()
        self.max_requests = max(2, os.cpu_count() or 1)

    @contextlib.contextmanager
    def _request(self) -> Iterator[Any]:
        """An infer request for this thread alone: an idle one, a new one while fewer than
        `max_requests` exist, else the next to be returned."""
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            with self._make_lock:
                fresh = self._made < self.max_requests
                self._made += fresh
            request = self.compiled.create_infer_request() if fresh else self._idle.get()
        try:
            yield request
        finally:
            self._idle.put(request)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Tokenize once, then run batches of similar lengths (longest first)."""
        prepared = [text.strip().lower() if self.lowercase else text.strip() for text in texts]
        encodings = self.tokenizer.encode_batch(prepared)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._request() as request:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = int(lengths[rows[0]])
                arrays = {name: np.zeros((len(rows), width), dtype=np.int64) for name in self.inputs}
                for row, index in enumerate(rows):
                    encoding = encodings[index]
                    size = len(encoding.ids)
                    arrays["input_ids"][row, :size] = encoding.ids
                    arrays["attention_mask"][row, :size] = 1
                    if "token_type_ids" in arrays:
                        arrays["token_type_ids"][row, :size] = encoding.type_ids
                # infer() returns copies of the outputs: the request's tensors are reused.
                out[rows] = next(iter(request.infer(arrays).values()))
        return out
