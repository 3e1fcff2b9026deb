"""Codeframe YAML, edits with undo, and zero-shot multi-label assignment on real MiniLM vectors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from insight.config import ThemeConfig
from insight.codeframe import Codeframe, CodeframeAssigner, CodeframeTheme
from insight.errors import InputError, NotFittedError
from insight.schemas import Col
from insight.themes import ThemeModel, assign_themes
from insight.types import ThemeSource

DEFAULT_NAMES = {
    "Billing & pricing": {"billing errors", "price increase", "value for money"},
    "Support": {"slow support", "friendly staff"},
    "Product quality": {"app crashes", "performance", "login problems"},
    "Usability": {"onboarding confusion", "ease of use"},
    "Features": {"missing feature", "data export"},
    "Account & delivery": {"delivery delays", "cancellation difficulty"},
}

SMALL_YAML = """
themes:
  - name: delivery
    parent: Orders
    description: Parcels and orders arriving late or not at all.
    keywords: [late delivery, parcel, courier]
    examples: [My order came two weeks late., The courier lost my package.]
  - name: billing
    parent: Money
    description: Wrong charges, double payments, refunds and invoices.
    keywords: [charged twice, refund, invoice]
    examples: [I was billed twice this month.]
  - name: crash
    description: The app crashes, freezes or closes with an error.
    keywords: [crash, freeze, error]
    examples: [The app keeps crashing when I log in.]
  - name: staff
    description: Friendly, polite or rude staff and agents.
    keywords: [friendly staff, polite, helpful]
    examples: [The agent was really kind to me.]
background: [Thanks., Overall fine.]
"""


class CountingEmbedder:
    """Wraps the real embedder and records every text it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    @property
    def texts(self) -> set[str]:
        return {t for call in self.calls for t in call}


@pytest.fixture()
def small() -> Codeframe:
    return Codeframe.from_yaml(SMALL_YAML)


# -- YAML --------------------------------------------------------------------------
def test_default_codeframe_has_the_14_themes_and_parents():
    cf = Codeframe.default()
    found: dict[str, set[str]] = {}
    for theme in cf.themes:
        found.setdefault(theme.parent, set()).add(theme.name)
        assert theme.description and theme.keywords and 3 <= len(theme.examples) <= 6
    assert found == DEFAULT_NAMES
    assert cf.background


def test_yaml_round_trip_keeps_themes_log_and_background(small, tmp_path):
    edited = small.rename("crash", "app crashes").add({"name": "export", "keywords": "csv, excel"})
    again = Codeframe.from_yaml(edited.to_yaml())
    assert again == edited
    assert again.get("export").keywords == ("csv", "excel")
    path = tmp_path / "cf.yaml"
    path.write_text(edited.to_yaml(), encoding="utf-8")
    assert Codeframe.from_yaml(path) == edited and Codeframe.from_yaml(str(path)) == edited
    assert Codeframe.from_yaml("- name: only one\n").names == ("only one",)


@pytest.mark.parametrize(("text", "message"), [
    ("themes: [unclosed", "not valid YAML"),
    ("themes:\n  - description: no name here\n", "no name"),
    ("themes:\n  - name: a\n  - name: a\n", "Duplicate theme name"),
    ("themes:\n  - name: a\n    colour: red\n", "Unknown key"),
    ("just a sentence\nover two lines", "themes"),
    ("themes: []\n", "no themes"),
    ("themes:\n  - name: a\nextra: 1\n", "top-level"),
    ("!!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
])
def test_bad_yaml_raises_input_error(text, message):
    with pytest.raises(InputError, match=message):
        Codeframe.from_yaml(text)


def test_missing_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        Codeframe.from_yaml(tmp_path / "nope.yaml")


# -- edits -------------------------------------------------------------------------
def test_rename_and_undo(small):
    renamed = small.rename("crash", "app crashes")
    assert renamed.names == ("delivery", "billing", "app crashes", "staff")
    assert renamed.get("app crashes").examples == small.get("crash").examples
    assert renamed.log[-1]["op"] == "rename" and small.log == ()
    assert renamed.undo() == small


def test_merge_pools_keywords_and_examples(small):
    merged = small.merge(["billing", "delivery"], into="orders & money")
    assert merged.names == ("orders & money", "crash", "staff")
    theme = merged.get("orders & money")
    assert set(theme.keywords) == set(small.get("billing").keywords) | set(small.get("delivery").keywords)
    assert len(theme.examples) == 3 and theme.parent == "Money"
    assert merged.undo() == small
    assert merged.resolve("delivery") == ("orders & money",)


def test_split_delete_add_and_undo_chain(small):
    split = small.split("staff", {"friendly staff": {"description": "Kind, polite agents."},
                                  "rude staff": CodeframeTheme("x", description="Rude agents.")})
    assert split.names == ("delivery", "billing", "crash", "friendly staff", "rude staff")
    assert split.get("rude staff").description == "Rude agents."
    assert split.get("friendly staff").parent == small.get("staff").parent
    deleted = split.delete("crash")
    added = deleted.add(CodeframeTheme("login", keywords=("password",)))
    assert added.names == ("delivery", "billing", "friendly staff", "rude staff", "login")
    assert [e["op"] for e in added.log] == ["split", "delete", "add"]
    assert added.resolve("staff") == ("friendly staff", "rude staff") and added.resolve("crash") == ()
    assert added.undo() == deleted and added.undo().undo() == split and added.undo().undo().undo() == small


def test_edit_errors_are_clear(small):
    with pytest.raises(InputError, match="No theme called 'nope'"):
        small.rename("nope", "x")
    with pytest.raises(InputError, match="exists"):
        small.rename("crash", "staff")
    with pytest.raises(InputError, match="at least two"):
        small.merge(["crash"], into="x")
    with pytest.raises(InputError, match="another theme"):
        small.merge(["crash", "billing"], into="staff")
    with pytest.raises(InputError, match="No theme called"):
        small.merge(["crash", "ghost"], into="x")
    with pytest.raises(InputError, match="at least two"):
        small.split("crash", {"one": {}})
    with pytest.raises(InputError, match="already exist"):
        small.split("crash", {"billing": {}, "other": {}})
    with pytest.raises(InputError, match="No theme called"):
        small.delete("ghost")
    with pytest.raises(InputError, match="exists"):
        small.add({"name": "crash"})
    with pytest.raises(InputError, match="Nothing to undo"):
        small.undo()
    with pytest.raises(InputError, match="non-empty"):
        small.rename("crash", "  ")


def test_from_theme_model_exports_discovered_themes(topic_corpus):
    texts, _, X = topic_corpus
    model = ThemeModel(min_cluster_size=8).fit(texts, X)
    cf = Codeframe.from_theme_model(model)
    assert cf.names == tuple(model.themes_[Col.THEME])
    assert all(len(t.examples) == 3 and t.keywords and t.parent for t in cf.themes)
    assert Codeframe.from_yaml(cf.to_yaml()) == cf
    with pytest.raises(NotFittedError):
        Codeframe.from_theme_model(ThemeModel())


# -- assignment ----------------------------------------------------------------------
@pytest.fixture()
def fitted(small, minilm, topic_corpus):  # noqa: F811
    texts, _, X = topic_corpus
    embedder = CountingEmbedder(minilm)
    return CodeframeAssigner(small, embedder=embedder).fit(texts, X), embedder


def test_every_kind_of_theme_model_is_a_theme_source(fitted, small, topic_corpus):
    """reassign and the Themes page read these members instead of asking which class a run holds."""
    texts, _, X = topic_corpus
    assigner, embedder = fitted
    discovered = ThemeModel(min_cluster_size=8).fit(texts, X)
    assert all(isinstance(m, ThemeSource) for m in (assigner, discovered, small))
    assert assigner.embedder is embedder and discovered.embedder is None and small.embedder is None
    assert assigner.assigns_by_confidence and small.assigns_by_confidence and not discovered.assigns_by_confidence


def test_assigns_topic_sentences_to_their_theme(fitted, topic_corpus):
    assigner, _ = fitted
    texts, gold, X = topic_corpus
    out = assigner.transform(texts, X)
    assert list(out.columns) == ["sentence_pos", Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE]
    assert assigner.calibrated_.all()
    assert out[Col.THEME_CONFIDENCE].between(0.5, 1).all()
    top = out.drop_duplicates("sentence_pos").set_index("sentence_pos")[Col.THEME]
    assert (top == pd.Series(gold)[top.index]).mean() > 0.9
    assert out["sentence_pos"].nunique() > 0.8 * len(texts)
    top1 = np.array(assigner.codeframe_.names)[assigner.decision_function(X).argmax(axis=1)]
    assert (top1 == gold).mean() > 0.95


def test_multi_label_sentence_and_the_sensitivity_control(fitted, small, minilm, topic_corpus):  # noqa: F811
    """A corpus of one-topic sentences teaches themes to compete, so a two-topic sentence gets its
    second theme at a lower ``min_confidence`` (the app's sensitivity); chatter gets none either way."""
    assigner, _ = fitted
    corpus, _, X = topic_corpus
    texts = ["My parcel arrived two weeks late and I was charged twice for it.", "Thanks."]
    confidence = assigner.decision_function(minilm.embed(texts))
    assert set(np.array(small.names)[np.argsort(-confidence[0])[:2]]) == {"delivery", "billing"}
    sensitive = assigner.refit(small, corpus, X, min_confidence=0.4)
    out = sensitive.transform(texts, minilm.embed(texts))
    assert set(out.loc[out["sentence_pos"] == 0, Col.THEME]) == {"delivery", "billing"}
    assert 1 not in set(out["sentence_pos"]) and 1 not in set(assigner.transform(texts, minilm.embed(texts))["sentence_pos"])


def test_edits_reassign_without_reembedding_sentences(fitted, small, topic_corpus):
    assigner, embedder = fitted
    texts, _, X = topic_corpus
    assert not embedder.texts & set(texts)
    before = assigner.transform(texts, X)
    n_calls = len(embedder.calls)

    renamed = assigner.refit(small.rename("crash", "app crashes"), texts, X)
    assert renamed.n_embedded_ == 2  # only the prototypes holding the name: "name: description" and the name
    assert len(embedder.calls) == n_calls + 1 and not set(embedder.calls[-1]) & set(texts)
    after = renamed.transform(texts, X)
    assert (after[Col.THEME].replace("app crashes", "crash") == before[Col.THEME]).all()

    merged = renamed.refit(renamed.codeframe_.merge(["billing", "delivery"], into="orders"), texts, X)
    assert merged.n_embedded_ == 2  # the merged theme's new name+description and keyword list
    assert not embedder.texts & set(texts)
    out = merged.transform(texts, X)
    assert "orders" in set(out[Col.THEME]) and not {"billing", "delivery"} & set(out[Col.THEME])


def test_uncalibrated_and_fixed_threshold(small, minilm, topic_corpus):  # noqa: F811
    texts, _, X = topic_corpus
    plain = CodeframeAssigner(small, embedder=minilm).fit()
    assert not plain.calibrated_.any() and plain.prevalence_.size == len(small.names)
    strict = CodeframeAssigner(small, embedder=minilm, threshold=0.99).fit(texts, X)
    assert strict.transform(texts, X).empty


def test_assigner_errors(small, minilm, topic_corpus):  # noqa: F811
    texts, _, X = topic_corpus
    with pytest.raises(NotFittedError):
        CodeframeAssigner(small, embedder=minilm).transform(texts, X)
    with pytest.raises(InputError, match="Codeframe"):
        CodeframeAssigner(yaml.safe_load(SMALL_YAML), embedder=minilm).fit()
    with pytest.raises(InputError, match="embed"):
        CodeframeAssigner(small, embedder=object()).fit()
    fitted = CodeframeAssigner(small, embedder=minilm).fit()
    with pytest.raises(InputError, match="dimensions"):
        fitted.transform(texts, X[:, :10])
    with pytest.raises(InputError, match="shape"):
        fitted.transform(texts, X[:-1])


def test_assign_themes_codeframe_mode(small, minilm, topic_corpus):  # noqa: F811
    texts, _, X = topic_corpus
    sentences = pd.DataFrame({Col.SENTENCE_ID: [f"c{i}:0" for i in range(len(texts))], Col.TEXT: texts})
    result = assign_themes(sentences, X, config=ThemeConfig(), embedder=minilm, codeframe=small)
    assert isinstance(result.model, CodeframeAssigner)
    assert list(result.assignments.columns) == [Col.SENTENCE_ID, Col.THEME_ID, Col.THEME, Col.THEME_CONFIDENCE]
    assert set(result.assignments[Col.SENTENCE_ID]) <= set(sentences[Col.SENTENCE_ID])
    themes = result.themes.set_index(Col.THEME)
    assert list(themes.index) == list(small.names)
    assert themes.loc["delivery", Col.PARENT] == "Orders" and themes.loc["crash", Col.PARENT] == ""
    counts = result.assignments.groupby(Col.THEME)[Col.SENTENCE_ID].nunique()
    assert (themes["n_sentences"] == counts.reindex(themes.index, fill_value=0)).all()
    assert all(len(r) == 3 for r in themes["representatives"])
    default = assign_themes(sentences, X, config=ThemeConfig(mode="codeframe"), embedder=minilm)
    assert len(default.themes) == 14


def test_one_line_yaml_longer_than_a_file_name_is_read_as_text():
    text = yaml.safe_dump(
        {"themes": [{"name": f"theme {i}", "description": "a long enough description"} for i in range(40)]},
        default_flow_style=True, width=100_000,
    )
    assert "\n" not in text.strip() and len(text) > 300
    assert len(Codeframe.from_yaml(text).themes) == 40


def test_a_theme_name_cannot_hold_the_comment_theme_separator():
    from insight.codeframe import Codeframe
    from insight.errors import InputError

    with pytest.raises(InputError, match="separates a comment's themes"):
        Codeframe.default().rename("billing errors", "billing|refunds")
