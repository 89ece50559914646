import gzip
import subprocess
import sys
import itertools
import os
import json

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.detector as detector
from dedup import Detector, Document, Skipped, read_paths
from dedup.io import RecordFields, read_jsonl

from conftest import REWRITE, SOURCE, copies_corpus, news_text


def test_seeds_one_rewrite_with_source(seeds_dir):
    scan = Detector().scan(read_paths([seeds_dir]))
    pairs = [(m.a, m.b, m.relation, m.source) for m in scan]
    assert pairs == [(REWRITE, SOURCE, "rewrite", SOURCE)]
    assert scan.report.documents_scanned == 5 and scan.report.pairs == {"rewrite": 1}


def test_rewrite_candidates_need_enough_rare_stems_in_common(seeds_dir):
    # the seed rewrite shares dozens of rare stems; asking for more than it has drops the candidate
    found = [m.relation for m in Detector(rewrite_min_shared_stems=500).scan(read_paths([seeds_dir]))]
    assert found == []


def test_seed_rewrite_evidence_aligns_sentences(seeds_dir):
    det = Detector().fit((seeds_dir / name).read_text() for name in sorted(p.name for p in seeds_dir.iterdir()))
    m = det.compare((seeds_dir / REWRITE).read_text(), (seeds_dir / SOURCE).read_text())
    assert m.relation == "rewrite" and m.source == "b"
    assert any("Peskov" in p.a_text and "Peskov" in p.b_text for p in m.evidence)


def test_compare_without_a_corpus_tells_the_rewrite_from_same_story_coverage(seeds_dir):
    texts = {p.name: p.read_text() for p in sorted(seeds_dir.iterdir())}
    det = Detector()
    for a, b in itertools.combinations(sorted(texts), 2):
        m = det.compare(texts[a], texts[b], ids=(a, b))
        expected = ("rewrite", SOURCE) if (a, b) == (REWRITE, SOURCE) else (None, None)
        assert (m.relation, m.source) == expected, (a, b, m.scores)


def test_a_copy_disguised_or_mangled_in_its_characters_is_still_the_same_text(seeds_dir):
    source = (seeds_dir / SOURCE).read_text()
    rewrite = (seeds_dir / REWRITE).read_text()
    lookalikes = source.replace("a", "\u0430").replace("o", "\u03bf").replace("E", "\u0415")  # Cyrillic, Greek
    soft_hyphens = regex.sub(r"(\w{4})(\w{4})", "\\1\u00ad\\2", source)
    misread = rewrite.encode("utf-8").decode("cp1252", errors="dedup-cp1252")  # curly quotes mangled
    det = Detector()
    assert det.compare(source, lookalikes).relation == "exact"
    assert det.compare(source, soft_hyphens).relation == "exact"
    assert det.compare(rewrite, misread).relation == "exact"
    m = det.compare(misread, lookalikes, ids=(REWRITE, SOURCE))
    assert (m.relation, m.source) == ("rewrite", SOURCE)


def test_max_evidence_keeps_the_pairs_a_line_shows_and_nothing_else_changes(seeds_dir):
    docs = list(read_paths([seeds_dir])) + copies_corpus()
    full, kept = list(Detector().scan(docs)), list(Detector(max_evidence=2).scan(docs))
    assert [m.to_dict(2) for m in full] == [m.to_dict(2) for m in kept]
    assert max(len(m.evidence) for m in full) > 2 >= max(len(m.evidence) for m in kept)
    assert [(m.scores, m.relation, m.source) for m in full] == [(m.scores, m.relation, m.source) for m in kept]


def _result(docs, **kw):
    return [(m.a, m.b, m.relation, m.source, round(m.similarity, 9)) for m in Detector(**kw).scan(docs)]


def test_scan_finds_copies_and_ignores_unrelated():
    found = {(a, b): rel for a, b, rel, _, _ in _result(copies_corpus())}
    assert found == {("copy0", "doc0"): "exact", ("copy0", "edit0"): "near_duplicate",
                     ("doc0", "edit0"): "near_duplicate", ("doc1", "part1"): "partial"}


def test_a_short_excerpt_of_a_long_text_is_found_as_a_partial_copy():
    long_text = news_text(40, 24)
    excerpt = " ".join(long_text.split(". ")[10:12]) + "."  # two sentences: a tenth of the text
    docs = [Document(f"other{k}", news_text(100 + k, 12)) for k in range(30)]
    docs += [Document("long", long_text), Document("excerpt", excerpt)]
    (m,) = Detector().scan(docs)
    assert (m.a, m.b, m.relation, m.source) == ("excerpt", "long", "partial", "long")
    assert m.scores.jaccard < 0.15  # far below the copy channel's LSH threshold
    assert not list(Detector(rare_stem_min_words=40).scan(docs))


def test_pages_given_as_html_pair_by_their_articles_not_by_their_site_template():
    def page(site, title, article):
        menu = "".join(f'<li><a href="/{s}">{s.title()} news</a></li>' for s in ("world", "business", "sport"))
        paragraphs = "".join(f"<p>{p}.</p>" for p in article.rstrip(".").split(". "))
        return (f"<!DOCTYPE html><html><head><title>{title} | {site}</title><script>var ads = 1;</script></head>"
                f"<body><header><nav><ul>{menu}</ul></nav></header><article><h1>{title}</h1>{paragraphs}"
                f"</article><aside>{news_text(98, 4)}</aside><footer><p>About {site}: {news_text(99, 3)}</p>"
                f"</footer></body></html>")

    first, second = news_text(1, 6), news_text(2, 6)
    docs = [Document("a-1", page("Site A", "Markets rally", first)), Document("a-2", page("Site A", "Storm nears", second)),
            Document("b-1", page("Site B", "Markets rally again", first))]
    assert [(m.a, m.b, m.relation) for m in Detector().scan(docs)] == [("a-1", "b-1", "near_duplicate")]


def test_lists_of_other_stories_neither_hide_a_copy_nor_pair_two_articles_of_a_site():
    article = "\n".join(s + "." for s in news_text(1, 8).rstrip(".").split(". "))

    def page(text, site, seed):  # a page ends with its site's list of other headlines
        return f"{text}\nMore from {site}:\n" + "\n".join(h.rstrip(".") for h in news_text(seed, 10).split(". "))

    docs = [Document("a", page(article, "Site A", 200)), Document("b", page(article, "Site B", 300)),
            Document("c", page(news_text(2, 8), "Site A", 200))]
    # with the lists: the copy was a "rewrite" and the two articles of site A a "partial" copy
    assert [(m.a, m.b, m.relation) for m in Detector().scan(docs)] == [("a", "b", "near_duplicate")]


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_scan_output_does_not_depend_on_input_order(rnd):
    docs = copies_corpus()
    expected = _result(docs)
    rnd.shuffle(docs)
    assert _result(docs) == expected


def test_published_dates_decide_direction():
    text = news_text(9)
    docs = [Document("late", text + " Extra words appended here.", "2024-05-02"), Document("early", text, "2024-05-01")]
    (m,) = Detector().scan(docs)
    assert m.source == "early" and m.direction_basis == "published"


def test_dates_under_common_field_names_and_formats_decide_direction(tmp_path):
    text = news_text(9)
    path = tmp_path / "feed.jsonl"
    # RSS time 05:00 at UTC-4 is 09:00 UTC, after the Unix time's 07:00 UTC (before it, read naively)
    records = [{"id": "copy", "text": text + " Extra words appended here.", "pubDate": "Wed, 01 May 2024 05:00:00 -0400"},
               {"id": "wire", "text": text, "publishedAt": 1714546800}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (m,) = Detector().scan(read_jsonl(path))
    assert m.source == "wire" and m.direction_basis == "published"


def test_unreadable_dates_are_counted_and_direction_falls_back_to_the_texts():
    text = news_text(9)
    docs = [Document("long", text + " " + news_text(10), "sometime in May"), Document("excerpt", text, "2024-05-01")]
    scan = Detector().scan(docs)
    (m,) = scan
    assert m.relation == "partial" and m.source == "long" and m.direction_basis == "coverage"
    assert scan.report.unreadable_dates == 1 and "1 dates unreadable" in scan.report.summary()


def test_bad_inputs_are_counted_not_fatal():
    good = news_text(11)
    docs = [
        Document("empty", ""),
        Document("blank", "   \n\t  "),
        Document("binary", b"\x00\x01\x02\x03 binary"),
        Document("ctrl", "\x01\x02\x03\x04\x05" * 50),
        Document("short", "Too short."),
        Document("large", "word " * 300_000),
        Document("mixed", "Caf\xc3\xa9 ".encode("latin-1") + good.encode("utf-8") + b" It\x92s fine."),
        Document("good", good),
        Document("good", "a duplicate id"),
        ("tuple-only",),
        Skipped("x.jsonl:3", "malformed_json"),
    ]
    scan = Detector().scan(docs)
    pairs = [(m.a, m.b, m.relation) for m in scan]
    assert pairs == [("good", "mixed", "near_duplicate")]
    assert scan.report.skipped == {"empty": 2, "binary": 2, "too_short": 1, "duplicate_id": 1,
                                   "invalid_record": 1, "malformed_json": 1}
    assert scan.report.documents_read == 11 and scan.report.documents_scanned == 3  # good, mixed, large


def test_20mb_document_is_a_reported_skip_and_the_scan_goes_on():
    text = news_text(1)
    docs = [Document("big", "word " * 4_000_000), Document("ok", text), Document("ok2", text)]
    scan = Detector().scan(docs)
    assert [(m.a, m.b) for m in scan] == [("ok", "ok2")] and scan.report.skipped == {"too_large": 1}


def test_jsonl_reader_reports_bad_lines(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    lines = [json.dumps({"id": "a", "text": "hello", "published": "2020-01-01"}), "{not json", "[1, 2]",
             json.dumps({"id": "b"}), json.dumps({"text": "no id"}), "", json.dumps({"id": 7, "text": "num id"})]
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    out = list(read_jsonl(path))
    assert [type(x).__name__ for x in out] == ["Document", "Skipped", "Skipped", "Skipped", "Skipped", "Document"]
    assert [x.reason for x in out if isinstance(x, Skipped)] == ["malformed_json", "malformed_json",
                                                                   "missing_field", "missing_field"]
    assert out[0].published == "2020-01-01" and out[-1].id == "7"


def test_jsonl_lines_the_strict_parser_refuses_are_read_leniently(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "cp", "text": "It\x92s caf\xc3\xa9 time."}\n'  # cp1252 byte inside UTF-8
                     b'{"id": "nan", "text": "Score NaN.", "score": NaN}\n'
                     b'{"id": "big", "text": "Huge.", "n": 123456789012345678901234567890}\n')
    out = list(read_jsonl(path))
    assert [d.id for d in out] == ["cp", "nan", "big"]
    assert out[0].text == "It\u2019s caf\u00e9 time."


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    payload = gzip.compress(("\n".join(json.dumps({"id": str(i), "text": "t" * 50}) for i in range(2000))).encode())
    path.write_bytes(payload[: len(payload) // 2])
    out = list(read_jsonl(path))
    assert isinstance(out[-1], Skipped) and out[-1].reason == "unreadable"
    assert len(out) > 100 and all(isinstance(x, Document) for x in out[:-1])


def test_directory_reader_uses_relative_ids_and_skips_binary(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Hello.")
    (tmp_path / "b.bin").write_bytes(b"\x00\xff" * 100)
    (tmp_path / ".hidden").write_text("ignored")
    out = list(read_paths([tmp_path, tmp_path / "missing"]))
    assert [(x.id, type(x).__name__) for x in out] == [("b.bin", "Skipped"), ("sub/a.txt", "Document"),
                                                        (str(tmp_path / "missing"), "Skipped")]


def test_json_lines_shards_in_a_directory_give_their_records(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "page.txt").write_text("A page of its own.")
    (tmp_path / "part-1.jsonl").write_text('{"id": "r1", "text": "First record.", "date": "2024-03-05"}\n')
    with gzip.open(tmp_path / "sub" / "part-2.jsonl.gz", "wt") as f:
        f.write('{"id": "r2", "text": "Second record."}\n{not json\n')
    out = list(read_paths([tmp_path]))
    assert [(x.id, type(x).__name__) for x in out] == [("page.txt", "Document"), ("r1", "Document"),
                                                        ("r2", "Document"), ("sub/part-2.jsonl.gz:2", "Skipped")]
    assert out[1].text == "First record." and out[1].published == "2024-03-05"
    assert out[3].reason == "malformed_json"


def test_records_of_common_scrapers_and_json_files_are_read(tmp_path):
    (tmp_path / "sub").mkdir()
    # news-please writes one JSON object per article: no id, its text under "maintext"
    (tmp_path / "sub" / "article.json").write_text(json.dumps(
        {"title": "Rates rise", "maintext": "The bank raised rates.", "date_publish": "2024-03-05 10:00:00"}))
    (tmp_path / "batch.json").write_text(json.dumps([{"url": "https://a.example/1", "content": "First."},
                                                     {"id": "two", "body": "Second."}, ["not a record"]]))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "feed.jsonl").write_text(json.dumps({"url": "https://b.example/x", "maintext": "Third."}) + "\n")
    out = list(read_paths([tmp_path]))
    assert [(x.id, type(x).__name__) for x in out] == [
        ("https://a.example/1", "Document"), ("two", "Document"), ("batch.json[2]", "Skipped"),
        ("broken.json", "Skipped"), ("https://b.example/x", "Document"), ("sub/article.json", "Document")]
    assert out[-1].text == "The bank raised rates." and out[-1].published == "2024-03-05 10:00:00"
    assert [x.reason for x in out if isinstance(x, Skipped)] == ["malformed_json", "malformed_json"]
    titled = list(read_paths([tmp_path / "sub"], RecordFields(title="title")))
    assert titled[0].text == "Rates rise\nThe bank raised rates."


@pytest.mark.parametrize("stamp, day", [
    ("Published: Tue, March 5, 2024 10:32 AM ET", "2024-03-05"), ("Posted on 2024-03-05T08:00:00Z", "2024-03-05"),
    ("First published 5 Mar. 2024", "2024-03-05"), ("  PUBLISHED Sept. 12, 2023", "2023-09-12"),
    ("Updated March 6, 2024", None), ("Published 3 hours ago", None), ("Published Mar 45, 2024", None),
    ("Published accounts show a loss of $5m on March 5, 2024.", None)])
def test_a_text_pages_publication_stamp_gives_its_day(stamp, day):
    from dedup.io import text_published

    assert text_published(f"Headline\nBy Jane Doe\n{stamp}\nThe bank raised rates on Tuesday.") == day
    assert text_published("\n".join(["Menu line"] * 15 + [stamp])) is None  # only near the top


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=14), st.integers(1, 4))
def test_copies_count_once_in_document_frequencies_of_a_scan_a_fit_and_a_stream(picks, batch_size):
    texts = [news_text(40 + k, 6) for k in range(6)]
    docs = [Document(f"d{i}", texts[k]) for i, k in enumerate(picks)]
    scanned = Detector(batch_size=batch_size)
    list(scanned.scan(docs))  # copies fall in one batch or in different ones
    alone = Detector().fit(texts[k] for k in sorted(set(picks)))
    fitted = Detector().fit(d.text for d in docs)
    assert scanned.document_frequency.n_docs == fitted.document_frequency.n_docs == len(set(picks))
    assert np.array_equal(scanned.document_frequency.counts, alone.document_frequency.counts)
    assert np.array_equal(fitted.document_frequency.counts, alone.document_frequency.counts)
    # a stream learning its weights folds blocks of batch_size documents (at most 16 at first)
    streamed = docs + [Document(f"e{i}", news_text(60 + i, 6)) for i in range(16)]
    index = Detector(batch_size=batch_size).stream()
    index.add_many(streamed)
    folded = len(streamed) - len(streamed) % batch_size
    assert index.document_frequency.n_docs == len({d.text for d in streamed[:folded]})


def test_a_source_copied_in_the_corpus_is_still_named_the_rewrites_source(seeds_dir):
    # two more copies made the source's words look common: its direction was lost (asymmetry 0.093)
    copies = [Document(f"copy{k}.txt", (seeds_dir / SOURCE).read_text()) for k in range(2)]
    found = {(m.a, m.b): (m.relation, m.source) for m in Detector().scan(list(read_paths([seeds_dir])) + copies)}
    assert found[(REWRITE, SOURCE)] == ("rewrite", SOURCE)
    assert found[(REWRITE, "copy0.txt")] == ("rewrite", "copy0.txt")


def test_char_shingles_configuration_works():
    found = {(a, b): rel for a, b, rel, _, _ in _result(copies_corpus(), shingle_kind="char", shingle_size=7)}
    assert found[("copy0", "doc0")] == "exact" and found[("doc0", "edit0")] == "near_duplicate"
    assert found[("copy0", "edit0")] == "near_duplicate"


def test_config_is_validated():
    with pytest.raises(ValueError, match="lsh_threshold"):
        Detector(lsh_threshold=1.5)
    with pytest.raises(ValueError, match="sentence_min_shared_words"):
        Detector(sentence_min_shared_words=-1)


def _bigger_corpus():
    docs = copies_corpus()
    for i in range(12, 400):
        docs.append(Document(f"n{i}", news_text(i, 6)))
    return docs


def test_workers_and_out_of_core_give_the_same_output(tmp_path):
    expected = _result(_bigger_corpus(), batch_size=64)
    assert len(expected) >= 3
    assert _result(_bigger_corpus(), batch_size=64, workers=2, temp_dir=str(tmp_path)) == expected
    assert _result(_bigger_corpus(), batch_size=64, out_of_core=True, temp_dir=str(tmp_path)) == expected
    # out of core with workers: they read band keys from the main process's spill file
    assert _result(_bigger_corpus(), batch_size=64, out_of_core=True, workers=2, temp_dir=str(tmp_path)) == expected
    assert list(tmp_path.iterdir()) == []  # spool, sketch and frequency files are gone with the scan


def test_bands_grouped_into_tasks_or_one_a_task_give_the_same_output(monkeypatch):
    # a small corpus sends many bands a task; a large one, one band a task
    grouped = [_result(_bigger_corpus(), batch_size=64, **kw) for kw in ({}, {"out_of_core": True})]
    assert len(grouped[0]) >= 3
    monkeypatch.setattr(detector, "_KEYS_PER_BAND_TASK", 1)
    for kw, expected in zip(({}, {"out_of_core": True}), grouped):
        assert _result(_bigger_corpus(), batch_size=64, **kw) == expected


def test_out_of_core_judges_band_pairs_by_cells_of_rows_with_the_same_output(monkeypatch, tmp_path):
    expected = _result(_bigger_corpus(), batch_size=64)
    monkeypatch.setattr(detector, "_CELL_BLOCK_BYTES", 256 * 16)  # blocks of 32 and 16 rows: many cells
    cells = []
    tasks = detector._CellSpill.tasks
    monkeypatch.setattr(detector._CellSpill, "tasks", lambda self: (cells.append(t) or t for t in tasks(self)))
    for workers in (1, 2):
        assert _result(_bigger_corpus(), batch_size=64, out_of_core=True, workers=workers, temp_dir=str(tmp_path)) == expected
    assert len({(c.channel, c.blocks) for c in cells}) > 10
    assert {c.channel for c in cells} == {"copy", "rewrite"}
    assert any(c.blocks[0] != c.blocks[1] for c in cells) and any(c.blocks[0] == c.blocks[1] for c in cells)
    assert list(tmp_path.iterdir()) == []


def test_a_worker_killed_mid_scan_ends_it_with_an_error_not_a_hang(monkeypatch):
    import os
    import signal

    from dedup import WorkerDied, parallel

    sign = parallel.STEPS["sign"]

    def sign_or_die(records):  # as the out-of-memory killer would
        if any(doc_id == "doomed" for doc_id, _, _ in records):
            os.kill(os.getpid(), signal.SIGKILL)
        return sign(records)

    monkeypatch.setitem(parallel.STEPS, "sign", sign_or_die)  # workers fork after this
    docs = [Document(f"d{i}", news_text(i)) for i in range(8)] + [Document("doomed", news_text(99))]
    scan = Detector(workers=2, batch_size=2).scan(docs)
    def hung(*_):
        raise TimeoutError("the scan waited for a dead worker")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(WorkerDied, match="'sign' step"):
            list(scan)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert scan.report.interrupted


FAULTS_OF_REPEATED_BATCHES = """
import resource, sys
import numpy as np
from dedup.parallel import keep_freed_buffers
if sys.argv[1] == "keep":
    keep_freed_buffers()
for i in range(21):
    if i == 1:  # the first batch may fault its memory in
        start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones(1 << 20)  # 8 MB, like one batch's token arrays
    b = a * 2
    del a, b
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_kept_buffers_are_reused_without_page_faults():
    faults = {mode: int(subprocess.run([sys.executable, "-c", FAULTS_OF_REPEATED_BATCHES, mode], capture_output=True,
                                       text=True, check=True).stdout) for mode in ("keep", "default")}
    if faults["default"] < 2_000:  # huge pages make mapping anew cheap: nothing to tell apart
        pytest.skip(f"{faults['default']} page faults with the default allocator settings")
    assert faults["keep"] * 4 < faults["default"]


def test_a_footer_that_pages_share_is_not_a_rewrite():
    # a site's own prose under every page: aligned sentence for sentence, verbatim, in one block
    footer = (" The Daily Ledger is an independent newsroom founded in Leeds in 1998 by three reporters."
              " Our correspondents cover politics, business, technology and culture across northern England."
              " Subscribers receive the morning briefing and the weekend magazine every Saturday."
              " Write to the newsroom editors to share a story, a correction or a complaint.")
    # stories in words (and stems) of their own: the generator's small vocabulary would align
    # sentences by chance
    pages = [Document(f"page{i}", regex.sub(r"\b(?=\w)", "xyzw"[i % 4] * (1 + i // 4), news_text(i, 6)) + footer)
             for i in range(6)]
    assert list(Detector().scan(pages)) == []
    # the same pages, one of which rewrote another around the footer, still pair
    source = pages[0].text[: -len(footer)].split(". ")
    rewritten = ". ".join(s.replace(s.split()[0], "Reportedly " + s.split()[0].lower(), 1) for s in source)
    found = list(Detector().scan(pages + [Document("rewrite", rewritten + footer)]))
    assert [(m.a, m.b) for m in found] == [("page0", "rewrite")] and found[0].relation != "exact"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="process ids and owners of Unix")
def test_scratch_left_by_a_killed_scan_is_removed_by_the_next(tmp_path):
    from dedup import parallel

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # a process id that no longer exists, as a killed scan's
    host = parallel._HOST
    orphan = tmp_path / f"dedup-{finished.pid}-{host}-x1y2"
    orphan.mkdir()
    (orphan / "texts-spool").write_bytes(b"x" * 1000)
    alive = tmp_path / f"dedup-{os.getpid()}-{host}-a1b2"  # a scan still running here
    other_host = tmp_path / f"dedup-{finished.pid}-{'0' * 8 if host != '0' * 8 else '1' * 8}-c3d4"  # sharing the directory
    unrelated = tmp_path / "dedup-notes"
    for kept in (alive, other_host, unrelated):
        kept.mkdir()
    scan = Detector(temp_dir=str(tmp_path)).scan([Document(f"d{i}", news_text(i)) for i in range(4)])
    list(scan)
    assert scan.report.orphaned_scratch_removed == 1 and "removed 1 temporary" in scan.report.summary()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other_host.name, unrelated.name])
