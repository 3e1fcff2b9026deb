"""The scale-corpus builder on a tiny fake datasets folder (tests never read ../shared: a user's clone has none)."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from corpora import scale
from corpora.generate import SIZES, generate_corpus

N = 600  # the smallest generator run (100 customers) gives ~530 comments


def _fake_datasets(root, n_reviews: int) -> None:
    """Airbnb-like reviews of 4 distinct sentences each, app reviews and a SemEval XML file."""
    (root / "large_reviews").mkdir(parents=True)
    words = ("quiet", "bright", "cosy", "tidy", "central", "spacious")
    reviews = [" ".join(f"Guest {i} found the {w} room number {j} really {words[(i + j) % 6]}!"
                        for j, w in enumerate(words[:4])) for i in range(n_reviews)]
    reviews += ["Great stay, thank you. Great stay, thank you."] * 3  # repeats: the datasets' own rate > 0
    with gzip.open(root / "large_reviews" / "airbnb_reviews.csv.gz", "wt", encoding="utf-8") as f:
        pd.DataFrame({"review_id": range(len(reviews)), "text": reviews}).to_csv(f, index=False)
    apps = pd.DataFrame({"label": ["positive", "negative"], "text": ["Works fine on my phone. ok", "It drains the battery"]})
    apps.to_csv(root / "large_reviews" / "android_app_reviews.csv.gz", index=False)
    (root / "semeval2014_absa").mkdir()
    (root / "semeval2014_absa" / "Laptops.xml").write_text(
        "<sentences><sentence><text>The keyboard feels very solid.</text></sentence></sentences>", encoding="utf-8")


def _build(tmp_path, monkeypatch, n_reviews: int, out: str):
    root = tmp_path / "datasets"
    if not root.exists():
        _fake_datasets(root, n_reviews)
    monkeypatch.setenv(scale.ENV_DATASETS, str(root))
    assert scale.main(["--comments", str(N), "--seed", "3", "--out", str(tmp_path / out),
                       "--cache-dir", str(tmp_path / "cache")]) == 0
    folder = tmp_path / out
    return (pd.read_csv(folder / "feedback.csv"), pd.read_csv(folder / "truth_sentences.csv", keep_default_na=False),
            json.loads((folder / "ground_truth.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    with pytest.MonkeyPatch.context() as mp:
        return tmp, _build(tmp, mp, 700, "a")


def test_exactly_n_comments_with_every_themed_sentence_and_exposure_kept(built):
    _, (feedback, sentences, truth) = built
    assert len(feedback) == truth["scale"]["n_comments"] == N == len(truth["comments"])
    gen = generate_corpus(seed=3, n_customers=truth["parameters"]["n_customers"],
                          **{k: v for k, v in SIZES["large"].items() if k != "n_customers"})
    g = gen.sentences[gen.sentences["theme"] != ""]
    g = g[g["comment_id"].isin(feedback["comment_id"])]
    s = sentences[sentences["theme"] != ""]
    assert len(g) == len(s) and (g["theme"].to_numpy() == s["theme"].to_numpy()).all()
    assert all(a[:-1] in b or a[1:] in b for a, b in zip(g["text"], s["text"]))  # plain, or with a real clause
    # each customer's mentioned themes are the generator's: the planted effects hold unchanged
    owner = lambda fb: fb.set_index("comment_id")["customer_id"].str.strip().str.upper()  # noqa: E731
    exposure = lambda fb, sn: set(zip(sn["comment_id"].map(owner(fb)), sn["theme"]))  # noqa: E731
    assert exposure(feedback, s) == exposure(gen.feedback, gen.sentences[gen.sentences["theme"] != ""])
    assert truth["themes"] == gen.truth["themes"]
    # feedback text is the sentences joined, in order
    joined = sentences.groupby("comment_id", sort=False)["text"].agg(" ".join)
    assert (joined.reindex(feedback["comment_id"]).to_numpy() == feedback["text"].to_numpy()).all()


def test_real_sentences_do_not_repeat_while_the_pool_lasts_and_rates_are_right(built):
    _, (_, sentences, truth) = built
    sc = truth["scale"]
    real = sentences.loc[sentences["theme"] == "", "text"]
    per_comment = real.groupby(sentences["comment_id"]).size()
    assert len(per_comment) == N and per_comment.between(1, 3).all()
    assert not sc["pool_cycled"] and real.is_unique and sc["repeat_rate"]["real"] == 0.0
    assert real.str.startswith("Guest ").mean() > 0.9
    assert set(sentences.loc[sentences["theme"] == "", "sentiment"]) == {""}
    text = sentences["text"].str.strip()
    assert sc["repeat_rate"]["all"] == pytest.approx(1 - text.nunique() / len(text), abs=1e-6)
    themed = text[sentences["theme"] != ""]
    assert sc["repeat_rate"]["themed"] == pytest.approx(1 - themed.nunique() / len(themed), abs=1e-6)
    assert sc["n_sentences"] == len(sentences)
    assert sc["real_sentence_share"] == pytest.approx(len(real) / len(text), abs=1e-6)
    assert sc["pool"]["per_source"] == {"airbnb": 2801, "app_reviews": 2, "semeval_absa": 1}
    assert 0 < sc["datasets_repeat_rate"]["airbnb"] < 0.01 and sc["datasets_repeat_rate"]["app_reviews"] == 0


def test_same_seed_gives_identical_files_and_a_small_pool_cycles(built, tmp_path, monkeypatch):
    tmp, _ = built
    monkeypatch.setenv(scale.ENV_DATASETS, str(tmp / "datasets"))
    scale.main(["--comments", str(N), "--seed", "3", "--out", str(tmp / "b"), "--cache-dir", str(tmp / "cache")])
    for name in ("customers.csv", "feedback.csv", "truth_sentences.csv", "ground_truth.json"):
        assert (tmp / "a" / name).read_bytes() == (tmp / "b" / name).read_bytes(), name
    _, sentences, truth = _build(tmp_path, monkeypatch, 100, "small")  # 404-sentence pool < 600+ draws
    real = sentences.loc[sentences["theme"] == "", "text"]
    assert truth["scale"]["pool_cycled"] and real.nunique() == truth["scale"]["pool"]["size"] == 404  # all used
    assert truth["scale"]["repeat_rate"]["real"] == pytest.approx(1 - real.nunique() / len(real), abs=1e-6)


def test_missing_datasets_folder_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(scale.ENV_DATASETS, str(tmp_path / "nowhere"))
    assert scale.main(["--comments", "10", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "nowhere" in err and scale.ENV_DATASETS in err
    assert not (tmp_path / "out").exists()


def test_splitter_and_repeat_rate():
    s = scale.split_sentences(pd.Series(['It was "fine." Then it broke! Ok. Two words', None, "no end here at all",
                                         ".. , . .. -- ! ok ok"]))
    assert s.tolist() == ['It was "fine."', "Then it broke!", "no end here at all."]
    assert scale.repeat_rate(["a b c.", " a b c.", "d e f."]) == pytest.approx(1 / 3, abs=1e-6)
    assert np.isclose(scale.repeat_rate([]), 0.0)
