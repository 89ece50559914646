"""The benchmark harness's own logic: the generator is seeded, planted pairs are scored right, and
repeated runs are summarised by their median."""

import json

from benchmarks.generate import write_corpus
from benchmarks.perf import _median_run, _planted_scores
from benchmarks.quality import EXCERPT_SHARES, PASSAGE_PARAGRAPHS, excerpt_recall, passage_relations, relation_agreement
from dedup import DedupConfig, Detector
from dedup.io import read_paths

from conftest import news_text


def test_generator_is_seeded(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_corpus(tmp_path / name, 60, seed)
    a, b, c = ((tmp_path / name).read_bytes() for name in "abc")
    assert a == b and a != c
    assert (tmp_path / "a.labels.jsonl").read_bytes() == (tmp_path / "b.labels.jsonl").read_bytes()


def test_scan_of_generated_corpus_finds_planted_near_duplicates(tmp_path):
    corpus = tmp_path / "news.jsonl"
    labels = write_corpus(corpus, 400, seed=1, words=200)
    pairs = tmp_path / "pairs.jsonl"
    with pairs.open("w") as out:
        for m in Detector().scan(read_paths([str(corpus)])):
            out.write(json.dumps({"a": m.a, "b": m.b}) + "\n")
    scores = _planted_scores(pairs, labels)
    assert scores["pairs"] > 0
    assert scores["near_duplicate_recall"] == 1.0 and scores["precision"] == 1.0
    # a pair between unrelated documents counts against precision
    with pairs.open("a") as out:
        out.write(json.dumps({"a": "no-such-a", "b": "no-such-b"}) + "\n")
    assert _planted_scores(pairs, labels)["precision"] < 1.0


def test_relation_agreement_accounts_for_every_planted_pair(tmp_path):
    corpus = tmp_path / "news.jsonl"
    labels = [json.loads(line) for line in write_corpus(corpus, 400, seed=2, words=200).open()]
    result = relation_agreement(corpus, DedupConfig())
    planted = {}
    for lab in labels:
        planted[lab["kind"]] = planted.get(lab["kind"], 0) + 1
    assert {kind: sum(counts.values()) for kind, counts in result["reported_by_kind"].items()} == planted
    assert result["reported_by_kind"]["exact"] == {"exact": planted["exact"]}
    assert result["reported_by_kind"]["rewrite"].get("rewrite", 0) >= 0.9 * planted["rewrite"]


def test_excerpt_recall_plants_every_share_and_finds_half_articles_with_their_source(tmp_path):
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"doc{k}", "text": news_text(k, 30)}) + "\n" for k in range(40)))
    result = excerpt_recall(corpus, DedupConfig(), articles=5)
    assert sorted(result) == list(EXCERPT_SHARES)
    assert all(r["planted"] == 5 for r in result.values())
    assert result[0.5]["found"] == result[0.5]["source_named"] == 5


def test_passage_relations_account_for_every_planted_passage(tmp_path):
    corpus = tmp_path / "articles.jsonl"
    articles = ["\n\n".join(news_text(100 * k + i, 2) for i in range(14)) for k in range(30)]
    corpus.write_text("".join(json.dumps({"id": f"doc{k}", "text": t}) + "\n" for k, t in enumerate(articles)))
    result = passage_relations(corpus, DedupConfig(), articles=12)
    assert sorted(result) == list(PASSAGE_PARAGRAPHS) and sum(r["planted"] for r in result.values()) == 12
    for r in result.values():
        assert sum(r["relation"].values()) == sum(r["source"].values()) <= r["planted"]
    # four paragraphs of eight sentences, set among eight others: found, as copied passages
    assert result[4]["relation"].get("partial", 0) == result[4]["planted"] > 0


def test_median_run_takes_median_time_and_highest_memory():
    runs = [{"wall_s": t, "peak_memory_mb": m, "peak_anon_memory_mb": m / 2, "summary": str(t)}
            for t, m in ((3.0, 100), (1.0, 300), (2.0, 200))]
    row = _median_run(runs)
    assert row["wall_s"] == 2.0 and row["summary"] == "2.0"
    assert row["peak_memory_mb"] == 300 and row["peak_anon_memory_mb"] == 150
    assert row["runs_wall_s"] == [3.0, 1.0, 2.0]
