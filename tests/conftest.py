from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REWRITE, SOURCE = "000_b3b0cbf53a77d76b.txt", "001_553b5a0a8bbf534b.txt"


def news_text(seed: int, n_sentences: int = 12) -> str:
    """A deterministic news-like text: distinct sentences of varied words."""
    import random

    rng = random.Random(seed)
    syllables = ("al", "bre", "cor", "dun", "eth", "fal", "gor", "hin", "ist", "jor", "kel", "lum")
    words = [a + b + c for a in syllables for b in syllables for c in ("ba", "ce", "di", "fo", "gu", "hy")]
    sentences = []
    for _ in range(n_sentences):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(12, 20)))
        sentences.append(body.capitalize() + ".")
    return " ".join(sentences)


def copies_corpus():
    """Eight unrelated texts, an exact copy, an edited copy and a partial copy."""
    from dedup import Document

    base = [news_text(i) for i in range(8)]
    sentences = base[0].split(". ")
    docs = [Document(f"doc{i}", t) for i, t in enumerate(base)]
    docs.append(Document("copy0", base[0]))
    docs.append(Document("edit0", ". ".join(s if i % 5 else s + " indeed" for i, s in enumerate(sentences))))
    docs.append(Document("part1", ". ".join(base[1].split(". ")[:6]) + ". " + news_text(50, 4)))
    return docs


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS
