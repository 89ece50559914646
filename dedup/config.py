"""Every tunable parameter of the pipeline, in one frozen dataclass.

>>> from dedup import DedupConfig
>>> cfg = DedupConfig()                       # defaults tuned for news articles
>>> cfg.shingle_size, cfg.num_perm
(5, 128)
>>> strict = cfg.replace(near_duplicate_jaccard=0.8)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DedupConfig:
    # shingle: what a document's set of features is
    shingle_kind: Literal["word", "char"] = "word"
    shingle_size: int = 5
    stem_length: int = 6  # content words are truncated to this many characters ("prefix stemming")

    # sign: MinHash (one-permutation hashing with optimal densification)
    num_perm: int = 128
    seed: int = 1

    # index: LSH over the copy signatures (shingles) and over the topic signatures (content stems)
    lsh_threshold: float = 0.3
    rewrite_num_perm: int = 256
    rewrite_lsh_threshold: float = 0.1
    # rewrite signatures use the content stems found in at most rare_stem_max_df(N) of N documents
    rare_stem_max_df_fraction: float = 0.02
    rare_stem_max_df_floor: int = 20
    rare_stem_max_df_cap: int = 1000
    # content words a text needs to be signed by its rare stems; short texts enter too, since this
    # channel also finds excerpts of long texts, whose shingle Jaccard is far below lsh_threshold
    rare_stem_min_words: int = 10
    lsh_weights: tuple[float, float] = (0.5, 0.5)  # false positive, false negative
    max_bucket_size: int = 64  # larger LSH buckets are linked as a chain, not all pairs
    # candidates are kept only if their full-signature estimate reaches one of these
    copy_min_estimate: float = 0.15
    rewrite_min_estimate: float = 0.07
    rewrite_min_shared_stems: float = 4.0  # rare stems in common, estimated from the Jaccard estimate

    # verify / relate
    near_duplicate_jaccard: float = 0.5
    partial_containment: float = 0.5
    # a copy whose aligned sentences cover each text this much is a whole copy edited throughout
    # (10% of words changed: coverage 0.66-0.88), not a copy of a part (a half: 0.32-0.54)
    edited_copy_coverage: float = 0.6
    sentence_similarity: float = 0.25  # min weighted Dice of two sentences' content stems to align them
    sentence_min_shared: int = 3  # and at least this many shared content stems
    sentence_min_shared_words: int = 2  # of them not numbers: table rows and rates are templates
    rewrite_score: float = 0.15  # min similarity-weighted share of a text covered by aligned sentences
    rewrite_min_sentences: int = 3
    # and their similarities sum to this or more: five sentences rewritten at about MSRP's paraphrase
    # point (0.39), or two copied whole; three sentences of two reports of one event, sharing a few
    # names and figures each (0.25-0.4), do not
    rewrite_min_similarity_sum: float = 2.0
    rewrite_min_words: int = 40  # content words in each text: short templated briefs are not rewrites
    # alignment reads at most this many sentences of a text (news has far fewer): two huge texts of
    # shuffled sentences took 12 GB and 46 s to align whole
    max_align_sentences: int = 1000
    direction_margin: float = 0.1  # min coverage asymmetry to name a source without dates
    # aligned sentence pairs a Match keeps as evidence, those it shows first (Match.examples); None:
    # all. A scan's workers send every Match to the main process: all of them cost it 15% of its time
    max_evidence: int | None = None
    detect_rewrites: bool = True

    # input hygiene
    min_tokens: int = 8
    max_doc_chars: int = 2_000_000  # news pages are far smaller; larger inputs are reported skips
    batch_size: int = 512
    workers: int = 1  # processes; 0 = one per core. Results are the same for any number.
    out_of_core: bool = False  # signatures and LSH band keys in temporary files, smaller chunks: less memory
    temp_dir: str | None = None  # where temporary files go (default: the system's)

    def __post_init__(self) -> None:
        checks = {
            "shingle_size >= 1": self.shingle_size >= 1,
            "num_perm >= 8": self.num_perm >= 8,
            "rewrite_num_perm >= 8": self.rewrite_num_perm >= 8,
            "0 < lsh_threshold < 1": 0 < self.lsh_threshold < 1,
            "0 < rewrite_lsh_threshold < 1": 0 < self.rewrite_lsh_threshold < 1,
            "0 < near_duplicate_jaccard <= 1": 0 < self.near_duplicate_jaccard <= 1,
            "0 < partial_containment <= 1": 0 < self.partial_containment <= 1,
            "0 < edited_copy_coverage <= 1": 0 < self.edited_copy_coverage <= 1,
            "0 < sentence_similarity <= 1": 0 < self.sentence_similarity <= 1,
            "0 < rewrite_score <= 1": 0 < self.rewrite_score <= 1,
            "rewrite_min_similarity_sum >= 0": self.rewrite_min_similarity_sum >= 0,
            "max_align_sentences >= 1": self.max_align_sentences >= 1,
            "max_bucket_size >= 2": self.max_bucket_size >= 2,
            "sentence_min_shared_words >= 0": self.sentence_min_shared_words >= 0,
            "rare_stem_max_df_cap >= rare_stem_max_df_floor": self.rare_stem_max_df_cap >= self.rare_stem_max_df_floor,
            "stem_length >= 3": self.stem_length >= 3,
            "batch_size >= 1": self.batch_size >= 1,
            "max_evidence is None or >= 0": self.max_evidence is None or self.max_evidence >= 0,
            "shingle_kind in ('word', 'char')": self.shingle_kind in ("word", "char"),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ValueError("invalid DedupConfig: " + ", ".join(failed))

    def replace(self, **changes) -> "DedupConfig":
        return dataclasses.replace(self, **changes)

    def rare_stem_max_df(self, n_docs: int) -> float:
        """The most documents a stem may be in and still count as rare among ``n_docs``: a share of
        the corpus, at least the floor (small corpora), at most the cap, so that chance collisions
        in the rewrite channel grow with the corpus and not with its square.

        >>> cfg = DedupConfig()
        >>> cfg.rare_stem_max_df(100), cfg.rare_stem_max_df(10_000), cfg.rare_stem_max_df(10**6)
        (20, 200.0, 1000)
        """
        return max(min(self.rare_stem_max_df_fraction * n_docs, self.rare_stem_max_df_cap),
                   self.rare_stem_max_df_floor)
