"""Plain result types shared by the stages and the public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from dedup.quotes import is_shared_quotation

Relation = Literal["exact", "near_duplicate", "partial", "rewrite"]
RELATIONS: tuple[Relation, ...] = ("exact", "near_duplicate", "partial", "rewrite")


class Document(NamedTuple):
    """One input document. ``published`` (a datetime or ISO date string) decides direction when given."""

    id: str
    text: str
    published: datetime | str | None = None
    url: str | None = None


def as_document(item) -> Document:
    """A Document from a Document, an (id, text[, published[, url]]) tuple or a dict with 'id' and 'text'."""
    if isinstance(item, tuple) and 2 <= len(item) <= 4:
        doc = Document(*item)
        return doc if isinstance(doc.id, str) else doc._replace(id=str(doc.id))
    if isinstance(item, dict) and "id" in item and "text" in item:
        return Document(str(item["id"]), item["text"], item.get("published"), item.get("url"))
    raise TypeError("expected Document, (id, text[, published[, url]]) or a dict with 'id' and 'text'")


@dataclass(frozen=True)
class Skipped:
    """An input record that was not scanned, and why (counted in the scan report)."""

    id: str
    reason: str
    detail: str = ""


class DocumentSkipped(ValueError):
    """A document that an index as it grows (:class:`~dedup.stream.StreamIndex`) cannot take; ``skipped`` says why."""

    def __init__(self, skipped: Skipped):
        super().__init__(f"{skipped.id}: {skipped.reason}" + (f" ({skipped.detail})" if skipped.detail else ""))
        self.skipped = skipped


class SentencePair(NamedTuple):
    """Evidence: a sentence of ``a`` that corresponds to a sentence of ``b``. A tuple: a scan makes
    millions, and tuples are cheaper to create and to send between processes."""

    a_index: int
    b_index: int
    a_text: str
    b_text: str
    similarity: float


@dataclass(frozen=True)
class Scores:
    jaccard: float  # shingle-set Jaccard
    containment_a: float  # share of a's shingles found in b
    containment_b: float
    alignment_a: float  # similarity-weighted share of a covered by aligned sentences
    alignment_b: float
    aligned_sentences: int


@dataclass(frozen=True)
class Match:
    """A related pair. ``source`` is ``a``'s or ``b``'s id, or None when direction cannot be told."""

    a: str
    b: str
    relation: Relation | None
    similarity: float
    source: str | None
    scores: Scores
    evidence: tuple[SentencePair, ...] = ()
    direction_basis: str | None = None  # "published", "coverage" or None

    def to_dict(self, max_examples: int = 3) -> dict:
        s = self.scores
        return {
            "a": self.a,
            "b": self.b,
            "relation": self.relation,
            "similarity": round(self.similarity, 4),
            "source": self.source,
            "direction_basis": self.direction_basis,
            "evidence": {
                "aligned_sentences": s.aligned_sentences,
                "jaccard": round(s.jaccard, 4),
                "containment": [round(s.containment_a, 4), round(s.containment_b, 4)],
                "alignment_coverage": [round(s.alignment_a, 4), round(s.alignment_b, 4)],
                "examples": [
                    {"a": _clip(p.a_text), "b": _clip(p.b_text), "similarity": round(p.similarity, 3),
                     **({"quotation": True} if quotation else {})}
                    for p, quotation in self.examples(max_examples)
                ],
            },
        }

    def examples(self, n: int) -> list[tuple[SentencePair, bool]]:
        """The ``n`` evidence pairs shown first, each with whether it is a shared quotation: the most
        similar; for a rewrite, those that show rewriting first, since two quotations of a speaker do
        not (flagged)."""
        ranked = sorted(self.evidence, key=lambda p: -p.similarity)
        if self.relation != "rewrite":
            return [(p, False) for p in ranked[:n]]
        shown, quotations = [], []
        for p in ranked:
            if len(shown) == n:
                break
            (quotations if is_shared_quotation(p.a_text, p.b_text) else shown).append(p)
        return [(p, False) for p in shown] + [(p, True) for p in quotations[: n - len(shown)]]


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ScanReport:
    """Counts for one scan: filled while the scan runs, complete when it ends."""

    documents_read: int = 0
    documents_scanned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[Skipped] = field(default_factory=list)
    unreadable_dates: int = 0  # documents whose publication date was given but could not be read
    orphaned_scratch_removed: int = 0  # temporary directories that killed scans had left behind
    candidates: int = 0
    pairs: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False

    def skip(self, item: Skipped, keep_examples: int = 20) -> None:
        self.skipped[item.reason] = self.skipped.get(item.reason, 0) + 1
        if len(self.skipped_examples) < keep_examples:
            self.skipped_examples.append(item)

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items()))
        pairs = ", ".join(f"{k}: {self.pairs.get(k, 0)}" for k in RELATIONS)
        dates = f"{self.unreadable_dates} dates unreadable (direction from the texts); " if self.unreadable_dates else ""
        text = (
            f"read {self.documents_read} documents, scanned {self.documents_scanned}, "
            f"skipped {skipped}{f' ({reasons})' if reasons else ''}; {dates}"
            f"{self.candidates} candidate pairs; pairs found: {pairs}; {self.seconds:.2f}s"
        )
        if self.orphaned_scratch_removed:
            n = self.orphaned_scratch_removed
            text += f" (removed {n} temporary director{'y' if n == 1 else 'ies'} left by killed scans)"
        return text + (" (interrupted: partial results)" if self.interrupted else "")


@dataclass(frozen=True)
class Cluster:
    members: tuple[str, ...]
    source: str | None  # the original, when the pairs' directions or dates name one
