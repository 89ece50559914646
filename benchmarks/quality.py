"""Quality harness: full scans on labelled sets, against a plain datasketch MinHash baseline.

    python -m benchmarks.quality --seeds seeds --clough ../shared/eval/clough-stevenson \
        --msrp ../shared/eval/msrp/msr_paraphrase_train.txt [--generated CORPUS.jsonl] \
        [--excerpts ../shared/corpora/bbc/docs.jsonl.gz] [--passages ../shared/corpora/bbc/docs.jsonl.gz] \
        [--json out.json]

For each labelled set it runs ``Detector.scan`` over every document (not over oracle pairs) and
scores only the labelled pairs: derived-vs-not precision, recall and F1, precision of each relation,
recall of each label category, and direction accuracy on the derived pairs found. Beside it, in the
same run, the baseline users run today: datasketch ``MinHashLSH`` on word 5-grams, 128 permutations,
thresholds 0.5 and 0.8, candidates taken as duplicates. MSRP scores the sentence matcher alone.
``--generated`` takes a corpus from ``python -m benchmarks generate`` (its planted pairs in
``CORPUS.jsonl.labels.jsonl``) and tells, for each planted kind, which relation the scan reported.
``--excerpts`` plants excerpts (a tenth, a fifth, three tenths, a half of an article's words, from
its start or from anywhere) of articles of a real corpus among its documents, and tells how many
the scan found and with which source. ``--passages`` sets passages of 2-4 paragraphs of an article
word for word into another article, and tells which relation and source the scan reported.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup import DedupConfig, Detector, Document
from dedup.align import similarity_matrix
from dedup.io import read_paths
from dedup.normalize import clean_text
from dedup.tokenize import tokenize, tokenize_batch


@dataclass(frozen=True)
class LabelledSet:
    name: str
    docs: list[Document]
    labels: dict[tuple[str, str], tuple[bool, str | None, str]]  # sorted pair -> (derived, source, category)


def load_seeds(path: Path) -> LabelledSet:
    """The founding case: 000 is a rewrite of 001; no other pair is related."""
    docs = [d for d in read_paths([path]) if isinstance(d, Document)]
    ids = sorted(d.id for d in docs)
    rewrite, source = ids[0], ids[1]
    labels = {pair: (False, None, "independent") for pair in itertools.combinations(ids, 2)}
    labels[(rewrite, source)] = (True, source, "rewrite")
    return LabelledSet("seeds", docs, labels)


def load_clough(path: Path) -> LabelledSet:
    """Clough & Stevenson: answers against their task's source; answer-answer pairs are not scored."""
    docs = [d for d in read_paths([path / "texts"]) if isinstance(d, Document)]
    labels = {}
    with open(path / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            pair = tuple(sorted((row["file"], row["source_file"])))
            labels[pair] = (row["derived"] == "1", row["source_file"], row["category"])
    return LabelledSet("clough-stevenson", docs, labels)


def score(found: dict[tuple[str, str], tuple[str, str | None]], labelled: LabelledSet) -> dict:
    """found: sorted pair -> (relation, source) for every reported pair."""
    tp = fp = fn = 0
    per_relation: dict[str, list[int]] = {}
    per_category: dict[str, list[int]] = {}
    direction = {"right": 0, "wrong": 0, "unknown": 0}
    for pair, (derived, source, category) in labelled.labels.items():
        hit = found.get(pair)
        cat = per_category.setdefault(category, [0, 0])
        cat[1] += 1
        if hit is not None:
            cat[0] += 1
            rel = per_relation.setdefault(hit[0], [0, 0])
            rel[1] += 1
            rel[0] += derived
        if derived and hit is not None:
            tp += 1
            direction["unknown" if hit[1] is None else "right" if hit[1] == source else "wrong"] += 1
        elif hit is not None:
            fp += 1
        elif derived:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "reported_by_relation": {k: {"pairs": v[1], "precision": v[0] / v[1]} for k, v in sorted(per_relation.items())},
        "reported_by_category": {k: {"reported": v[0], "of": v[1]} for k, v in sorted(per_category.items())},
        "direction": direction,
        "direction_accuracy": direction["right"] / tp if tp else None,  # unknown counts as not right
        "missed": sorted("/".join(p) for p, (d, _, _) in labelled.labels.items() if d and p not in found),
        "false_positives": sorted("/".join(p) for p, (d, _, _) in labelled.labels.items() if not d and p in found),
    }


def run_dedup(labelled: LabelledSet, config: DedupConfig) -> tuple[dict, float]:
    started = time.perf_counter()
    found = {}
    for m in Detector(config).scan(labelled.docs):
        found[(m.a, m.b)] = (m.relation, m.source)
    return found, time.perf_counter() - started


def word_shingle_strings(text: str, n: int = 5) -> list[bytes]:
    """Lower-cased word 5-grams as bytes, the way MinHash pipelines usually shingle."""
    t = clean_text(text)
    words = [w.casefold() for w in tokenize(t).texts(t)]
    grams = [" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))]
    return [g.encode("utf-8") for g in grams if g]


def run_datasketch(labelled: LabelledSet, threshold: float, num_perm: int = 128) -> tuple[dict, float]:
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    found = {}
    for doc in labelled.docs:
        m = MinHash(num_perm=num_perm)
        m.update_batch(word_shingle_strings(doc.text))
        for other in lsh.query(m):
            found[tuple(sorted((doc.id, other)))] = ("near_duplicate", None)
        lsh.insert(doc.id, m)
    return found, time.perf_counter() - started


def evaluate_msrp(path: Path, config: DedupConfig) -> dict:
    """The sentence matcher on MSRP: weighted Dice of content stems (IDF from all MSRP sentences)."""
    pairs = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) == 5 and row[0] in "01":
                pairs.append((row[0] == "1", row[3], row[4]))
    det = Detector(config).fit([s for _, a, b in pairs for s in (a, b)])
    sims = []
    for _, a, b in pairs:
        batch = tokenize_batch([a.replace("\n", " "), b.replace("\n", " ")], config.stem_length)
        sim = similarity_matrix(batch.doc(0), batch.doc(1), det.document_frequency.idf, min_shared=1,
                                  min_shared_words=0)
        sims.append(float(sim.max()) if sim.size else 0.0)
    sims, gold = np.array(sims), np.array([p for p, _, _ in pairs])

    def prf(threshold: float) -> dict:
        pred = sims >= threshold
        tp, fp, fn = (pred & gold).sum(), (pred & ~gold).sum(), (~pred & gold).sum()
        p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        return {"threshold": round(float(threshold), 3), "accuracy": float((pred == gold).mean()),
                "precision": float(p), "recall": float(r), "f1": float(2 * p * r / max(p + r, 1e-9))}

    best = max((prf(t) for t in np.arange(0.05, 0.95, 0.01)), key=lambda d: d["accuracy"])
    return {"pairs": len(pairs), "positive_share": float(gold.mean()), "at_default": prf(config.sentence_similarity),
            "best_accuracy": best}


def relation_agreement(corpus: Path, config: DedupConfig) -> dict:
    """For each planted kind of a generated corpus: how many pairs the scan reported under each
    relation (None: missed), and how many named the planted source."""
    labels = {}
    with open(f"{corpus}.labels.jsonl") as f:
        for line in f:
            lab = json.loads(line)
            labels[tuple(sorted((lab["derived"], lab["source"])))] = (lab["kind"], lab["source"])
    reported: dict[str, dict[str, int]] = {kind: {} for kind, _ in labels.values()}
    source_named = {kind: 0 for kind in reported}
    unplanted = 0
    for m in Detector(config).scan(read_paths([corpus])):
        planted = labels.pop((m.a, m.b), None)
        if planted is None:
            unplanted += 1
            continue
        kind, source = planted
        reported[kind][m.relation] = reported[kind].get(m.relation, 0) + 1
        source_named[kind] += m.source == source
    for kind, _ in labels.values():
        reported[kind]["missed"] = reported[kind].get("missed", 0) + 1
    return {"reported_by_kind": reported, "source_named_by_kind": source_named, "unplanted_pairs": unplanted}


EXCERPT_SHARES = (0.1, 0.2, 0.3, 0.5)


def excerpt_recall(corpus: Path, config: DedupConfig, articles: int = 300, seed: int = 5) -> dict:
    """Excerpts of ``articles`` articles (300 words or more) planted in a corpus: per share of the
    article's words, how many excerpts were found related to their article, and with it as source."""
    import random

    rng = random.Random(seed)
    docs = [d for d in read_paths([corpus]) if isinstance(d, Document)]
    long_docs = [d for d in docs if len(d.text.split()) >= 300]
    planted = {}
    for doc in sorted(rng.sample(long_docs, min(articles, len(long_docs)))):
        words = doc.text.split()
        for share in EXCERPT_SHARES:
            n = int(len(words) * share)
            start = 0 if rng.random() < 0.5 else rng.randrange(len(words) - n)
            excerpt = Document(f"excerpt-{share}-{doc.id}", " ".join(words[start : start + n]))
            docs.append(excerpt)
            planted[tuple(sorted((excerpt.id, doc.id)))] = (share, doc.id)
    found = {share: {"planted": 0, "found": 0, "source_named": 0} for share in EXCERPT_SHARES}
    for m in Detector(config).scan(docs):
        if (m.a, m.b) in planted:
            share, source = planted[(m.a, m.b)]
            found[share]["found"] += 1
            found[share]["source_named"] += m.source == source
    for share, _ in planted.values():
        found[share]["planted"] += 1
    return found


PASSAGE_PARAGRAPHS = (2, 3, 4)


def passage_relations(corpus: Path, config: DedupConfig, articles: int = 300, seed: int = 5) -> dict:
    """Passages (2, 3 or 4 consecutive paragraphs of 20 words or more) of ``articles`` articles of a
    corpus, each set word for word among the first 8 paragraphs of another article and planted in
    the corpus: per passage length, the relation the scan reported with the passage's article, and
    how often it named that article as source, the copy, or neither."""
    import random

    rng = random.Random(seed)
    docs = [d for d in read_paths([corpus]) if isinstance(d, Document)]
    paragraphs = {d.id: [p for p in d.text.split("\n") if p.strip()] for d in docs}
    long_docs = [d.id for d in docs if len(paragraphs[d.id]) >= 12]
    planted = {}
    for k in range(articles):
        article, host = rng.sample(long_docs, 2)
        n = rng.choice(PASSAGE_PARAGRAPHS)
        starts = [i for i in range(1, len(paragraphs[article]) - n)
                  if all(len(p.split()) >= 20 for p in paragraphs[article][i : i + n])]
        if not starts:
            continue
        start = rng.choice(starts)
        text = paragraphs[host][:8]
        at = rng.randrange(1, len(text))
        copy = Document(f"passage-{k}", "\n\n".join(text[:at] + paragraphs[article][start : start + n] + text[at:]))
        docs.append(copy)
        planted[tuple(sorted((copy.id, article)))] = (n, article)
    out = {n: {"planted": 0, "relation": {}, "source": {"article": 0, "copy": 0, "null": 0}} for n in PASSAGE_PARAGRAPHS}
    for n, _ in planted.values():
        out[n]["planted"] += 1
    for m in Detector(config).scan(docs):
        if (m.a, m.b) in planted:
            n, article = planted[(m.a, m.b)]
            out[n]["relation"][m.relation] = out[n]["relation"].get(m.relation, 0) + 1
            out[n]["source"]["null" if m.source is None else "article" if m.source == article else "copy"] += 1
    return out


def markdown(results: dict) -> str:
    lines = ["| set | system | precision | recall | F1 | direction right / wrong / unknown | seconds |",
             "|---|---|---|---|---|---|---|"]
    for set_name, systems in results["sets"].items():
        for system, r in systems.items():
            d = r["direction"]
            direction = "—" if system != "dedup" else f"{d['right']} / {d['wrong']} / {d['unknown']}"
            lines.append(f"| {set_name} | {system} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
                         f"{direction} | {r['seconds']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=Path)
    parser.add_argument("--clough", type=Path, help="folder with labels.csv and texts/")
    parser.add_argument("--msrp", type=Path, help="msr_paraphrase_train.txt")
    parser.add_argument("--generated", type=Path, help="a generated corpus .jsonl, its .labels.jsonl beside it")
    parser.add_argument("--excerpts", type=Path, help="a real corpus (.jsonl or .jsonl.gz) to plant excerpts in")
    parser.add_argument("--passages", type=Path, help="a real corpus to plant passages of its articles in others")
    parser.add_argument("--json", type=Path, help="write all figures here")
    args = parser.parse_args(argv)
    config = DedupConfig()
    results: dict = {"config": config.__dict__, "sets": {}}
    sets = ([load_seeds(args.seeds)] if args.seeds else []) + ([load_clough(args.clough)] if args.clough else [])
    for labelled in sets:
        systems = {}
        found, seconds = run_dedup(labelled, config)
        systems["dedup"] = {**score(found, labelled), "seconds": seconds}
        for threshold in (0.5, 0.8):
            found, seconds = run_datasketch(labelled, threshold)
            systems[f"datasketch MinHashLSH t={threshold}"] = {**score(found, labelled), "seconds": seconds}
        results["sets"][labelled.name] = systems
    if args.msrp:
        results["msrp_sentence_matcher"] = evaluate_msrp(args.msrp, config)
    if args.generated:
        results["generated"] = relation_agreement(args.generated, config)
    if args.excerpts:
        results["excerpts"] = excerpt_recall(args.excerpts, config)
    if args.passages:
        results["passages"] = passage_relations(args.passages, config)
    print(markdown(results))
    for set_name, systems in results["sets"].items():
        r = systems["dedup"]
        print(f"\n{set_name}: dedup by relation {json.dumps(r['reported_by_relation'])}")
        print(f"{set_name}: dedup by category {json.dumps(r['reported_by_category'])}")
        print(f"{set_name}: missed {r['missed']}; false positives {r['false_positives']}")
    if args.msrp:
        print(f"\nMSRP sentence matcher: {json.dumps(results['msrp_sentence_matcher'])}")
    if args.generated:
        g = results["generated"]
        print(f"\n{args.generated.name}: planted kind -> reported relation {json.dumps(g['reported_by_kind'])}")
        print(f"{args.generated.name}: planted source named {json.dumps(g['source_named_by_kind'])}; "
              f"pairs not planted {g['unplanted_pairs']}")
    if args.excerpts:
        print(f"\nexcerpts planted in {args.excerpts}, by share of the article: {json.dumps(results['excerpts'])}")
    if args.passages:
        print(f"\npassages planted in {args.passages}, by paragraphs: {json.dumps(results['passages'])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
