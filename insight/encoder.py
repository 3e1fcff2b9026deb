"""One MiniLM pass for theme vectors and sentiment vectors.

all-MiniLM-L6-v2 is trained for topical similarity: "I love this flight" and
"I hate this flight" sit close together, and its mean-pooled vectors are pulled
towards frequent words ("place", "thanks"). insight therefore reads two things
from one forward pass that shares the lower :data:`SHARED_LAYERS` layers:

- **topic vectors** (``minilm-idf.v1``): the model's own final token states,
  pooled with a fixed inverse document frequency per word piece, computed once
  from public feedback (``models/embed/idf.v1.npy``, see ``models/build_idf.py``),
  so rare content words ("waiter", "overpriced") weigh more than "the" or "place";
- **sentiment vectors** (``minilm-sentiment.v1``): the same lower states through
  a copy of the top layers fine-tuned for 3-class sentiment on public labelled
  feedback (``models/sentiment/branch.v2.safetensors``, see
  ``models/train_sentiment.py``), mean-pooled.

Both artefacts are sha256-checked before loading. Running the two heads costs
``SHARED_LAYERS + 2 * top`` layers instead of ``2 * 6``: about 0.75x the rate of
one plain MiniLM encode rather than 0.5x.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from insight.backends import check_sha256, load_minilm, resolve_device
from insight.emoji import emojis_as_words
from insight.types import Progress

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
IDF_PATH = MODELS_DIR / "embed" / "idf.v1.npy"
IDF_SHA256 = "df5512759ae6cfd1374ff6b4427101e2ba0f206ddd731dbb3ae7906005aaca6f"
BRANCH_PATH = MODELS_DIR / "sentiment" / "branch.v2.safetensors"
BRANCH_SHA256 = "dcd8d1b7d97281b5715014d7047c623a71c74cbba928bd14a5148184f526bf11"
SHARED_LAYERS = 4
MAX_TOKENS = 128
TOPIC = "minilm-idf.v1"
SENTIMENT = "minilm-sentiment.v1"



RESTORE = "Restore it from the repository: git checkout -- models/"


def load_idf(path: Path = IDF_PATH, expected: str = IDF_SHA256) -> np.ndarray:
    """The word-piece IDF table (float32, one value per vocabulary id), hash-checked."""
    checked = check_sha256(path, expected, "The MiniLM IDF table", hint=RESTORE)
    return np.load(checked, allow_pickle=False).astype(np.float32)


def _layer(layer, hidden, mask):
    out = layer(hidden, attention_mask=mask)
    return out[0] if isinstance(out, tuple) else out


def additive_mask(attention_mask, dtype):
    """BERT's additive attention mask, shape (batch, 1, 1, tokens): 0 where attended, -inf-like elsewhere."""
    import torch

    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def pool(hidden, weights):
    """Weighted mean of token states, L2-normalised; ``weights`` is (batch, tokens), 0 on padding."""
    import torch

    summed = (hidden * weights[..., None]).sum(dim=1) / weights.sum(dim=1, keepdim=True).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed, dim=1)


class MiniLMEncoder:
    """The verified MiniLM, split at :data:`SHARED_LAYERS` into a shared trunk and two tops.

    Parameters
    ----------
    batch_size : texts per forward pass (sorted by length, so padding stays small).
    with_sentiment : load the fine-tuned sentiment branch; False gives topic vectors only.
    device : "cpu" or "cuda" (where the model already runs in half precision).
    dtype : a torch dtype to run in instead of the model's (a copy is cast), e.g.
        ``torch.bfloat16`` to try reduced precision on a CPU.
    """

    def __init__(self, *, batch_size: int = 64, with_sentiment: bool = True, device: str = "cpu",
                 dtype=None) -> None:
        import copy

        import torch

        model = load_minilm(device)
        self.tokenizer = model.tokenizer
        self.bert = model[0].auto_model.eval()
        if dtype is not None and dtype != self.bert.dtype:
            self.bert = copy.deepcopy(self.bert).to(dtype)
        self.device = self.bert.device
        self.idf = torch.from_numpy(load_idf()).to(self.device)
        self.batch_size = batch_size
        self.branch = load_branch(self.bert) if with_sentiment else None
        self.spare: dict[str, dict[str, np.ndarray]] = {}

    def trunk(self, input_ids, attention_mask):
        """States after the shared lower layers, and the additive mask the upper layers need."""
        hidden = self.bert.embeddings(input_ids=input_ids, token_type_ids=None)
        mask = additive_mask(attention_mask, hidden.dtype)
        for layer in self.bert.encoder.layer[:SHARED_LAYERS]:
            hidden = _layer(layer, hidden, mask)
        return hidden, mask

    def tokenize(self, texts: Sequence[str], *, max_length: int = MAX_TOKENS):
        """Word pieces of ``texts`` with emojis as words (MiniLM's vocabulary has no emojis)."""
        return self.tokenizer([emojis_as_words(t) for t in texts], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")

    def encode(
        self, texts: Sequence[str], *, outputs: Sequence[str] = (TOPIC, SENTIMENT), progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """``{name: float32 (len(texts), 384) L2-normalised}`` for each requested output."""
        import torch

        texts = list(texts)
        outputs = [o for o in outputs if o == TOPIC or self.branch is not None]
        result = {name: np.zeros((len(texts), self.bert.config.hidden_size), np.float32) for name in outputs}
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = self.tokenize([texts[i] for i in idx]).to(self.device)
                hidden, mask = self.trunk(enc["input_ids"], enc["attention_mask"])
                am = enc["attention_mask"].float()
                if TOPIC in result:
                    top = hidden
                    for layer in self.bert.encoder.layer[SHARED_LAYERS:]:
                        top = _layer(layer, top, mask)
                    result[TOPIC][idx] = pool(top.float(), self.idf[enc["input_ids"]] * am).cpu().numpy()
                if SENTIMENT in result:
                    result[SENTIMENT][idx] = pool(self.branch(hidden, mask).float(), am).cpu().numpy()
                if progress is not None:
                    done = min(start + self.batch_size, len(texts))
                    progress("embed", done, len(texts), f"encoding {done} of {len(texts)} sentences")
        return result


class SentimentBranch:
    """The fine-tuned copies of MiniLM's top layers (a ``torch.nn.ModuleList``)."""

    def __init__(self, layers) -> None:
        self.layers = layers

    def __call__(self, hidden, mask):
        for layer in self.layers:
            hidden = _layer(layer, hidden, mask)
        return hidden


def branch_layers(bert):
    """Fresh trainable copies of the layers above :data:`SHARED_LAYERS`."""
    import copy

    return copy.deepcopy(bert.encoder.layer[SHARED_LAYERS:])


def load_branch(bert, path: Path = BRANCH_PATH, expected: str = BRANCH_SHA256) -> SentimentBranch:
    """The fine-tuned sentiment layers, hash-checked, stored as float16 safetensors."""
    from safetensors.torch import load_file

    state = load_file(str(check_sha256(path, expected, "The sentiment branch", hint=RESTORE)))
    layers = branch_layers(bert)
    layers.load_state_dict({k: v.float() for k, v in state.items()})
    return SentimentBranch(layers.eval())


class EncoderEmbedder:
    """One output of the shared encoder (:data:`TOPIC` or :data:`SENTIMENT`) as an ``Embedder``.

    Every pass computes both outputs and keeps the other one as ``spare`` on the
    process's encoder, so the pipeline's second call (theme vectors, then
    sentiment vectors of the same sentences) costs no second pass.
    """

    dim = 384
    cacheable = True

    def __init__(self, name: str, *, batch_size: int = 64, device: str = "auto") -> None:
        if name not in (TOPIC, SENTIMENT):
            raise ValueError(f"The shared encoder has no output {name!r}.")
        self.name, self.batch_size, self.device = name, batch_size, device

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        encoder = load_encoder(device=resolve_device(self.device))
        encoder.batch_size = self.batch_size
        spare = encoder.spare.get(self.name, {})
        out = np.zeros((len(texts), self.dim), np.float32)
        missing = [i for i, t in enumerate(texts) if t not in spare]
        for i, t in enumerate(texts):
            if t in spare:
                out[i] = spare[t]
        if missing:
            new = encoder.encode([texts[i] for i in missing], progress=progress)
            out[missing] = new[self.name]
            encoder.spare = {name: dict(zip((texts[i] for i in missing), vectors))
                             for name, vectors in new.items() if name != self.name}
        return out


@functools.cache
def load_encoder(with_sentiment: bool = True, device: str = "cpu") -> MiniLMEncoder:
    """One encoder per process and device (loading MiniLM takes seconds)."""
    return MiniLMEncoder(with_sentiment=with_sentiment, device=device)
