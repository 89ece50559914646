import random
from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import DedupConfig, Detector
from dedup.align import align, similarity_matrix
from dedup.cluster import cluster, redundant
from dedup.quotes import quoted_share
from dedup.relate import direction
from dedup.tokenize import tokenize
from dedup.types import Match, Scores

from conftest import news_text

CFG = DedupConfig()


def scores(**kw):
    base = dict(jaccard=0.0, containment_a=0.0, containment_b=0.0, alignment_a=0.0, alignment_b=0.0,
                aligned_sentences=0)
    return Scores(**{**base, **kw})


def test_alignment_follows_order_and_reports_coverage():
    a = "Alpha bravo charlie delta echo. Foxtrot golf hotel india juliet. Kilo lima mike november oscar."
    b = "Kilo lima mike november papa. Alpha bravo charlie delta quebec. Foxtrot golf hotel india romeo."
    al = align(tokenize(a), tokenize(b), min_similarity=0.5, min_shared=3)
    assert [(p.a, p.b) for p in al.pairs] == [(0, 1), (1, 2)]
    assert 0.5 < al.coverage_a < 0.7 and 0.5 < al.coverage_b < 0.7


def test_sentences_of_one_template_with_other_figures_do_not_align():
    a = "Oper shr loss 97 cts vs loss 73 cts in the year. Oper net loss rose to 2,228,000 dlrs this quarter."
    b = "Oper shr loss 31 cts vs loss 34 cts in the year. Oper net loss rose to 1,165,000 dlrs this quarter."
    assert align(tokenize(a), tokenize(b), min_similarity=0.2, min_shared=2).pairs == ()
    same_figures = b.replace("31 cts vs loss 34", "97 cts vs loss 73")
    assert [(p.a, p.b) for p in align(tokenize(a), tokenize(same_figures), 0.2, min_shared=2).pairs] == [(0, 0)]


def test_sentences_sharing_only_numbers_do_not_align():
    # a table's header rows and a desk's phone number recur in unrelated reports of one desk
    a = "Wheat exports fell sharply. 1986/87 1985/86 04/09/87. Desk (202-898-8312)."
    b = "Coffee prices rose again. 1986/87 1985/86 04/09/87. Desk (202-898-8312)."
    assert align(tokenize(a), tokenize(b), min_similarity=0.2, min_shared=3).pairs == ()
    assert [(p.a, p.b) for p in align(tokenize(a), tokenize(b), 0.2, min_shared=3, min_shared_words=0).pairs] == [(1, 1), (2, 2)]
    # two words in common besides the numbers are enough
    worded = b.replace("1986/87 1985/86 04/09/87", "Tonnes 1986/87 1985/86 04/09/87 shipped")
    a_worded = a.replace("1986/87 1985/86 04/09/87", "Tonnes 1986/87 1985/86 04/09/87 shipped")
    assert [(p.a, p.b) for p in align(tokenize(a_worded), tokenize(worded), 0.2, min_shared=3).pairs] == [(1, 1)]


def test_words_running_through_a_text_weigh_less_than_words_of_one_sentence():
    # "Kenteris Thanou" is in every sentence but the second of both texts: the story's topic.
    # Sentences 0 share it and one other word; sentences 1 share three words of their own.
    a = ("Kenteris Thanou walked quietly towards harbour. Lantern marble orchard velvet pepper cobalt. "
         "Kenteris Thanou bought copper kettles downtown. Kenteris Thanou painted maple fences yesterday.")
    b = ("Kenteris Thanou walked slowly across meadows. Lantern marble orchard saddle ribbon falcon. "
         "Kenteris Thanou sold silver spoons uptown. Kenteris Thanou repaired garden gates today.")
    sim = similarity_matrix(tokenize(a), tokenize(b), min_shared=3)
    assert 0 < sim[0, 0] < sim[1, 1]
    # when the names are in the first sentences only, those sentences score as high as the second
    a, b = (t.replace(". Kenteris Thanou", ". Nobody") for t in (a, b))
    sim = similarity_matrix(tokenize(a), tokenize(b), min_shared=3)
    assert sim[0, 0] >= sim[1, 1] > 0


def test_alignment_of_unrelated_texts_is_empty():
    al = align(tokenize(news_text(1)), tokenize(news_text(2)))
    # chance matches of a few shared words stay far below the rewrite threshold
    assert max(al.coverage_a, al.coverage_b) < CFG.rewrite_score


def test_relations():
    det = Detector()
    text = news_text(3)
    sentences = text.split(". ")
    assert det.compare(text, text.upper()).relation == "exact"
    edited = ". ".join(s if i % 4 else s.replace(" ", " new ", 1) for i, s in enumerate(sentences))
    assert det.compare(text, edited).relation == "near_duplicate"
    excerpt = ". ".join(sentences[:5]) + ". " + news_text(4, 3)
    m = det.compare(text, excerpt)
    assert m.relation == "partial" and m.source == "a" and m.direction_basis == "coverage"
    assert det.compare(text, news_text(5)).relation is None


def test_a_whole_copy_edited_in_every_sentence_is_a_near_duplicate_and_a_framed_half_is_partial():
    det = Detector()
    text = news_text(7, 14)
    sentences = [s.split() for s in text.rstrip(".").split(". ")]
    # a word or two of every sentence replaced: most shingles break, every sentence keeps its counterpart
    edited = ". ".join(" ".join("zed" + w if k == 8 or (k == 2 and i % 2) else w for k, w in enumerate(ws))
                       for i, ws in enumerate(sentences)) + "."
    m = det.compare(text, edited)
    assert m.scores.jaccard < CFG.near_duplicate_jaccard <= max(m.scores.containment_a, m.scores.containment_b)
    assert m.relation == "near_duplicate"
    assert Detector(edited_copy_coverage=1.0).compare(text, edited).relation == "partial"
    half = news_text(8, 3) + " " + ". ".join(" ".join(ws) for ws in sentences[4:11]) + ". " + news_text(9, 3)
    assert det.compare(text, half).relation == "partial"
    # a text without sentence ends is one long "sentence": its first part is a part, not an edit
    run_on = " ".join(news_text(10, 400).replace(".", "").split())
    assert det.compare(run_on, run_on[: len(run_on) // 4]).relation == "partial"


def test_passages_copied_word_for_word_among_other_text_are_a_partial_copy_not_a_rewrite():
    source = news_text(20, 14).split(". ")
    other = news_text(21, 10).split(". ")
    copy = ". ".join(other[:4] + source[5:9] + other[4:]).rstrip(".") + "."
    m = Detector().compare(copy, ". ".join(source))
    # neither text is mostly in the other, and the four sentences align as a rewrite would
    assert max(m.scores.containment_a, m.scores.containment_b) < CFG.partial_containment
    assert m.relation == "partial" and len(m.evidence) >= 4
    # the same sentences reworded (their words in another order) are a rewrite
    reworded = ". ".join(other[:4] + [" ".join(x.split()[::-1]).capitalize() for x in source[5:9]] + other[4:])
    assert Detector().compare(reworded.rstrip(".") + ".", ". ".join(source)).relation == "rewrite"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)),
                                                                           min_size=1, max_size=6)),
                min_size=1, max_size=5))
def test_copied_sentences_of_a_batch_are_those_of_each_pair_alone(specs):
    from dedup.align import AlignedPair, Alignment
    from dedup.relate import copied_sentences
    from dedup.verify import prepare

    # texts sharing some sentences word for word, others reworded (words reversed)
    base = news_text(30, 10).rstrip(".").split(". ")
    texts = [". ".join(s if (k + i) % 3 else " ".join(s.split()[::-1]).capitalize() for i, s in enumerate(base)) + "."
             for k in range(7)]
    docs = prepare(texts, CFG)
    pairs = [(docs[a], docs[b], Alignment(tuple(AlignedPair(i, j, 0.5) for i, j in cells), 0.5, 0.5, 10, 10))
             for a, b, cells in specs]
    together = copied_sentences(pairs)
    assert [flags.tolist() for flags in together] == [copied_sentences([p])[0].tolist() for p in pairs]
    for (a, b, cells), flags in zip(specs, together):
        for (i, j), flag in zip(cells, flags.tolist()):
            reversed_a, reversed_b = (a + i) % 3 == 0, (b + j) % 3 == 0
            if i == j and reversed_a == reversed_b:  # the same sentence, both ways the same
                assert flag
            else:  # one of them reversed, or two different sentences: no word runs in common
                assert not flag


def test_alignment_reads_at_most_max_align_sentences_of_each_text():
    source = news_text(12, 30)
    sentences = [s.split() for s in source.rstrip(".").split(". ")]
    rewrite = ". ".join(" ".join(ws[::-1]).capitalize() for ws in sentences) + "."  # each sentence reworded
    whole = Detector().compare(rewrite, source)
    head = Detector(max_align_sentences=8).compare(rewrite, source)
    assert max(p.a_index for p in whole.evidence) > 20
    assert head.evidence and max(max(p.a_index, p.b_index) for p in head.evidence) < 8
    assert (whole.scores.jaccard, whole.scores.containment_a) == (head.scores.jaccard, head.scores.containment_a)


def test_rewrite_is_found_with_its_source():
    source = news_text(6, 10)
    sentences = [s.split() for s in source.split(". ")]
    # a rewrite keeps most content words of each sentence but reorders and replaces the rest
    rewrite = ". ".join(" ".join(["Zeta"] + list(reversed(ws[: len(ws) // 2])) + ["theta"] + ws[len(ws) // 2 + 2 :])
                        for ws in sentences[:7]) + "."
    m = Detector().compare(rewrite, source)
    assert m.relation == "rewrite", m.scores
    assert m.source == "b" and len(m.evidence) >= 3
    assert m.evidence[0].a_text.startswith(rewrite.split(".")[0][:20])


def test_three_sentences_sharing_a_few_words_each_are_same_story_coverage_not_a_rewrite():
    # two reports of one event: three sentences of one share a few names and figures each with one
    # of the other (aligned, similarity about 0.34, summing to about 1); a rewrite carries over
    # most content words of each sentence it rewrites
    rng = random.Random(0)

    def word():
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    def sentence(words):
        return " ".join(words).capitalize() + "."

    source, coverage, rewrite = [], [], []
    for k in range(6):
        words = [word() for _ in range(10)]
        source.append(sentence(words))
        coverage.append(sentence(words[:4] + [word() for _ in range(6)] if k < 3 else [word() for _ in range(10)]))
        rewrite.append(sentence(rng.sample(words[:7], 7) + [word() for _ in range(3)]))  # reordered, reworded
    source, coverage, rewrite = (" ".join(x) for x in (source, coverage, rewrite))
    m = Detector().compare(coverage, source)
    assert m.relation is None and m.scores.aligned_sentences == 3
    assert m.scores.alignment_a >= CFG.rewrite_score  # enough coverage: the summed similarity decides
    assert sum(p.similarity for p in m.evidence) < CFG.rewrite_min_similarity_sum
    assert Detector(CFG.replace(rewrite_min_similarity_sum=0.5)).compare(coverage, source).relation == "rewrite"
    assert Detector().compare(rewrite, source).relation == "rewrite"


def test_quoted_share_follows_quotes_across_sentence_ends():
    assert quoted_share("“We will stay.") == 1.0  # the quote goes on in the next sentence
    assert 0.6 < quoted_share("We will fight,” he said.") < 0.7  # and closes here
    assert quoted_share('He said "no" and left.') < 0.2 and quoted_share("Prices rose.") == 0.0


def test_reports_sharing_only_a_speakers_quotes_are_not_a_rewrite_but_a_rewrite_keeping_them_is():
    rng = random.Random(1)

    def words(n):
        return " ".join("".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4)) for _ in range(n))

    quotes = [f'"{words(12).capitalize()}," {words(2)} said.' for _ in range(4)]
    narrative = [words(12).capitalize() + "." for _ in range(6)]
    report_a = " ".join(narrative[:3] + quotes + narrative[3:])
    report_b = " ".join([words(12).capitalize() + "." for _ in range(4)] + quotes + [words(12).capitalize() + "." for _ in range(3)])
    m = Detector().compare(report_a, report_b)
    assert m.relation is None and m.scores.aligned_sentences == 4  # the quotes align, and only they
    unquoted = Detector().compare(report_a.replace('"', ""), report_b.replace('"', ""))
    assert unquoted.relation == "partial"  # the same sentences outside quotation marks are copied passages
    # a rewrite keeps the quotes and carries over the narrative around them
    paraphrased = [" ".join(n.rstrip(".").split()[8::-1]).capitalize() + " " + words(3) + "." for n in narrative]
    rewrite = " ".join(paraphrased[:3] + quotes[:2] + paraphrased[3:])
    assert Detector().compare(rewrite, report_a).relation == "rewrite"


def test_a_rewrite_scan_line_shows_rewritten_sentences_before_shared_quotations():
    from dedup.types import SentencePair

    quote = '"We will not leave the alliance," he said.'
    evidence = (SentencePair(0, 0, quote, quote, 1.0), SentencePair(1, 1, "Prices rose a lot.", "Prices went up.", 0.5),
                SentencePair(2, 2, quote, quote, 0.9), SentencePair(3, 3, "Rates fell.", "Rates were cut.", 0.4))
    rewrite = Match("a", "b", "rewrite", 0.3, None, scores(), evidence)
    examples = rewrite.to_dict(max_examples=3)["evidence"]["examples"]
    assert [(e["similarity"], e.get("quotation", False)) for e in examples] == [(0.5, False), (0.4, False), (1.0, True)]
    copy = Match("a", "b", "partial", 0.6, None, scores(), evidence)
    assert [e["similarity"] for e in copy.to_dict(max_examples=3)["evidence"]["examples"]] == [1.0, 0.9, 0.5]


def test_direction_by_date_beats_coverage():
    s = scores(containment_a=0.9, containment_b=0.3)
    assert direction("partial", s, CFG, (None, None)) == ("b", "coverage")
    assert direction("partial", s, CFG, (datetime(2020, 1, 1), datetime(2021, 1, 1))) == ("a", "published")


def test_direction_unknown_when_symmetric():
    assert direction("near_duplicate", scores(containment_a=0.8, containment_b=0.78), CFG, (None, None)) == (None, None)
    assert direction(None, scores(), CFG, (datetime(2020, 1, 1), datetime(2021, 1, 1))) == (None, None)


def test_clusters_name_their_source():
    s = scores()
    matches = [Match("a", "b", "rewrite", 0.3, "b", s), Match("b", "c", "exact", 1, None, s),
               Match("d", "e", "near_duplicate", 0.9, None, s), Match("f", "g", None, 0.1, None, s)]
    assert [(c.members, c.source) for c in cluster(matches)] == [(("a", "b", "c"), "b"), (("d", "e"), None)]
    dated = {"d": datetime(2021, 1, 1), "e": datetime(2020, 1, 1)}
    assert cluster(matches[2:3], dated)[0].source == "e"


def test_redundant_keeps_one_document_of_each_cluster_of_copies():
    s = scores()
    matches = [Match("a", "b", "exact", 1, None, s), Match("b", "c", "near_duplicate", 0.9, "c", s),
               Match("d", "e", "partial", 0.6, "e", s), Match("f", "g", "rewrite", 0.3, "g", s)]
    assert redundant(matches) == ["a", "b"]  # c is named the source of the copies
    assert redundant(matches, ("exact", "near_duplicate", "partial")) == ["a", "b", "d"]
    assert redundant(matches, ("rewrite",)) == ["f"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.sampled_from(["exact", "near_duplicate", "rewrite"]),
                          st.booleans()), max_size=30), st.randoms())
def test_redundant_leaves_one_per_cluster_whatever_the_order_of_the_pairs(edges, rnd):
    s = scores()
    matches = [Match(f"d{x}", f"d{y}", rel, 0.5, f"d{x}" if named else None, s) for x, y, rel, named in edges if x != y]
    dropped = redundant(matches)
    shuffled = matches[:]
    rnd.shuffle(shuffled)
    assert redundant(shuffled) == dropped
    clusters = cluster([m for m in matches if m.relation != "rewrite"])
    assert len(dropped) == sum(len(c.members) - 1 for c in clusters)
    assert all(sum(member not in dropped for member in c.members) == 1 for c in clusters)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(2, 12))
def test_sentence_similarity_is_symmetric_and_bounded(seed_a, seed_b, shared):
    # texts that share some sentences and words, with each side's own spread discounts
    a = news_text(seed_a, 8) + " " + news_text(seed_b, 2)
    b = news_text(seed_b, shared) + " " + news_text(seed_a, 1)
    ta, tb = tokenize(a), tokenize(b)
    forward, backward = similarity_matrix(ta, tb, min_shared=1), similarity_matrix(tb, ta, min_shared=1)
    assert np.allclose(forward, backward.T)
    assert (forward >= 0).all() and (forward <= 1 + 1e-9).all()
    al = align(ta, tb)
    assert 0 <= al.coverage_a <= 1 + 1e-9 and 0 <= al.coverage_b <= 1 + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans()), max_size=8),
       st.integers(6, 9), st.integers(6, 9))
def test_shared_footer_is_the_verbatim_run_closing_both_texts(cells, n_a, n_b):
    from dedup.align import AlignedPair, Alignment
    from dedup.relate import shared_footer
    from dedup.verify import prepare

    def texts(*lengths):  # texts of n sentences of content words
        return prepare([" ".join(f"Sentence{i} words here." for i in range(n)) for n in lengths], CFG)

    pairs, last = [], (-1, -1)  # aligned pairs in order, some verbatim (similarity 1)
    for i, j, verbatim in sorted(cells):
        if i > last[0] and j > last[1]:
            pairs.append(AlignedPair(i, j, 1.0 if verbatim else 0.5))
            last = (i, j)
    # when none of them pairs the texts' last sentences: no footer
    if not pairs or (pairs[-1].a, pairs[-1].b) != (n_a - 1, n_b - 1):
        assert shared_footer(Alignment(tuple(pairs), 0.0, 0.0, n_a, n_b), *texts(n_a, n_b)) == 0
    # verbatim pairs of the last k sentences of both: a footer of k when k >= 2 (and of more when
    # the pairs before them run on verbatim)
    for k in (1, 2, 3):
        tail = tuple(AlignedPair(n_a + m, n_b + m, 1.0) for m in range(k))
        footer = shared_footer(Alignment(tuple(pairs) + tail, 0.0, 0.0, n_a + k, n_b + k), *texts(n_a + k, n_b + k))
        before = pairs[-1] if pairs else None
        runs_on = before is not None and before.similarity == 1.0 and (before.a, before.b) == (n_a - 1, n_b - 1)
        if runs_on:
            assert footer >= k + 1
        else:
            assert footer == (k if k >= 2 else 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10), st.integers(3, 9), st.booleans())
def test_a_pairs_verdict_does_not_depend_on_which_text_comes_first(seed, kept_sentences, kept_words, extra):
    # a source and a text that keeps some of its sentences, each with some of its words
    source = news_text(seed, 12)
    other = news_text(seed + 1, 12).split(". ")
    derived = []
    for k, sentence in enumerate(source.split(". ")):
        words = sentence.rstrip(".").split()
        if k < kept_sentences:
            derived.append(" ".join(words[:kept_words] + other[k].split()[kept_words:]).rstrip(".") + ".")
        elif extra:
            derived.append(other[k].rstrip(".") + ".")
    derived = " ".join(derived) or news_text(seed + 2, 3)
    forward, backward = Detector().compare(derived, source), Detector().compare(source, derived)
    assert forward.relation == backward.relation
    assert abs(forward.similarity - backward.similarity) < 1e-9
    assert {"a": "b", "b": "a", None: None}[forward.source] == backward.source
    assert [(p.a_index, p.b_index) for p in forward.evidence] == [(p.b_index, p.a_index) for p in backward.evidence]
