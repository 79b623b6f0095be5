"""Random-weight BERT cross-encoders with a WordPiece vocabulary written here: a tiny one
for tests, and one of ms-marco-MiniLM-L-6-v2's size for latency measurements where the
real weights cannot be downloaded. Both load through the same `CrossEncoder` code path
as a real model folder."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "dress",
    "top",
    "shirt",
    "skirt",
    "trousers",
    "jeans",
    "jacket",
    "coat",
    "hat",
    "scarf",
    "socks",
    "sandal",
    "shoe",
    "boot",
    "bag",
    "black",
    "white",
    "red",
    "blue",
    "green",
    "pink",
    "grey",
    "beige",
    "brown",
    "yellow",
    "soft",
    "fabric",
    "cotton",
    "denim",
    "linen",
    "wool",
    "silk",
    "strap",
    "vest",
    "sweater",
    "hoodie",
    "shorts",
    "bikini",
    "bra",
    "popular",
    "fashion",
    "in",
    "with",
    "and",
    "for",
]

#: ms-marco-MiniLM-L-6-v2's architecture (BERT, 6 layers, 384 hidden, 12 heads)
MINILM_L6 = {
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "vocab_size": 30522,
    "max_position_embeddings": 512,
}
TINY = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "vocab_size": 0,  # = the vocabulary's size
    "max_position_embeddings": 128,
}


def write_vocab(path: Path, size: int = 0) -> list[str]:
    """Special tokens, characters, '##' continuations, words; padded to `size` if given."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens = SPECIAL + chars + [f"##{c}" for c in chars] + WORDS
    tokens += [f"[unused{i}]" for i in range(max(0, size - len(tokens)))]
    path.write_text("\n".join(tokens) + "\n")
    return tokens


def build_random_cross_encoder(
    folder: Path, shape: dict[str, int] | None = None, seed: int = 0
) -> Path:
    """Write a random-weight BertForSequenceClassification (1 label) + tokenizer to `folder`."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    dims: dict[str, Any] = dict(shape or TINY)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = write_vocab(folder / "vocab.txt", dims["vocab_size"])
    dims["vocab_size"] = len(tokens)
    torch.manual_seed(seed)
    config: Any = BertConfig(**dims)
    config.num_labels = 1
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    return folder
