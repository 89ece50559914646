import errno
import json
import subprocess
import sys

import pytest

from dedup.cli import main

from conftest import REWRITE, SEEDS, SOURCE, news_text


def test_scan_seeds_prints_one_rewrite(capsys):
    assert main(["scan", str(SEEDS)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(d["a"], d["b"], d["relation"], d["source"]) for d in lines] == [(REWRITE, SOURCE, "rewrite", SOURCE)]
    assert 0 < lines[0]["similarity"] <= 1 and lines[0]["evidence"]["aligned_sentences"] >= 3
    assert "read 5 documents" in err and "rewrite: 1" in err


def test_scan_writes_output_and_clusters(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = news_text(1)
    for name in ("x.txt", "y.txt", "z.txt"):
        (corpus / name).write_text(text)
    (corpus / "w.txt").write_text(news_text(2))
    (corpus / "empty.txt").write_text("")
    out, clusters = tmp_path / "pairs.jsonl", tmp_path / "clusters.jsonl"
    assert main(["scan", str(corpus), "-o", str(out), "--clusters", str(clusters)]) == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(p["a"], p["b"], p["relation"]) for p in pairs] == [("x.txt", "y.txt", "exact"), ("x.txt", "z.txt", "exact")]
    assert [json.loads(line)["members"] for line in clusters.read_text().splitlines()] == [["x.txt", "y.txt", "z.txt"]]
    err = capsys.readouterr().err
    assert "skipped 1 (empty: 1)" in err and "skipped empty.txt: empty" in err


def test_scan_examples_sets_how_many_aligned_sentences_a_line_shows(capsys):
    assert main(["scan", str(SEEDS), "--examples", "1"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(["scan", str(SEEDS), "--examples", "5"]) == 0
    five = json.loads(capsys.readouterr().out)
    assert len(one["evidence"]["examples"]) == 1 and len(five["evidence"]["examples"]) == 5
    assert one["evidence"]["examples"] == five["evidence"]["examples"][:1]


def test_scan_writes_the_ids_a_deduplicated_corpus_leaves_out(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("x.txt", "y.txt", "z.txt"):
        (corpus / name).write_text(news_text(1))
    (corpus / "w.txt").write_text(news_text(2))
    (corpus / "part.txt").write_text(". ".join(news_text(2).split(". ")[:5]) + ".")  # a part of w
    drop = tmp_path / "drop.txt"
    assert main(["scan", str(corpus), "--drop", str(drop)]) == 0
    assert drop.read_text().split() == ["y.txt", "z.txt"]
    assert "2 ids to leave out" in capsys.readouterr().err
    assert main(["scan", str(corpus), "--drop", str(drop), "--drop-relations", "exact,partial"]) == 0
    assert drop.read_text().split() == ["part.txt", "y.txt", "z.txt"]
    with pytest.raises(SystemExit):
        main(["scan", str(corpus), "--drop", str(drop), "--drop-relations", "exact,copies"])


def test_scan_jsonl_with_custom_fields(tmp_path, capsys):
    path = tmp_path / "d.jsonl"
    text = news_text(4)
    rows = [{"key": "p", "body": text, "when": "2020-01-02"}, {"key": "q", "body": text + " More.", "when": "2020-01-01"},
            "garbage"]
    path.write_text("\n".join(json.dumps(r) if isinstance(r, dict) else r for r in rows) + "\n")
    assert main(["scan", str(path), "--id-field", "key", "--text-field", "body", "--date-field", "when"]) == 0
    out, err = capsys.readouterr()
    (pair,) = [json.loads(line) for line in out.splitlines()]
    assert pair["source"] == "q" and pair["relation"] == "near_duplicate"
    assert "malformed_json: 1" in err


def test_scan_jsonl_title_field_makes_the_headline_part_of_the_text(tmp_path, capsys):
    # two dividend notices with one text; the company is named only in the headline
    notice = "Qtly div 15 cts vs 15 cts prior\nPay April 1\nRecord March 15\nNote: payable in cash"
    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps({"id": k, "title": f"{name} sets quarterly dividend", "text": notice}) + "\n"
                            for k, name in (("1", "Acme Steel Works Inc"), ("2", "Borealis Mining Group Ltd"))))
    assert main(["scan", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["relation"] == "exact"
    assert main(["scan", str(path), "--title-field", "title"]) == 0
    pairs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(p["relation"] != "exact" for p in pairs)


def test_html_pages_take_their_publication_date_from_their_markup(tmp_path, capsys):
    article = "".join(f"<p>{p}.</p>" for p in news_text(5).rstrip(".").split(". "))
    meta = {"early.html": '<meta property="article:published_time" content="2024-03-05T08:00:00Z">',
            "late.html": '<script type="application/ld+json">{"datePublished": "2024-03-06T09:30:00Z"}</script>'}
    for name, date in meta.items():
        (tmp_path / name).write_text(f"<html><head>{date}<title>T</title></head><body><nav><a>Home</a></nav>"
                                     f"<article>{article}</article></body></html>")
    assert main(["scan", str(tmp_path)]) == 0
    pair = json.loads(capsys.readouterr().out)
    assert (pair["source"], pair["direction_basis"]) == ("early.html", "published")
    assert main(["compare", str(tmp_path / "late.html"), str(tmp_path / "early.html"), "--json"]) == 0
    pair = json.loads(capsys.readouterr().out)
    assert (pair["source"], pair["direction_basis"]) == ("b", "published")


def test_scraped_text_pages_take_their_publication_date_from_a_stamp_near_the_top(tmp_path, capsys):
    article = news_text(5)
    # the copy is the longer text: by coverage alone it would read as the source of an excerpt
    pages = {"copy.txt": f"Headline\nBy Jane Doe\nPublished: Wed, March 6, 2024 9:30 AM ET\n{article}\n{news_text(6, 4)}",
             "original.txt": f"Headline\nPosted on 2024-03-05T08:00:00Z\nUpdated March 7, 2024\n{article}"}
    for name, text in pages.items():
        (tmp_path / name).write_text(text)
    assert main(["scan", str(tmp_path)]) == 0
    pair = json.loads(capsys.readouterr().out)
    assert (pair["source"], pair["direction_basis"]) == ("original.txt", "published")
    # no stamp, or only an update: the texts decide
    (tmp_path / "original.txt").write_text(f"Headline\nUpdated March 7, 2024\n{article}")
    assert main(["scan", str(tmp_path)]) == 0
    pair = json.loads(capsys.readouterr().out)
    assert (pair["source"], pair["direction_basis"]) == ("copy.txt", "coverage")


def test_compare_readable_and_json(capsys):
    a, b = str(SEEDS / REWRITE), str(SEEDS / SOURCE)
    assert main(["compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "verdict: rewrite" in out and f"{a} was derived from {b}" in out and "corresponding sentences" in out
    assert main(["compare", a, b, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["relation"] == "rewrite" and d["source"] == "b" and d["a"] == "a"


def test_compare_unrelated_json_has_null_relation(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(news_text(1))
    (tmp_path / "b.txt").write_text(news_text(2))
    assert main(["compare", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["relation"] is None and d["source"] is None


def test_compare_marks_aligned_quotations_as_no_evidence_of_rewriting(tmp_path, capsys):
    quote = '"We will keep the plant open for as long as the orders keep coming in," Mr Hale said.'
    (tmp_path / "a.txt").write_text(news_text(1) + " " + quote)
    (tmp_path / "b.txt").write_text(news_text(2) + " " + quote)
    assert main(["compare", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]) == 0
    out = capsys.readouterr().out
    assert "verdict: unrelated" in out
    assert [line for line in out.splitlines() if "similarity 1.00" in line][0].endswith(
        "(both quotation: no evidence of rewriting)")


def test_a_full_disk_ends_the_scan_with_a_clear_error(tmp_path, capsys, monkeypatch):
    from dedup.store import BandKeyStore

    def full(self, keys):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BandKeyStore, "append", full)
    assert main(["scan", str(SEEDS), "--out-of-core", "--temp-dir", str(tmp_path), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "dedup scan: No space left on device" in err and "--temp-dir" in err
    assert "read 5 documents" in err  # the summary still comes
    assert not list(tmp_path.iterdir())  # and the temporary files are gone


def test_scan_out_of_core_flag(tmp_path, capsys):
    assert main(["scan", str(SEEDS), "--out-of-core", "--temp-dir", str(tmp_path), "--workers", "1"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["source"] == SOURCE


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "dedup.cli", "scan", str(SEEDS)], capture_output=True, text=True)
    assert result.returncode == 0 and REWRITE in result.stdout


def test_sigterm_ends_a_scan_with_what_it_found_written_whole(tmp_path, capsys, monkeypatch):
    import os
    import signal

    from dedup import pipeline

    # 300 copies of one text: 299 exact pairs (each to the first), verified in two chunks of at
    # most 256; SIGTERM arrives as the second starts
    corpus = tmp_path / "copies.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i:03}", "text": news_text(1)}) + "\n" for i in range(300)))
    verify_task, calls = pipeline.verify_task, []

    def verify_then_terminate(*args):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return verify_task(*args)

    monkeypatch.setattr(pipeline, "verify_task", verify_then_terminate)
    before = signal.getsignal(signal.SIGTERM)
    out, temp = tmp_path / "pairs.jsonl", tmp_path / "temp"
    temp.mkdir()
    code = main(["scan", str(corpus), "-o", str(out), "--workers", "1", "--temp-dir", str(temp)])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    lines = [json.loads(line) for line in out.read_text().splitlines()]  # every line whole
    assert 0 < len(lines) < 299 and all(d["relation"] == "exact" for d in lines)
    assert list(temp.iterdir()) == [] and signal.getsignal(signal.SIGTERM) is before


def test_stream_prints_each_pair_as_soon_as_its_second_document_arrives():
    import select

    proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", "stream", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for doc_id in ("wire", "site"):  # the same text twice; stdin stays open
            proc.stdin.write((json.dumps({"id": doc_id, "text": news_text(3)}) + "\n").encode())
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no pair printed while the stream is still open"
        pair = json.loads(proc.stdout.readline())
        assert (pair["a"], pair["b"], pair["relation"]) == ("site", "wire", "exact")
        proc.stdin.write(b"not json\n")
        proc.stdin.close()
        assert proc.wait(60) == 0 and proc.stdout.read() == b""
        err = proc.stderr.read().decode()
        assert "read 3 documents, scanned 2, skipped 1 (malformed_json: 1)" in err and "exact: 1" in err
    finally:
        proc.kill()


def test_stream_with_weights_from_a_corpus_finds_what_a_scan_of_it_finds(capsys):
    assert main(["scan", str(SEEDS)]) == 0
    (scanned,) = capsys.readouterr().out.splitlines()
    assert main(["stream", "--weights-from", str(SEEDS), str(SEEDS)]) == 0  # the option does not take the paths
    (streamed,) = capsys.readouterr().out.splitlines()
    assert json.loads(streamed) == json.loads(scanned)
    assert main(["stream", str(SEEDS)]) == 0  # weights learnt as the pages arrive: the same pair
    (learnt,) = capsys.readouterr().out.splitlines()
    assert (json.loads(learnt)["relation"], json.loads(learnt)["source"]) == ("rewrite", SOURCE)


def test_scan_reads_json_lines_from_stdin():
    lines = "".join(json.dumps({"id": i, "text": news_text(5)}) + "\n" for i in ("p", "q"))
    result = subprocess.run([sys.executable, "-m", "dedup.cli", "scan", "-"], input=lines, capture_output=True,
                            text=True)
    assert result.returncode == 0
    assert [(d["a"], d["b"], d["relation"]) for d in map(json.loads, result.stdout.splitlines())] == [("p", "q", "exact")]


def test_stream_from_a_pipe_or_a_file_gives_the_same_pairs(tmp_path, capsys):
    rows = [{"id": f"d{i}", "text": news_text(i % 7)} for i in range(40)] + [{"id": "edit", "text": news_text(2) + " Markets fell."}]
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    assert main(["stream", str(path)]) == 0
    from_file = capsys.readouterr()
    piped = subprocess.run([sys.executable, "-m", "dedup.cli", "stream", "-"], input=path.read_text(),
                           capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stdout == from_file.out
    pairs = [json.loads(line) for line in from_file.out.splitlines()]
    # 33 copies of 7 texts, each linked to the first with its text; the edit near every copy of d2's text
    assert [p["relation"] for p in pairs].count("exact") == 33
    assert sorted(p["a"] for p in pairs if p["b"] == "edit") == ["d16", "d2", "d23", "d30", "d37", "d9"]
    assert "skipped 1 (malformed_json: 1)" in piped.stderr and "skipped 1 (malformed_json: 1)" in from_file.err


def test_as_they_come_batches_what_has_arrived_and_raises_the_readers_error():
    from dedup.cli import _as_they_come

    assert sum(_as_they_come(iter(range(1000)), 64), []) == list(range(1000))
    assert max(map(len, _as_they_come(iter(range(1000)), 64))) <= 64

    def failing():
        yield 1
        raise OSError("disk gone")

    got = []
    try:
        for batch in _as_they_come(failing(), 8):
            got += batch
    except OSError as e:
        assert str(e) == "disk gone"
    else:
        raise AssertionError("the reader's error was not raised")
    assert got == [1]


def test_stream_index_file_carries_a_feed_over_runs(tmp_path, capsys):
    rows = [{"id": f"d{i}", "text": news_text(i % 3)} for i in range(6)]
    for name, part in (("monday.jsonl", rows[:3]), ("tuesday.jsonl", rows[3:]), ("all.jsonl", rows)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in part))
    index = tmp_path / "feed.idx"
    assert main(["stream", str(tmp_path / "monday.jsonl"), "--index", str(index)]) == 0
    assert capsys.readouterr().out == ""  # three different texts
    assert main(["stream", str(tmp_path / "tuesday.jsonl"), "--index", str(index)]) == 0
    tuesday = capsys.readouterr()
    assert main(["stream", str(tmp_path / "all.jsonl")]) == 0
    assert tuesday.out == capsys.readouterr().out and len(tuesday.out.splitlines()) == 3
    assert "read 3 documents" in tuesday.err  # this run's counts
    import pytest

    with pytest.raises(SystemExit, match="weights-from"):
        main(["stream", str(tmp_path / "all.jsonl"), "--index", str(index), "--weights-from", str(tmp_path / "all.jsonl")])
    (tmp_path / "bad.idx").write_bytes(b"garbage")
    with pytest.raises(SystemExit, match="cannot load"):
        main(["stream", str(tmp_path / "all.jsonl"), "--index", str(tmp_path / "bad.idx")])


def test_sigterm_ends_a_stream_between_batches_and_saves_its_index(tmp_path):
    import select
    import signal

    from dedup import StreamIndex

    index = tmp_path / "feed.idx"
    proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", "stream", "-", "--index", str(index)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for doc_id in ("wire", "site"):
            proc.stdin.write((json.dumps({"id": doc_id, "text": news_text(3)}) + "\n").encode())
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 60)[0], "no pair printed"
        assert json.loads(proc.stdout.readline())["relation"] == "exact"
        proc.send_signal(signal.SIGTERM)  # stdin still open: the feed goes on, the run is stopped
        assert proc.wait(60) == 130
        assert "interrupted" in proc.stderr.read().decode()
        assert len(StreamIndex.load(index)) == 2
    finally:
        proc.kill()
