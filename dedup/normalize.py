"""Stage 1a: bytes to clean text.

Decoding never crashes on real scraped bytes: UTF-8 is tried first and any
byte run that is not valid UTF-8 is read as cp1252 (the usual culprit in
scraped pages), so a file mixing both decodes in one pass. Binary data is
refused with :class:`BinaryInputError`.

Cleaning reduces a page given as HTML to its text (:func:`html_to_text`),
decodes HTML character references left in scraped text (``&amp;``,
``&#233;``), repairs mojibake (UTF-8 text misread as cp1252: ``Putinâ€™s``),
removes invisible format characters (soft hyphens, zero-width spaces), applies
Unicode NFKC, unifies line ends (CRLF, CR, NEL, U+2028/9) and drops scraped
page furniture line by line with general rules: share and like counters, calls
to action ("Read more", "Subscribe"), cookie notices, photo and agency credits,
teasers ("Related: ...", "ALSO READ | ..."), reading aids ("5 min read"),
bylines, publication stamps, wire sign-offs ("Reporting by ...; Editing by
..."), breadcrumbs, "Advertisement", copyright lines, bars of links, short
all-caps section labels, lists of other stories' headlines under a heading
("Related stories", "More from ...", "You may also like"), and a trailing run
of short navigation lines.

>>> clean_text("Armenia froze its role.\\r\\n\\r\\n0 I like it\\nRead More")
'Armenia froze its role.'
"""

from __future__ import annotations

import bisect
import codecs
import html
import unicodedata

import ftfy
import regex


class BinaryInputError(ValueError):
    """The input looks like binary data, not text."""


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    # cp1252 leaves five bytes undefined; latin-1 maps every byte.
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


codecs.register_error("dedup-cp1252", _cp1252_fallback)


def _latin1_for_the_rest(error: UnicodeEncodeError) -> tuple[bytes, int]:
    # the inverse of the fallback above: what cp1252 cannot encode but Latin-1 can (C1 controls)
    chars = error.object[error.start : error.end]
    if max(map(ord, chars)) > 0xFF:
        raise error
    return chars.encode("latin-1"), error.end


codecs.register_error("dedup-latin1", _latin1_for_the_rest)

_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])


def decode_bytes(data: bytes, check: bool = True) -> str:
    """Decode scraped bytes: BOM-aware UTF-8/UTF-16, else UTF-8 with cp1252 for invalid runs.

    Raises BinaryInputError for NUL-bearing data, and (``check``) for control-heavy text.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data[:65536]:
        raise BinaryInputError("input contains NUL bytes (binary file?)")
    text = data.decode("utf-8", errors="dedup-cp1252")
    if check:
        check_not_binary(text)
    return text


def check_not_binary(text: str) -> None:
    """Refuse text whose first 4,096 characters hold NULs or more than 5% control characters."""
    sample = text[:4096]
    if "\x00" in sample:
        raise BinaryInputError("text contains NUL characters (binary data?)")
    # control characters are ASCII, one byte each in UTF-8, and no other character's UTF-8 uses those bytes
    encoded = sample.encode("utf-8", "surrogatepass")
    controls = len(encoded) - len(encoded.translate(None, _CONTROL_BYTES))
    if controls > 0.05 * len(sample):
        raise BinaryInputError("text is mostly control characters (binary data?)")


_LINE_ENDS = regex.compile(r"\r\n|[\r\x85\u2028\u2029\x0b\x0c]")

_FORMAT_CHARACTERS = regex.compile(r"\p{Cf}+")

# Mojibake: UTF-8 read as cp1252 or Latin-1 turns a lead byte (C2-F4) into one of "Â".."ô" and a
# continuation byte (80-BF) into a C1 control, a Latin-1 sign or one of cp1252's 27 extra characters
_MOJIBAKE_PAIR = regex.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
                               "\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022"
                               "\u2026\u2030\u2039\u203a\u20ac\u2122]")

# A page given as HTML: three closing tags of common elements (Reuters' "<AMGD>" tickers are not)
_HTML_CLOSING_TAG = regex.compile(r"</(?:p|div|span|a|li|h[1-6]|td|tr|table|section|article|body|html|head|title|ul|ol"
                                  r"|strong|em|b|i|script|style|nav|header|footer)\s*>", regex.IGNORECASE)
# elements whose content is not the article: code, styling, the head (its title aside) and the
# page's own furniture; tags are bounded in length so that broken markup cannot make a scan quadratic
_HTML_DROPPED_NAMES = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
                       "iframe", "button", "select", "head")
_HTML_DROPPED_OPEN = regex.compile(r"<!--|<(" + "|".join(_HTML_DROPPED_NAMES) + r")\b[^<>]{0,2000}>", regex.IGNORECASE)
_HTML_DROPPED_CLOSE = regex.compile(r"</(" + "|".join(_HTML_DROPPED_NAMES) + r")\s*>", regex.IGNORECASE)
_HTML_TITLE = regex.compile(r"<title\b[^<>]{0,2000}>([^<]{0,2000})</title\s*>", regex.IGNORECASE)
_HTML_BLOCK_TAG = regex.compile(r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|main|blockquote|figure"
                                r"|figcaption|dd|dt|pre|hr)\b[^<>]{0,2000}>", regex.IGNORECASE)
# formatting inside a word ("im<b>port</b>ant") leaves no space; any other tag (table cells) does
_HTML_INLINE_TAG = regex.compile(r"</?(?:a|b|i|u|em|strong|span|small|big|sub|sup|mark|abbr|cite|q|s|font)\b[^<>]{0,2000}>",
                                 regex.IGNORECASE)
_HTML_TAG = regex.compile(r"<[!/]?[a-zA-Z][^<>]{0,2000}>")


def _without_dropped_elements(page: str) -> str:
    """The page without comments and the elements named above, in one pass: each element runs to
    the first closing tag of its name after it (to the end for a comment left open; an element
    never closed loses only its tag)."""
    closes: dict[str, list[tuple[int, int]]] = {}
    for m in _HTML_DROPPED_CLOSE.finditer(page):
        closes.setdefault(m.group(1).lower(), []).append((m.start(), m.end()))
    kept, cursor = [], 0
    for m in _HTML_DROPPED_OPEN.finditer(page):
        if m.start() < cursor:
            continue  # inside an element already dropped
        if m.group() == "<!--":
            close = page.find("-->", m.end())
            end = len(page) if close < 0 else close + 3
        else:
            ends = closes.get(m.group(1).lower(), [])
            k = bisect.bisect_left(ends, (m.end(), -1))
            end = ends[k][1] if k < len(ends) else m.end()
        kept.append(page[cursor : m.start()])
        cursor = end
    kept.append(page[cursor:])
    return "\n".join(kept)


def html_to_text(page: str) -> str:
    """The text of an HTML page: its title, then its body without scripts, styles and the page's
    navigation, header, footer, asides and forms; block elements end lines. Character references
    are left to :func:`clean_text`.

    >>> html_to_text("<html><head><title>Rates rise</title><script>x()</script></head>"
    ...              "<body><nav><a href='/'>Home</a></nav><p>The bank <b>raised</b> rates.</p></body></html>")
    'Rates rise\\nThe bank raised rates.'
    """
    title = _HTML_TITLE.search(page)
    body = _HTML_BLOCK_TAG.sub("\n", _without_dropped_elements(page))
    body = _HTML_TAG.sub(" ", _HTML_INLINE_TAG.sub("", body))
    lines = [" ".join(line.split()) for line in ((title.group(1) if title else "") + "\n" + body).split("\n")]
    return "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    """Whether a text is an HTML page: three closing tags of common elements in its first 200,000
    characters."""
    # "<" first: a one-character search is several times faster than one for "</"
    return "<" in text and "</" in text and len(_HTML_CLOSING_TAG.findall(text, endpos=200_000)) >= 3


_CHARACTER_REFERENCE = regex.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")

# Each rule matches a whole stripped line of page furniture.
_FURNITURE = [
    # counters: "0 I like it", "12 Comments", "1.2K shares"
    r"[\d.,]+\s*[kKmM]?\s*(i\s+(don'?t\s+)?like\s+it|likes?|shares?|comments?|views?|reactions?|retweets?)\b.{0,20}",
    # calls to action and section furniture, kept short so real sentences survive
    r"(read|see|view|show)\s+(more|less|all|next|full|the\s+full)\b.{0,60}",
    r"(continue|keep)\s+reading\b.{0,40}",
    r"(click|tap)\s+here\b.{0,60}",
    r"(sign\s+up|subscribe|follow\s+us|share\s+(this|on)|exit\s+mobile\s+version|skip\s+to(\s+main)?\s+content|back\s+to\s+top)\b.{0,40}",
    r"(sign\s+up|subscribe)\b.{0,60}\b(newsletters?|inbox|e-?mail\s+alerts?)\b.{0,40}",
    # cookie and consent notices, on every page of a site
    r"(we|this\s+(web)?site|our\s+(web)?site)\s+uses?\s+cookies\b.{0,200}",
    r"(by\s+(continuing|using)\s+(to\s+(use|browse)\s+)?(this|our)\s+(web)?site|accept(\s+all)?\s+cookies)\b.{0,200}",
    # "Story continues below advertisement"
    r"(story|article)\s+continues\s+(below|after)\b.{0,30}",
    # copyright lines (links bars and "All rights reserved" endings are checked apart: cheaper)
    r"©.{0,150}",
    r"(\(c\)|copyright\b).{0,40}\b(19|20)\d\d\b.{0,100}",
    r"(advertisement|advertising|sponsored(\s+content)?|promoted|share|print|email|tweet|comments?)[.:]?",
    r"(related|trending|popular|recommended|latest|more|top)(\s+\w+){0,3}\s*(news|stories|articles|posts|now|videos?|reads?)[:.]?",
    # photo and image credits
    r"((photo|image|picture|video|graphic)s?\s*)?credits?\s*[:\-–—].{0,200}",
    r"(photo|image|picture|file\s+photo)s?\s*[:\-–—|].{0,200}",
    r"(photo|image)\s+(by|via|courtesy\s+of)\b.{0,120}",
    # teasers for other pages: "Related: ...", "ALSO READ | ...", "Watch: ..."
    r"(related|also\s+read|read\s+also|see\s+also|watch|listen|more\s+on\s+this(\s+story)?)\s*[:|\-–—]\s*.{1,150}",
    r"(listen\s+to\s+(this|the)\s+(article|story)|\d+\s*-?\s*min(ute)?s?\s+read|loading\W{0,3}"
    r"|join\s+the\s+(conversation|discussion)|(leave|post|add)\s+a\s+comment|print\s+this\s+(article|page))\b.{0,40}",
    r"(do\s+you\s+have\s+a|got\s+a|have\s+a)\s+(news\s+)?(story|tip)\b.{0,120}",
    # publication stamps: "Published March 5, 2024", "Updated: 3:45 PM ET"
    r"(first\s+|last\s+)?(published|updated|posted|modified)\s*(:|on\b|at\b)?\s*"
    r"(\d|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|yesterday|today)).{0,80}",
    # wire sign-offs and agency credits: "Reporting by ...; Editing by ...", "(AP Photo/...)", "Getty Images"
    r"(additional\s+)?(reporting|writing|editing)\s+by\s+[^.!?]{1,150}",
    r"our\s+standards\s*:.{0,80}",
    r"\(?(ap|afp|epa|reuters|getty(\s+images)?|shutterstock|depositphotos)(\s+photo)?(\s*(/|via)\s*[^()]{1,60})?\)?",
    # breadcrumbs: separators alone, or a numbered item of a few words
    r"[\s/>»|·•\-–—]+",
    r"\d{1,2}\.\s*[/>»|·•]?\s*(\S+\s*){0,4}",
]
_FURNITURE_RE = regex.compile(r"^(?:" + "|".join(_FURNITURE) + r")$", regex.IGNORECASE)
# the heading of a list of links to other stories ("Related stories", "More from The Times:",
# "You may also like"), whose headlines follow it
_LIST_HEADING = regex.compile(
    r"^(?:(?:related|trending|popular|recommended|latest|more|top|most\s+(?:read|popular|viewed|shared))"
    r"(?:\s+\w+){0,3}?\s*(?:news|stories|articles|posts|videos?|reads?|coverage|links|content|headlines)?"
    r"|more\s+(?:from|on|in|about)\s+.{1,40}|you\s+(?:may|might)\s+(?:also\s+)?(?:like|be\s+interested\s+in)"
    r"|(?:read|see)\s+(?:also|next)|also\s+read|further\s+reading|recommended\s+for\s+you)\s*[:.]?$",
    regex.IGNORECASE)
_MAX_LIST_HEADING_CHARS = 60
_LINK_BAR = regex.compile(r"^[^|·•]{1,40}(\s[|·•]\s[^|·•]{1,40}){2,}$")  # "Privacy Policy | Terms | Contact"
_RIGHTS_RESERVED = regex.compile(r"\ball\s+rights\s+reserved[.!]?$", regex.IGNORECASE)
_ALL_CAPS_LABEL = regex.compile(r"^[\p{Lu}\p{N}\s&:'’-]{2,60}$")
_SENTENCE_END = regex.compile(r"[.!?。！？\"”’')]$")
# "By Jane Doe", "By Jane Doe and John Roe, Associated Press": names only, capitalised (case matters)
_BYLINE = regex.compile(r"^(?:By|BY)\s+\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3}"
                        r"(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,4}){0,3}$")


_MAX_FURNITURE_CHARS = 240  # every rule matches only lines shorter than this


def _is_furniture(line: str) -> bool:
    if len(line) > _MAX_FURNITURE_CHARS:
        return False
    if _FURNITURE_RE.match(line):
        return True
    if ("|" in line or "·" in line or "•" in line) and _LINK_BAR.match(line):
        return True
    if len(line) <= 140 and "reserved" in line.lower() and _RIGHTS_RESERVED.search(line):
        return True
    if line[:2] in ("By", "BY") and len(line) <= 120 and _BYLINE.match(line):
        return True
    return len(line.split()) <= 5 and _ALL_CAPS_LABEL.match(line) is not None and not _SENTENCE_END.search(line)


def _is_headline(line: str) -> bool:
    """A line as in a list of other stories' headlines: a few words, no closing full stop."""
    return len(line) <= 160 and not line.endswith(".") and len(line.split()) <= 20


def _is_navigation(line: str) -> bool:
    """A short line without sentence punctuation, as in menus and link lists."""
    return len(line) <= 80 and len(line.split()) <= 6 and not _SENTENCE_END.search(line)


def _unwrap(lines: list[str]) -> list[str]:
    """Join the lines of each paragraph of hard-wrapped text (wire copy wrapped at ~70 columns),
    so that a line end inside a paragraph is not taken for a sentence end."""
    filled = [len(line) for line in lines if line]
    if len(filled) < 5 or max(filled) > 100 or sorted(filled)[len(filled) // 2] < 45:
        return lines
    paragraphs, current = [], []
    for line in lines + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp1252 or Latin-1 ("Putinâ€™s", "Â£600m").

    >>> repair_mojibake("Putinâ€™s Â£600m")
    'Putin’s £600m'
    """
    for _ in range(3):  # a whole text read with the wrong codec, once or more: undone exactly, and fast
        try:
            text = text.encode("cp1252", errors="dedup-latin1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):  # mixed with good text, or mangled lossily
            break
        if not _MOJIBAKE_PAIR.search(text):
            return text
    # ftfy tells mojibake from real accents by heuristics; it is slow, so it reads only the lines that need it
    return "\n".join(ftfy.fix_encoding(line) if _MOJIBAKE_PAIR.search(line) else line for line in text.split("\n"))


def clean_text(text: str) -> str:
    """An HTML page reduced to its text, character references decoded, mojibake repaired, invisible
    characters removed, NFKC, unified line ends, page furniture removed, hard-wrapped paragraphs
    joined. Keeps case and sentence punctuation."""
    if looks_like_html(text):
        text = html_to_text(text)
    if "&" in text and _CHARACTER_REFERENCE.search(text):  # "Procter &amp; Gamble" is "Procter & Gamble"
        text = html.unescape(text)
    if not text.isascii():
        if _MOJIBAKE_PAIR.search(text):
            text = repair_mojibake(text)
        # invisible format characters (soft hyphens, zero-width spaces and joiners, marks of direction)
        # split the words they sit in; a site's hyphenation hints or a copier's disguise
        text = unicodedata.normalize("NFKC", _FORMAT_CHARACTERS.sub("", _LINE_ENDS.sub("\n", text)))
    elif "\r" in text or "\x0b" in text or "\x0c" in text:
        text = _LINE_ENDS.sub("\n", text)
    lines = _unwrap([line.strip() for line in text.split("\n")])
    lines = [line for line in lines if line]
    kept, in_list = [], False
    for k, line in enumerate(lines):
        if in_list and _is_headline(line):
            continue
        # a heading with headlines under it (alone at the end, it is left to the navigation rule)
        in_list = (len(line) <= _MAX_LIST_HEADING_CHARS and k + 1 < len(lines) and _is_headline(lines[k + 1])
                   and _LIST_HEADING.match(line) is not None)
        if not in_list and not _is_furniture(line):
            kept.append(line)
    end = len(kept)
    while end and _is_navigation(kept[end - 1]):
        end -= 1
    # navigation trails an article; short lines that outweigh what comes before them are the text
    # itself (an earnings table under its headline, a list)
    if end < len(kept) and not _more_words_than(kept[:end], sum(len(line.split()) for line in kept[end:])):
        end = len(kept)
    return "\n".join(kept[:end])


def _more_words_than(lines: list[str], n: int) -> bool:
    for line in lines:  # an article's first lines usually settle it
        n -= len(line.split())
        if n < 0:
            return True
    return False
