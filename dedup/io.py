"""Reading scraped corpora: directories of text files, JSON Lines and JSON files.

Every record becomes a :class:`~dedup.types.Document` or, when it cannot be
read, a :class:`~dedup.types.Skipped` with a reason, so the scan can count and
report it. Nothing is dropped silently.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "x.txt").write_text("Hello there.")
>>> [doc.id for doc in read_paths([d])]
['x.txt']
"""

from __future__ import annotations

import email.utils
import gzip
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import orjson
import regex

from dedup.normalize import BinaryInputError, decode_bytes, looks_like_html
from dedup.types import Document, Skipped

# publication dates under the names common scrapers and feeds give them (news-please, newspaper,
# NewsAPI, schema.org, RSS); the first present wins. Crawl times are not publication dates.
DEFAULT_DATE_FIELDS = ("published", "date", "date_published", "datePublished", "publish_date", "published_at",
                       "publishedAt", "date_publish", "pubDate")
_DATE_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y/%m/%d",
                 "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y")
_EPOCH_MS = 10**11  # numbers above this are milliseconds since 1970 (seconds reach it in the year 5138)

# where a news page given as HTML states when it was published: Open Graph and other meta tags,
# schema.org JSON-LD, and a <time> element marked as the publication date
_DATE_META = r"(?:article:published_time|og:published_time|datePublished|pubdate|publishdate|publish-date" \
             r"|dc\.date\.issued|parsely-pub-date|sailthru\.date)"
_HTML_PUBLISHED = [
    regex.compile(r"<meta\b[^<>]{0,300}?(?:property|name|itemprop)\s*=\s*[\"']?" + _DATE_META
                  + r"[\"']?[^<>]{0,300}?content\s*=\s*[\"']([^\"'<>]{4,64})[\"']", regex.IGNORECASE),
    regex.compile(r"<meta\b[^<>]{0,300}?content\s*=\s*[\"']([^\"'<>]{4,64})[\"'][^<>]{0,300}?"
                  r"(?:property|name|itemprop)\s*=\s*[\"']?" + _DATE_META + r"[\"'\s/>]", regex.IGNORECASE),
    regex.compile(r"\"datePublished\"\s*:\s*\"([^\"]{4,64})\""),
    regex.compile(r"<time\b[^<>]{0,300}?datetime\s*=\s*[\"']([^\"'<>]{4,64})[\"'][^<>]{0,300}?\bpubdate\b",
                  regex.IGNORECASE),
]


def html_published(page: str) -> str | None:
    """The publication date a news page given as HTML states in its markup, as written.

    >>> html_published('<meta property="article:published_time" content="2024-03-05T10:00:00Z">')
    '2024-03-05T10:00:00Z'
    """
    head = page[:300_000]  # metadata sits near the top
    for pattern in _HTML_PUBLISHED:
        found = pattern.search(head)
        if found:
            return found.group(1).strip()
    return None


# a scraped page's publication stamp near its top: "Published March 5, 2024", "Posted on 2024-03-05"
# (not "Updated": a page is updated after it was copied); the day only, since a time's zone is seldom stated
_STAMP = regex.compile(r"^\s*(?:first\s+)?(?:published|posted)\b(?:\s+(?:on|at))?\s*:?\s*"
                       r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
                       r"(?:(\d{4})-(\d\d)-(\d\d)(?!\d)|([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b"
                       r"|(\d{1,2})\s+([a-z]{3,9})\.?,?\s+(\d{4})\b)", regex.IGNORECASE | regex.MULTILINE)
_MONTHS = {name: k for k, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                              "nov", "dec"), 1)}


def text_published(text: str) -> str | None:
    """The day a scraped page's publication stamp states, among its first 15 lines (ISO 8601).

    >>> text_published("Rates rise\\nBy Jane Doe\\nPublished: Tue, March 5, 2024 10:32 AM ET\\nThe bank raised rates.")
    '2024-03-05'
    """
    head = text[:3000]
    lowered = head.lower()
    if "published" not in lowered and "posted" not in lowered:  # a plain search first: the regex costs 60 µs
        return None
    head = "\n".join(head.split("\n")[:15])
    for stamp in _STAMP.finditer(head):
        iso_y, iso_m, iso_d, month_1, day_1, year_1, day_2, month_2, year_2 = stamp.groups()
        if iso_y:
            return f"{iso_y}-{iso_m}-{iso_d}"
        month, day = _MONTHS.get((month_1 or month_2)[:3].lower()), int(day_1 or day_2)
        if month and 1 <= day <= 31:
            return f"{year_1 or year_2}-{month:02d}-{day:02d}"
    return None


def _with_page_date(doc: Document) -> Document:
    """A document without a date takes the one its page states: in its markup when it is HTML, or
    in a publication stamp near its top."""
    if doc.published is None:
        page_date = html_published(doc.text) if looks_like_html(doc.text) else text_published(doc.text)
        if page_date is not None:
            return doc._replace(published=page_date)
    return doc


def parse_date(value) -> datetime | None:
    """A naive UTC datetime from a datetime, a date string (ISO 8601, RFC 2822 as in RSS, common
    wire and written forms) or a Unix time in seconds or milliseconds; None when it cannot be read.

    >>> str(parse_date("Tue, 10 Jun 2003 04:00:00 GMT")), str(parse_date("March 5, 2024"))
    ('2003-06-10 04:00:00', '2024-03-05 00:00:00')
    >>> str(parse_date(1700000000)), parse_date("last Tuesday")
    ('2023-11-14 22:13:20', None)
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)):
        try:
            parsed = datetime.fromtimestamp(value / 1000 if abs(value) > _EPOCH_MS else value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        parsed = _parse_date_text(str(value).strip())
        if parsed is None:
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _parse_date_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class RecordFields:
    """Where a JSON record keeps what: of each tuple, the first field present wins. The defaults
    read the output of common scrapers (news-please's ``maintext``, a ``url`` for an id)."""

    id: tuple[str, ...] = ("id", "url")
    text: tuple[str, ...] = ("text", "maintext", "content", "body")
    date: tuple[str, ...] = DEFAULT_DATE_FIELDS
    url: str = "url"
    title: str | None = None  # a headline kept apart from the text, made its first line


def read_paths(paths: Iterable[str | os.PathLike], fields: RecordFields = RecordFields()) -> Iterator[Document | Skipped]:
    """Documents of directories, of JSON Lines files (``-``: JSON Lines on stdin), of JSON files (a
    record or a list of records) and of text files."""
    for path in map(Path, paths):
        if str(path) == "-":
            # a reader of its own on the descriptor: a thread blocked reading it (dedup stream's)
            # must not hold sys.stdin's lock when the interpreter exits
            with open(sys.stdin.fileno(), "rb", closefd=False) as stdin:
                yield from _read_jsonl_lines(stdin, "stdin", fields)
        elif path.is_dir():
            yield from read_directory(path, fields)
        elif path.is_file() or is_json_lines(path):
            yield from _read_file(path, path.name, fields)
        else:
            yield Skipped(str(path), "not_found", "no such file or directory")


def is_json_lines(path: Path) -> bool:
    return path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"))


def read_directory(root: Path, fields: RecordFields = RecordFields()) -> Iterator[Document | Skipped]:
    """Every regular, non-hidden file below ``root``, in sorted order, named by its path relative to
    ``root``: a text file is one document with that id; JSON Lines (a shard of a corpus) and JSON
    files give their records, with their own ids."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                path = Path(dirpath) / name
                yield from _read_file(path, path.relative_to(root).as_posix(), fields)


def _read_file(path: Path, name: str, fields: RecordFields) -> Iterator[Document | Skipped]:
    if is_json_lines(path):
        yield from read_jsonl(path, fields, name)
    elif path.name.endswith(".json"):
        yield from read_json(path, fields, name)
    else:
        yield read_text_file(path, name)


def read_text_file(path: Path, doc_id: str) -> Document | Skipped:
    try:
        return _with_page_date(Document(doc_id, decode_bytes(path.read_bytes())))
    except BinaryInputError as e:
        return Skipped(doc_id, "binary", str(e))
    except OSError as e:
        return Skipped(doc_id, "unreadable", str(e))


def read_jsonl(path: Path, fields: RecordFields = RecordFields(), name: str | None = None) -> Iterator[Document | Skipped]:
    """The records of a JSON Lines file; a bad line is a Skipped named ``name:line`` (``name``: the
    file's name unless given)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            yield from _read_jsonl_lines(f, name or path.name, fields)
    except OSError as e:  # unreadable
        yield Skipped(str(path), "unreadable", str(e))


def read_json(path: Path, fields: RecordFields = RecordFields(), name: str | None = None) -> Iterator[Document | Skipped]:
    """The record of a JSON file (its id, if it has none, the file's ``name``), or each of a list
    of records (``name[k]`` in a skip)."""
    name = name or path.name
    try:
        value = _parse(path.read_bytes(), name)
    except OSError as e:
        yield Skipped(name, "unreadable", str(e))
        return
    if isinstance(value, list):
        for k, record in enumerate(value):
            yield _document(record, f"{name}[{k}]", fields)
    else:
        yield _document(value, name, fields, default_id=name)


def _read_jsonl_lines(lines: Iterable[bytes], name: str, fields: RecordFields) -> Iterator[Document | Skipped]:
    try:
        for line_no, raw in enumerate(lines, 1):
            if raw.strip():
                where = f"{name}:{line_no}"
                yield _document(_parse(raw, where), where, fields)
    except (OSError, EOFError) as e:  # truncated gzip, a read error: keep what was read
        yield Skipped(name, "unreadable", str(e))


def _parse(raw: bytes, where: str):
    """A JSON value, or a Skipped."""
    try:
        return orjson.loads(raw)  # several times faster than json; strict UTF-8 and JSON
    except orjson.JSONDecodeError:
        try:  # mixed encodings (cp1252 inside UTF-8), NaN, huge integers: the lenient path
            return json.loads(decode_bytes(raw, check=False))  # the text itself is checked when scanned
        except (ValueError, BinaryInputError) as e:
            return Skipped(where, "malformed_json", str(e)[:200])


def _document(record, where: str, fields: RecordFields, default_id: str | None = None) -> Document | Skipped:
    if isinstance(record, Skipped):
        return record
    if not isinstance(record, dict):
        return Skipped(where, "malformed_json", "a record is not a JSON object")
    doc_id = next((record[f] for f in fields.id if record.get(f) is not None), default_id)
    text_field = next((f for f in fields.text if record.get(f) is not None), None)
    if doc_id is None or text_field is None:
        missing = " or ".join(map(repr, fields.id if doc_id is None else fields.text))
        return Skipped(str(doc_id) if doc_id is not None else where, "missing_field", f"no {missing} field")
    text = record[text_field]
    if not isinstance(text, str):
        return Skipped(str(doc_id), "missing_field", f"{text_field!r} is not a string")
    title = record.get(fields.title) if fields.title else None
    if isinstance(title, str) and title.strip():
        text = title.strip() + "\n" + text
    published = next((record[f] for f in fields.date if record.get(f)), None)
    url = record.get(fields.url)
    return _with_page_date(Document(str(doc_id), text, published, url if isinstance(url, str) else None))
