import functools
import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import DedupConfig, Detector, Document, DocumentSkipped, StreamIndex
from dedup.index import GrowingBuckets

from conftest import REWRITE, SEEDS, SOURCE, copies_corpus, news_text


def _pairs(matches):
    return {(m.a, m.b): (m.relation, m.source, round(m.similarity, 9)) for m in matches}


def _seed_docs(seeds_dir):
    return [Document(p.name, p.read_text()) for p in sorted(seeds_dir.iterdir())]


def test_each_new_document_is_paired_with_the_earlier_ones():
    index = Detector().stream()
    found = {doc.id: [(m.a, m.b, m.relation) for m in index.add(doc.id, doc.text)] for doc in copies_corpus()}
    assert found["doc0"] == [] and found["doc1"] == []
    assert found["copy0"] == [("copy0", "doc0", "exact")]
    assert found["edit0"] == [("copy0", "edit0", "near_duplicate"), ("doc0", "edit0", "near_duplicate")]
    assert found["part1"] == [("doc1", "part1", "partial")]
    assert index.report.pairs == {"exact": 1, "near_duplicate": 2, "partial": 1}
    assert len(index) == index.report.documents_scanned == len(copies_corpus())


@functools.lru_cache(maxsize=1)
def _scanned():
    """A detector that has scanned the seeds and the copies corpus with a third copy of one text,
    the documents, and the scan's pairs."""
    docs = _seed_docs(SEEDS) + copies_corpus()
    docs.append(Document("copy0b", docs[-3].text))
    det = Detector()
    return det, docs, _pairs(det.scan(docs))


def _groups(pairs):
    """The connected components of pairs."""
    group = {}
    for a, b in pairs:
        merged = group.get(a, {a}) | group.get(b, {b})
        for member in merged:
            group[member] = merged
    return {frozenset(g) for g in group.values()}


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_with_a_scans_weights_a_stream_finds_the_scans_pairs_in_any_order(rnd):
    det, docs, expected = _scanned()
    assert expected[(REWRITE, SOURCE)][:2] == ("rewrite", SOURCE)
    docs = list(docs)
    rnd.shuffle(docs)
    index = det.stream()
    found = _pairs(itertools.chain.from_iterable(index.add(d.id, d.text) for d in docs))
    # copies of one text are linked to the first to arrive, in a scan to the least id: the same groups
    exact, expected_exact = ([k for k, v in pairs.items() if v[0] == "exact"] for pairs in (found, expected))
    assert _groups(exact) == _groups(expected_exact) == {frozenset({"doc0", "copy0", "copy0b"})}
    first = next(d.id for d in docs if d.id in ("doc0", "copy0", "copy0b"))
    assert len(exact) == 2 and all(first in pair for pair in exact)
    others = {k: v for k, v in found.items() if v[0] != "exact"}
    assert others == {k: v for k, v in expected.items() if v[0] != "exact"} and len(others) == 5


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(5)))
def test_without_weights_the_seeds_rewrite_is_found_in_any_order(order):
    docs = [_seed_docs(SEEDS)[k] for k in order]
    index = StreamIndex()
    found = [(d.id, m.a, m.b, m.relation, m.source) for d in docs for m in index.add(d.id, d.text)]
    arrives_second = max((REWRITE, SOURCE), key=[d.id for d in docs].index)
    assert found == [(arrives_second, REWRITE, SOURCE, "rewrite", SOURCE)]
    assert index.document_frequency.n_docs == 0  # the first block of 16 documents is not complete


def test_learnt_weights_come_from_the_blocks_before_a_document():
    index = StreamIndex(DedupConfig(batch_size=4))
    index.add_many(copies_corpus()[:6])
    assert index.document_frequency.n_docs == 4  # one block of four; the next two wait for theirs
    index.add_many(copies_corpus()[6:8])
    assert index.document_frequency.n_docs == 8


def test_query_checks_a_text_without_adding_it():
    docs = copies_corpus()
    index = Detector().stream()
    for d in docs[:8]:
        index.add(d.id, d.text)
    (m,) = index.query(docs[8].text, doc_id="incoming")
    assert (m.a, m.b, m.relation) == ("doc0", "incoming", "exact")
    assert len(index) == 8 and index.report.documents_read == 8
    assert [m.relation for m in index.query(docs[8].text)] == ["exact"]  # still not added
    with pytest.raises(ValueError, match="doc3"):
        index.query(docs[3].text, doc_id="doc3")


def test_dates_name_the_source():
    text = news_text(9)
    index = Detector().stream()
    index.add("late", text + " More.", published="2024-03-02")
    (m,) = index.add("early", text, published="2024-03-01T08:00:00Z")
    assert (m.source, m.direction_basis) == ("early", "published")
    index.add("undated", news_text(10), published="last Tuesday")
    assert index.report.unreadable_dates == 1


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("Too short.", "too_short"), ("\x00\x01binary", "binary"), (b"\x00\xff\xfe", "binary"),
])
def test_documents_a_scan_would_skip_raise_and_are_counted(text, reason):
    index = Detector().stream()
    with pytest.raises(DocumentSkipped) as caught:
        index.add("bad", text)
    assert caught.value.skipped.reason == reason
    assert index.report.skipped == {reason: 1} and len(index) == 0
    index.add("bad", news_text(1))  # the id was not taken
    assert len(index) == 1


def test_a_repeated_id_raises_and_leaves_the_index_as_it_was():
    index = Detector().stream()
    index.add("x", news_text(1))
    with pytest.raises(DocumentSkipped, match="duplicate_id"):
        index.add("x", news_text(1))
    assert len(index) == 1 and index.report.skipped == {"duplicate_id": 1} and index.report.pairs == {}


def test_a_bucket_larger_than_the_cap_gives_its_newest_members():
    buckets = GrowingBuckets()
    for doc in range(5000):  # several sorted runs and fresh keys
        buckets.add(np.array([doc]), np.array([[42 if doc % 7 == 0 else doc + 1000]], np.uint64))
    key = np.array([[42]], np.uint64)
    assert buckets.members(key, 3, before=np.array([5000]))[:, 1].tolist() == [4984, 4991, 4998]
    assert buckets.members(key, 3, before=np.array([4990]))[:, 1].tolist() == [4970, 4977, 4984]
    assert len(buckets.members(key, 10_000, before=np.array([5000]))) == len(range(0, 5000, 7))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3, unique=True), max_size=300),
       st.lists(st.tuples(st.lists(st.integers(0, 45), min_size=3, max_size=3), st.integers(0, 300)), max_size=4),
       st.integers(1, 5))
def test_growing_buckets_find_what_a_dict_of_lists_finds(adds, queries, cap):
    original, GrowingBuckets._FRESH_KEYS = GrowingBuckets._FRESH_KEYS, 16  # many runs and merges from few keys
    try:
        buckets, model = GrowingBuckets(), {}
        for lo in range(0, len(adds), 7):  # batches of documents
            docs = np.arange(lo, min(lo + 7, len(adds)))
            buckets.add(docs, np.array(adds[lo : lo + 7], np.uint64).reshape(-1, 3))
            for doc in docs.tolist():
                for k in adds[doc]:
                    model.setdefault(k, []).append(doc)
        keys = np.array([q for q, _ in queries], np.uint64).reshape(-1, 3)
        before = np.array([b for _, b in queries], np.int64)
        expected = sorted({(row, d) for row, (q, b) in enumerate(queries) for k in q
                           for d in [d for d in model.get(k, []) if d < b][-cap:]})
        assert [tuple(p) for p in buckets.members(keys, cap, before).tolist()] == expected
    finally:
        GrowingBuckets._FRESH_KEYS = original


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 20), st.booleans())
def test_add_many_is_add_of_each_in_turn(rnd, batch, learnt):
    det, docs, _ = _scanned()
    docs = list(docs) + [Document("copy0c", docs[-1].text), ("bad", b"\x00binary"), ("doc0", "repeated id " * 5)]
    rnd.shuffle(docs)
    if learnt:  # weights learnt a block of 3 documents at a time, however the calls cut the stream
        det = Detector(batch_size=3)
    one_by_one, batched = det.stream(), det.stream()
    expected = []
    for d in docs:
        try:
            expected += [(m.a, m.b, m.relation, m.source, m.similarity) for m in one_by_one.add(*d[:3])]
        except DocumentSkipped:
            pass
    found = []
    for lo in range(0, len(docs), batch):
        found += [(m.a, m.b, m.relation, m.source, m.similarity) for m in batched.add_many(docs[lo : lo + batch])]
    assert found == expected and len(found) >= 7  # 8 when the real doc0 comes before the repeated id
    assert batched.report.skipped == one_by_one.report.skipped == {"binary": 1, "duplicate_id": 1}
    assert batched.report.pairs == one_by_one.report.pairs and len(batched) == len(one_by_one)


def test_add_many_counts_records_it_cannot_read():
    index = Detector().stream()
    assert index.add_many([("a", news_text(1)), 42, {"id": "b"}, ("c", news_text(1))])[0].relation == "exact"
    assert index.report.skipped == {"invalid_record": 2} and index.report.documents_read == 4


def test_a_saved_index_goes_on_as_if_never_stopped(tmp_path):
    docs = copies_corpus()
    whole = Detector().stream()
    expected = whole.add_many(docs)
    first = Detector().stream()
    before = first.add_many(docs[:5])
    first.save(tmp_path / "feed.idx")
    assert list(tmp_path.iterdir()) == [tmp_path / "feed.idx"]  # no partial file left
    again = StreamIndex.load(tmp_path / "feed.idx")
    assert len(again) == 5 and before + again.add_many(docs[5:]) == expected
    (tmp_path / "garbage").write_bytes(b"not an index")
    with pytest.raises(pickle.UnpicklingError):
        StreamIndex.load(tmp_path / "garbage")
    (tmp_path / "other").write_bytes(pickle.dumps({"docs": []}))
    with pytest.raises(ValueError, match="not an index saved by this version"):
        StreamIndex.load(tmp_path / "other")
