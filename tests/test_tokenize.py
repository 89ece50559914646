import numpy as np
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.tokenize import tokenize, tokenize_batch

WORD_OR_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]|(?:(?![\p{Han}\p{Hiragana}\p{Katakana}])[\p{L}\p{M}\p{N}])+")


def test_tokens_accents_and_cjk():
    text = "Zürich's café 北京欢迎你 naïve 2024"
    assert tokenize(text).texts(text) == ["Zürich", "s", "café", "北", "京", "欢", "迎", "你", "naïve", "2024"]


def test_case_folding_makes_hashes_equal():
    a, b = tokenize("Crème BRÛLÉE"), tokenize("crème brûlée")
    assert np.array_equal(a.hash, b.hash)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="abcehijkmnopstuvwxyz ABCEHIKMNOPTXYZ.", min_size=1, max_size=80), st.randoms())
def test_cyrillic_and_greek_lookalikes_hash_as_the_latin_letters_they_disguise(text, rnd):
    from dedup.tokenize import _LATIN_LOOKALIKES
    disguised = "".join(rnd.choice(_LATIN_LOOKALIKES[c.lower()] + c) if c.lower() in _LATIN_LOOKALIKES else c
                        for c in text)
    a, b = tokenize(text), tokenize(disguised)
    assert np.array_equal(a.hash, b.hash) and np.array_equal(a.stem, b.stem)


def test_cyrillic_text_keeps_words_apart():
    words = tokenize("Москва мост место Пашинян")
    assert len(set(words.hash.tolist())) == 4


def test_stems_share_prefix():
    t = tokenize("participation participating partisan")
    assert t.stem[0] == t.stem[1] and t.stem[0] != t.stem[2]


def test_sentences():
    t = tokenize("Prices rose. Mr. Smith said so! e.g. this stays. New line\nhere")
    text = "Prices rose. Mr. Smith said so! e.g. this stays. New line\nhere"
    assert list(zip(t.texts(text), t.sentence.tolist())) == [
        ("Prices", 0), ("rose", 0), ("Mr", 1), ("Smith", 2), ("said", 2), ("so", 2), ("e", 2), ("g", 2),
        ("this", 2), ("stays", 2), ("New", 3), ("line", 3), ("here", 4),
    ]


def test_paragraphs_glued_without_a_space_split_but_abbreviations_do_not():
    text = "Shares fell.The bank said.It cut Mr.Smith's pay in St.Louis, Ph.D. Mrs.Jones too."
    t = tokenize(text)
    words = t.texts(text)
    assert [t.sentence[words.index(w)] for w in ("Shares", "The", "It", "Smith", "Louis", "Jones")] == [0, 1, 2, 2, 2, 3]


def test_stopwords_are_not_content():
    t = tokenize("The minister and the parliament")
    assert t.content.tolist() == [False, True, False, False, True]


def test_batch_equals_single_documents():
    texts = ["First text here.", "", "Second, other text!", "x"]
    batch = tokenize_batch(texts)
    for i, text in enumerate(texts):
        one = tokenize(text)
        assert np.array_equal(batch.doc(i).hash, one.hash)
        assert batch.doc(i).texts(text) == one.texts(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_tokens_match_the_unicode_regex_definition(text):
    tokens = tokenize(text).texts(text)
    # code points past the table (U+30000 and up, unassigned or rare) separate tokens
    visible = "".join(c if ord(c) < 0x30000 else " " for c in text)
    expected = [m.group() for m in WORD_OR_CJK.finditer(visible)]
    assert tokens == expected


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=120))
def test_a_text_tokenizes_the_same_in_a_one_byte_batch_and_in_a_wider_one(text):
    # a batch of characters below 256 is read one byte a character, a wider batch as code points
    alone, widened = tokenize_batch([text]), tokenize_batch([text, "quote’s"])
    for field in ("hash", "stem", "content", "numeric", "sentence", "start", "end"):
        assert np.array_equal(getattr(alone.doc(0), field), getattr(widened.doc(0), field)), field


CLOSING = regex.compile("[.!?\"'”’)»]*")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab1 .!?\"'”’)»(\n", max_size=60), min_size=1, max_size=4))
def test_a_sentence_span_runs_from_its_first_token_to_the_closing_punctuation_after_its_last(texts):
    batch = tokenize_batch(texts)
    for i, text in enumerate(texts):
        doc = batch.doc(i)
        expected = []
        for s in range(doc.n_sentences):
            tokens = np.flatnonzero(doc.sentence == s)
            expected.append((int(doc.start[tokens[0]]), CLOSING.match(text, int(doc.end[tokens[-1]])).end()))
        spans = batch.sentence_spans[batch.sentence_offsets[i] : batch.sentence_offsets[i + 1]]
        assert [tuple(span) for span in spans.tolist()] == expected


def test_sentence_spans_keep_closing_quotes():
    text = 'He said: "Prices rose." Then (briefly) nothing!) Next "quote"\n  End.'
    batch = tokenize_batch([text])
    assert [text[lo:hi] for lo, hi in batch.sentence_spans.tolist()] == [
        'He said: "Prices rose."', "Then (briefly) nothing!)", 'Next "quote"', "End."]
    assert tokenize(text).sentence.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
