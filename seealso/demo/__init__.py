"""The demo corpus: 134 news articles written for this project, in English and French.

`make demo` indexes it, the tests check seealso's lists on it, and the OpenVINO backend calibrates
its int8 model on it (`seealso.embeddings.openvino.quantize`), so it ships inside the package.
"""

from pathlib import Path

ARTICLES = Path(__file__).with_name("articles.jsonl")
