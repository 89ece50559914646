"""Stage 7: clusters of related documents, with their original named.

Union-find joins the documents of every related pair into connected
components. A cluster's source is its earliest-published member when dates
are known, else the one member that the pairs name as a source and never as
derived; when the pairs disagree or say nothing, it is None. :func:`redundant`
lists what deduplicating a corpus removes: all of each cluster of copies but one.

>>> from dedup.types import Match, Scores
>>> s = Scores(1, 1, 1, 1, 1, 1)
>>> clusters = cluster([Match("x", "y", "exact", 1.0, None, s), Match("y", "z", "rewrite", .3, "y", s)])
>>> [(c.members, c.source) for c in clusters]
[(('x', 'y', 'z'), 'y')]
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

from dedup.types import Cluster, Match


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, x: str, y: str) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)  # deterministic root


def cluster(matches: Iterable[Match], published: Mapping[str, datetime | None] | None = None) -> list[Cluster]:
    """Connected components of the related pairs, sorted by their first member."""
    uf = UnionFind()
    sources: dict[str, set[str]] = {}
    derived: set[str] = set()
    for m in matches:
        if m.relation is None:
            continue
        uf.union(m.a, m.b)
        if m.source is not None:
            sources.setdefault(m.source, set())
            derived.add(m.b if m.source == m.a else m.a)
    groups: dict[str, list[str]] = {}
    for x in list(uf.parent):
        groups.setdefault(uf.find(x), []).append(x)
    out = []
    for members in groups.values():
        members.sort()
        out.append(Cluster(tuple(members), _cluster_source(members, sources, derived, published or {})))
    return sorted(out, key=lambda c: c.members[0])


def redundant(matches: Iterable[Match], relations: Iterable[str] = ("exact", "near_duplicate"),
              published: Mapping[str, datetime | None] | None = None) -> list[str]:
    """The ids a deduplicated corpus leaves out, sorted: of each cluster joined by pairs of the given
    ``relations``, every member but one, its source when known, else its first id.

    >>> from dedup.types import Scores
    >>> s = Scores(1, 1, 1, 1, 1, 1)
    >>> redundant([Match("x", "y", "exact", 1.0, None, s), Match("y", "z", "near_duplicate", .9, "z", s),
    ...            Match("u", "v", "rewrite", .3, "v", s)])
    ['x', 'y']
    """
    relations = set(relations)
    clusters = cluster((m for m in matches if m.relation in relations), published)
    return sorted(member for c in clusters for member in c.members if member != (c.source or c.members[0]))


def _cluster_source(members, sources, derived, published) -> str | None:
    dated = [(published[m], m) for m in members if published.get(m) is not None]
    if len(dated) == len(members) and dated:
        earliest = min(dated)
        if sum(1 for d, _ in dated if d == earliest[0]) == 1:
            return earliest[1]
    originals = [m for m in members if m in sources and m not in derived]
    return originals[0] if len(originals) == 1 else None
