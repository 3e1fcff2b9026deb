"""Fast mode: the shipped static model and its sentiment head are hash-checked, torch-free and sane;
`--embedder fast` runs end to end and a large run switches to it by itself, saying so."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from insight.errors import ModelIntegrityError
from insight.sentiment import STATIC_HEAD_PATH, STATIC_HEAD_SHA256, StaticSentimentModel
from insight.static import STATIC_DIR, STATIC_SHA256, load_static_from


@pytest.mark.parametrize("name", sorted(STATIC_SHA256))
def test_a_corrupted_static_model_file_is_refused(tmp_path, name):
    for shipped in STATIC_SHA256:
        shutil.copy(STATIC_DIR / shipped, tmp_path / shipped)
    with open(tmp_path / name, "r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_static_from(tmp_path, STATIC_SHA256)


def test_a_corrupted_fast_sentiment_head_is_refused(tmp_path):
    copy = tmp_path / STATIC_HEAD_PATH.name
    copy.write_bytes(STATIC_HEAD_PATH.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        StaticSentimentModel.load(copy, STATIC_HEAD_SHA256)


def test_fast_embedder_gives_deterministic_unit_vectors_without_torch():
    code = (
        "import sys, numpy as np\n"
        "from insight.registry import get_embedder\n"
        "e = get_embedder('fast')\n"
        "texts = ['The delivery was late again.', 'Great price, lovely staff 👍', '']\n"
        "a, b = e.embed(texts), e.embed(list(reversed(texts)))[::-1]\n"
        "assert e.name == 'static.v1' and a.shape == (3, e.dim) and np.array_equal(a, b)\n"
        "assert np.allclose(np.linalg.norm(a[:2], axis=1), 1, atol=1e-5) and not a[2].any()\n"
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_fast_embedder_matches_whole_sentence_tokenization():
    """Chunk-wise tokenization must give the pieces of tokenizing the whole sentence."""
    from insight.static import load_static

    static = load_static()
    texts = ["Couldn't log in; the app's 2FA code never arrived!!", "Wi-Fi was spotty (again)...", "naïve café staff"]
    ids = [e.ids for e in static.tokenizer.encode_batch(texts, add_special_tokens=False)]
    expected = np.stack([static.vectors[i].sum(axis=0) for i in ids])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(static.embed(texts), expected, atol=1e-5)


@pytest.mark.parametrize(("text", "label"), [
    ("Terrible service, never again.", "negative"),
    ("Absolutely love it.", "positive"),
])
def test_fast_sentiment_head_gets_obvious_cases_right(text, label):
    pred = StaticSentimentModel.load().predict([text])
    assert pred["sentiment_label"].iat[0] == label


def test_fast_mode_is_chosen_only_for_the_default_backend_above_the_threshold():
    from insight.config import EmbedConfig
    from insight.static import choose_backend

    config, note = choose_backend(EmbedConfig(fast_above=100), 101)
    assert config.backend == "static.v1"
    assert "101 comments" in note and "name the embedder minilm-idf.v1" in note
    assert choose_backend(EmbedConfig(fast_above=100), 100) == (EmbedConfig(fast_above=100), None)
    assert choose_backend(EmbedConfig(fast_above=0), 10**9)[1] is None
    chosen = EmbedConfig(backend="minilm.v1", fast_above=100)
    assert choose_backend(chosen, 10**6) == (chosen, None)
