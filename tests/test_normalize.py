import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dedup.normalize import BinaryInputError, clean_text, decode_bytes, html_to_text


def test_utf8_and_cp1252_mixed_in_one_document():
    data = "Café prices rose. ".encode("utf-8") + b"It\x92s \x93quoted\x94 \x85 here."
    assert decode_bytes(data) == "Café prices rose. It’s “quoted” … here."


def test_utf16_with_bom():
    assert decode_bytes("Grüße aus Köln".encode("utf-16")) == "Grüße aus Köln"


def test_utf8_bom_is_dropped():
    assert decode_bytes(b"\xef\xbb\xbfHello") == "Hello"


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary\x00", bytes(range(0, 32)) * 20])
def test_binary_is_refused(data):
    with pytest.raises(BinaryInputError):
        decode_bytes(data)


def test_line_ends_and_nfkc():
    assert clean_text("ﬁrst line.\r\nsecond line.\rthird line.\x85fourth line.") == (
        "first line.\nsecond line.\nthird line.\nfourth line."
    )


@pytest.mark.parametrize(
    "furniture",
    ["0 I like it", "12 Comments", "1.2K shares", "Read More", "Read more about this story:", "Advertisement",
     "Share.", "Credit: Some Agency", "Photo: Jane Doe/Agency", "1. Home", "2. /", "TRENDING NOW",
     "Latest local news", "Continue reading", "Exit mobile version", "Subscribe to our newsletter",
     "Sign up for our daily newsletter to get the top stories in your inbox every morning.",
     "© 2024 Example Media Group. All rights reserved.", "Copyright 2023 The Daily Example",
     "Example News Ltd, all rights reserved.", "Privacy Policy | Terms of Service | Cookie Settings",
     "We use cookies to improve your experience on our site and to show you relevant advertising.",
     "By continuing to use this site you agree to our use of cookies. Find out more.", "Accept all cookies",
     "Story continues below advertisement",
     "About us · Careers · Contact",
     # teasers, reading aids, bylines, publication stamps, wire sign-offs and agency credits
     "Related: Armenia quits alliance", "ALSO READ | Armenia quits the alliance", "Watch: The prime minister speaks",
     "Listen to this article", "5 min read", "Loading...", "Join the conversation",
     "Do you have a story? Email us at tips@example.com", "By John Smith, Associated Press",
     "By JOHN SMITH and JANE DOE", "Published March 5, 2024", "Updated: 3:45 PM ET, Tue March 5, 2024",
     "Reporting by Jane Doe; Editing by Bob Roe", "Our Standards: The Thomson Reuters Trust Principles.",
     "(AP Photo/Stepan Poghosyan)", "Getty Images", "AFP via Getty Images"],
)
def test_page_furniture_lines_are_removed(furniture):
    body = "The minister resigned on Friday after a long dispute over the budget."
    assert clean_text(f"{body}\n{furniture}\n{body}") == f"{body}\n{body}"


def test_real_sentences_survive():
    text = ("Read the statement, the minister said, and judge for yourself whether it holds.\n"
            "Shares in the company fell 12 percent after the announcement on Monday.\n"
            "Photos of the event were shared widely online by residents of the town.\n"
            "Regulators said the company uses cookies to track visitors without asking them first.\n"
            "The court ruled that the copyright claims over the song could go to trial in the spring, "
            "after the label argued that all rights reserved in the 1998 contract passed to the new owner.\n"
            "Scores: Arsenal 2 | Chelsea 1 | Spurs 0 was the table the coach kept on his office wall all season.\n"
            "By Tuesday, the talks had collapsed.\nBy then the damage was done.\n"
            "Updated figures show the economy grew by 3% in March.\nPublished accounts show a loss of $5m.\n"
            "Reporting by the BBC has shown the scale of the problem.\n"
            "Watch the skies, officials warned residents on Monday.\n"
            "Related parties hold 30% of the shares, the filing shows.\nReuters reported the deal on Monday.\n"
            "Posted losses widened to $3bn in 2023, the company said.")
    assert clean_text(text) == text


@pytest.mark.parametrize("heading", ["Related stories", "More from The Daily Planet:", "You may also like",
                                     "Most read", "Recommended for you", "Read next", "Further reading"])
def test_headlines_listed_under_a_heading_are_removed_and_the_text_after_them_kept(heading):
    # paragraphs longer than a hard-wrapped wire line, as on a web page
    body = "The minister resigned on Friday after a long dispute over the budget, which had split the cabinet."
    after = "Officials said the vote would go ahead next week as planned, with the opposition expected to abstain."
    headlines = ["Dutch bank to lay off 2,850 staff in sweeping cuts", "", "Is the housing boom over? Experts weigh in",
                 "Storm leaves thousands without power across the north coast"]
    assert clean_text("\n".join([body, heading, *headlines, after])) == f"{body}\n{after}"
    # not a heading: a sentence that starts like one, and the lines after it
    text = f"{body}\nMore from the interview appears below, the paper said.\n{headlines[0]}"
    assert clean_text(text) == text


def test_trailing_navigation_is_removed_but_headline_is_kept():
    text = "Markets Rally Again\nStocks rose sharply in early trading on Tuesday.\nHome\nWorld\nContact us"
    assert clean_text(text) == "Markets Rally Again\nStocks rose sharply in early trading on Tuesday."


def test_html_pages_are_reduced_to_title_and_article_and_plain_text_with_brackets_is_not():
    page = ("<html><head><title>Rates rise</title><style>p {color: red}</style></head><body>"
            "<header>Site name</header><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
            "<div><h1>Rates rise</h1><p>The bank <b>raised</b> rates by a quarter point.</p>"
            "<!-- ad slot --><p>Markets fell.<br>Bonds rallied.</p></div><footer>© Site</footer></body></html>")
    assert clean_text(page) == "Rates rise\nRates rise\nThe bank raised rates by a quarter point.\nMarkets fell.\nBonds rallied."
    cells = "<table><tr><td>Shr</td><td>45 cts</td></tr></table><p>An im<b>port</b>ant <i>note</i>.</p>"
    assert html_to_text(cells) == "Shr 45 cts\nAn important note."  # cells part, formatting does not
    wire = "<AMGD> said net profit rose.\nShr 57 cts vs 27 cts <NOTE> the company </said> it."
    assert clean_text(wire) == wire


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abcdefgh XYZ.,", min_size=1, max_size=30), min_size=1, max_size=6),
       st.lists(st.sampled_from(["nav", "script", "footer", "aside", "header"]), max_size=4))
@example([" "], [])  # blank paragraphs only: no text at all
def test_html_paragraphs_survive_as_lines_and_dropped_elements_leave_nothing(paragraphs, dropped):
    body = "".join(f"<p>{p}</p>" + "".join(f"<{d} class='x'>qqq {k}</{d}>" for k, d in enumerate(dropped))
                   for p in paragraphs)
    text = html_to_text(f"<html><body><div>{body}</div></body></html>")
    assert text.splitlines() == [" ".join(p.split()) for p in paragraphs if p.split()]
    assert "qqq" not in text


def test_character_references_left_in_scraped_text_are_decoded():
    assert clean_text("Procter &amp; Gamble bought Caf&#233; Noir &#x26; Co &lt;CNC&gt;.") == \
        "Procter & Gamble bought Café Noir & Co <CNC>."
    assert clean_text("AT&T and R&D; fish & chips.") == "AT&T and R&D; fish & chips."


_NON_ASCII_NEWS = [
    "Armenia’s prime minister said it has “frozen” its role — at all levels.",
    "Profits rose to £600m (€700m), the Zürich-based firm’s chief executive said.",
    "São Paulo’s mayor met Ségolène Royal and Łukasz Kowalski in Kraków on Tuesday.",
    "The café’s owner, naïve about the rules, paid a fine of 1,200 złoty…",
]


@pytest.mark.parametrize("sentence", _NON_ASCII_NEWS)
@pytest.mark.parametrize("wrong_codec", ["cp1252", "latin-1"])
def test_mojibake_is_repaired_to_the_text_it_was_made_from(sentence, wrong_codec):
    # a page encoded as UTF-8 and read back as cp1252 (its five undefined bytes as Latin-1, as
    # browsers do) or Latin-1: valid text, every accent and curly quote mangled
    mangled = sentence.encode("utf-8").decode(wrong_codec, errors="dedup-cp1252")
    assert mangled != sentence and clean_text(mangled) == clean_text(sentence)


def test_mojibake_mixed_with_good_text_or_made_twice_is_repaired():
    good = "\n".join(_NON_ASCII_NEWS)
    mangled = [s.encode("utf-8").decode("cp1252", errors="dedup-cp1252") for s in _NON_ASCII_NEWS]
    headline_mangled = "\n".join([mangled[0], *_NON_ASCII_NEWS[1:]])
    twice = mangled[1].encode("utf-8").decode("cp1252", errors="dedup-cp1252")
    assert clean_text(headline_mangled) == clean_text(good)
    assert clean_text(twice) == clean_text(_NON_ASCII_NEWS[1])


@pytest.mark.parametrize("sentence", _NON_ASCII_NEWS + ["Mañana, Ågot and Ørsted’s Ârea: Ã and Â alone are letters."])
def test_text_that_is_not_mojibake_is_left_alone(sentence):
    assert clean_text(sentence) == unicodedata.normalize("NFKC", sentence)


def test_invisible_format_characters_do_not_split_words():
    # soft hyphens (a site's hyphenation hints), zero-width spaces and joiners, a mark of direction
    assert clean_text("Pash\u00adinyan froze\u200b its role in the al\u200cli\u200dance.\u200e") == \
        "Pashinyan froze its role in the alliance."


def test_a_text_of_short_lines_only_is_kept_whole():
    table = "Shr 45 cts vs 58 cts\nNet 1.1 mln vs 829,000\nSales 7.9 mln vs 9.4 mln\nYear\nShr 1.22 dlrs vs 1.06 dlrs"
    assert clean_text(table) == table
    # under a longer first line, as Reuters sends them: the table is the text, not its navigation
    titled = "Shr loss 11 cts vs profit six cts\nNet loss 515,000 vs profit 294,000\nSales 62.8 mln vs 65.4 mln"
    assert clean_text(titled) == titled


def test_hard_wrapped_paragraphs_are_joined_and_normal_lines_kept():
    wrapped = ("The central bank raised its key interest rate by half a point\n"
               "on Tuesday, citing inflation that has stayed above its target\n"
               "for a year, and said further increases were likely soon.\n\n"
               "Markets fell after the announcement, with the main index down\n"
               "two percent by the close of trading in the capital city.")
    assert clean_text(wrapped) == (
        "The central bank raised its key interest rate by half a point on Tuesday, citing inflation that has "
        "stayed above its target for a year, and said further increases were likely soon.\n"
        "Markets fell after the announcement, with the main index down two percent by the close of trading "
        "in the capital city.")
    page = "Headline here\nFirst paragraph is a single long line of text that goes on and on well past the " \
           "wrapping width of any wire service.\nSecond paragraph."
    assert clean_text(page) == page


def test_furniture_rules_on_the_scraped_seed_pages(seeds_dir):
    """The general rules, on real pages: counters, credits, breadcrumbs and trailing links go."""
    cleaned = {p.name[:3]: clean_text(p.read_text()) for p in seeds_dir.iterdir()}
    for page, gone in [("000", ["TRENDING NOW", "LATEST LOCAL NEWS", "Read More About This Story:"]),
                       ("002", ["Credits: DepositPhotos", "Credit: DepositPhotos", "1. Home", "Read More From"]),
                       ("003", ["Share.", "Exit mobile version"]),
                       ("004", ["0 I like it", "0 I don't like it"])]:
        lines = cleaned[page].split("\n")
        assert not [line for line in lines if any(line.startswith(g) for g in gone)], page
    assert "Armenia’s Security Concerns" in cleaned["002"]  # a real heading stays
    assert cleaned["001"].endswith("making it the most likely to leave.")
