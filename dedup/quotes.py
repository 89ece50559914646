"""Quotations: how much of a sentence is inside quotation marks.

Two reports of one event quote the same speaker; aligned sentences that are both mostly
quotation are evidence of that, not of rewriting (:mod:`dedup.relate`), and a scan line shows
them after the others (:meth:`dedup.types.Match.examples`).

>>> is_shared_quotation('"We will not leave," he said.', '"We will not leave," Pashinyan said.')
True
"""

from __future__ import annotations

import regex

# an opening quote runs to its closing one, or to the sentence's end when the quote goes on
_QUOTATION = regex.compile(r'“[^“”]*”?|«[^«»]*»?|"[^"]*"?')
# a quote opened in an earlier sentence closes in this one
_QUOTE_CLOSING_HERE = regex.compile(r'^[^“”«»"]*[”»"](?=\s|$)')


def quoted_share(sentence: str) -> float:
    """The share of a sentence's characters inside quotation marks.

    >>> round(quoted_share('"We will not leave," he said.'), 2), quoted_share("Prices rose.")
    (0.69, 0.0)
    """
    if not sentence:
        return 0.0
    closing = _QUOTE_CLOSING_HERE.match(sentence)
    start = closing.end() if closing else 0
    return (start + sum(len(m.group()) for m in _QUOTATION.finditer(sentence, start))) / len(sentence)


_QUOTE_MARKS = frozenset('"“”«»')


def is_shared_quotation(sentence_a: str, sentence_b: str) -> bool:
    """Two aligned sentences that are both mostly quotation."""
    if _QUOTE_MARKS.isdisjoint(sentence_a) or _QUOTE_MARKS.isdisjoint(sentence_b):  # most sentences: no regex
        return False
    return min(quoted_share(sentence_a), quoted_share(sentence_b)) >= 0.5
