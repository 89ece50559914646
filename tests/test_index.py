import itertools
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.store import BandKeyStore, BandSlice, IdStore, band_keys_of, map_for_random_rows
from dedup.index import _candidate_probability, _stable_key_order, band_keys, bucket_pairs, candidate_pairs, optimal_bands, pairs_from_bands


def test_optimal_bands_fit_and_move_with_threshold():
    low, high = optimal_bands(0.2, 128), optimal_bands(0.8, 128)
    assert low[0] * low[1] <= 128 and high[0] * high[1] <= 128
    assert low[1] < high[1]  # more rows per band for a stricter threshold
    b, r = optimal_bands(0.5, 128)
    assert _candidate_probability(np.array(0.8), b, r) > 0.95
    assert _candidate_probability(np.array(0.2), b, r) < 0.1


@settings(max_examples=20, deadline=None)
@given(st.floats(0.05, 0.95), st.sampled_from([8, 20, 64, 128]), st.floats(0.1, 0.9))
def test_optimal_bands_is_the_first_cheapest_of_all_band_and_row_counts(threshold, num_perm, w):
    below, above = np.linspace(0.0, threshold, 201), np.linspace(threshold, 1.0, 201)
    best, best_cost = None, np.inf
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            cost = (w * np.trapezoid(_candidate_probability(below, bands, rows), below)
                    + (1 - w) * np.trapezoid(1.0 - _candidate_probability(above, bands, rows), above))
            if cost < best_cost - 1e-12:
                best, best_cost = (bands, rows), cost
    assert optimal_bands(threshold, num_perm, (w, 1 - w)) == best


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=40))
def test_bucket_pairs_are_exactly_the_pairs_sharing_a_key(keys):
    keys = np.array(keys, np.uint64)
    expected = {(i, j) for i, j in itertools.combinations(range(len(keys)), 2) if keys[i] == keys[j]}
    assert {tuple(p) for p in bucket_pairs(keys, 1000).tolist()} == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=60))
def test_key_order_is_a_stable_argsort_even_when_keys_agree_on_their_top_bits(parts):
    # keys made of few top values and few low values, so that many differ only in their low bits
    keys = np.array([(top << 60) | low for top, low in parts], np.uint64)
    order, sorted_keys = _stable_key_order(keys)
    expected = np.argsort(keys, kind="stable")
    assert order.tolist() == expected.tolist() and sorted_keys.tolist() == keys[expected].tolist()


def test_oversized_bucket_is_a_chain_not_a_clique():
    pairs = bucket_pairs(np.zeros(1000, np.uint64), max_bucket_size=10)
    assert len(pairs) == 999
    # still connected: every document reaches document 0
    assert set(pairs[:, 0].tolist()) | set(pairs[:, 1].tolist()) == set(range(1000))


def test_candidates_find_similar_and_skip_dissimilar():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**32, 128, dtype=np.uint64).astype(np.uint32)
    near = base.copy()
    near[:10] = rng.integers(0, 2**32, 10, dtype=np.uint64).astype(np.uint32)
    other = rng.integers(0, 2**32, 128, dtype=np.uint64).astype(np.uint32)
    sigs = np.stack((base, other, near))
    assert candidate_pairs(sigs, 0.5).tolist() == [[0, 2]]
    assert candidate_pairs(sigs, 0.5, valid=np.array([True, True, False])).tolist() == []


def test_band_keys_depend_on_every_row():
    sig = np.zeros((2, 8), np.uint32)
    sig[1, 3] = 1
    keys = band_keys(sig, 2, 4)
    assert keys[0, 0] != keys[1, 0] and keys[0, 1] == keys[1, 1] and keys[0, 0] != keys[0, 1]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=12, max_size=12), min_size=1, max_size=6), st.integers(0, 10**6))
def test_accept_filter_keeps_exactly_the_accepted_pairs_and_judges_them_once(bands, salt):
    keys = [np.array(b, np.uint64) for b in bands]
    judged = []

    def accept(pairs):
        judged.extend(map(tuple, pairs.tolist()))
        return (pairs[:, 0] * 7 + pairs[:, 1] + salt) % 3 != 0

    everything = {tuple(p) for p in pairs_from_bands(keys, max_bucket_size=100).tolist()}
    kept = {tuple(p) for p in pairs_from_bands(keys, max_bucket_size=100, accept=accept).tolist()}
    assert kept == {(i, j) for i, j in everything if (i * 7 + j + salt) % 3 != 0}
    assert all(judged.count(pair) == 1 for pair in kept) and set(judged) == everything


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=12, max_size=12), min_size=1, max_size=6), st.integers(0, 10**6))
def test_known_pairs_are_neither_judged_nor_returned(bands, salt):
    keys = [np.array(b, np.uint64) for b in bands]
    everything = pairs_from_bands(keys, max_bucket_size=100)
    known = everything[(everything[:, 0] * 5 + everything[:, 1] + salt) % 2 == 0]
    judged = []

    def accept(pairs):
        judged.extend(map(tuple, pairs.tolist()))
        return np.ones(len(pairs), bool)

    found = pairs_from_bands(keys, max_bucket_size=100, accept=accept, known=known[:, 0] * 12 + known[:, 1])
    rest = {tuple(p) for p in everything.tolist()} - {tuple(p) for p in known.tolist()}
    assert {tuple(p) for p in found.tolist()} == rest == set(judged)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=6), st.integers(1, 9), st.booleans())
def test_band_key_store_reads_back_each_band(batch_sizes, bands, spill):
    rng = np.random.default_rng(len(batch_sizes) * 100 + bands)
    batches = [rng.integers(0, 2**63, (size, bands)).astype(np.uint64) for size in batch_sizes]
    store = BandKeyStore(bands, spill)
    for keys in batches:
        store.append(keys)
    everything = np.concatenate(batches) if batches else np.zeros((0, bands), np.uint64)
    # spilled, a band is a picklable reference that any process reads from the file
    assert all(np.array_equal(band_keys_of(pickle.loads(pickle.dumps(store.band(b)))), everything[:, b])
               for b in range(bands))
    assert isinstance(store.band(0), BandSlice) == spill
    path = store.band(0).path if spill else None
    store.close()
    assert path is None or not os.path.exists(path)


@pytest.mark.parametrize("array", [np.arange(12, dtype=np.uint8).reshape(4, 3), np.zeros((0, 5), np.uint8),
                                   np.arange(10, dtype=np.int64), np.ones((3, 256), np.uint8)])
def test_arrays_mapped_for_random_rows_read_back_as_saved(tmp_path, array):
    path = str(tmp_path / "rows.npy")
    np.save(path, array)
    mapped = map_for_random_rows(path)
    assert mapped.dtype == array.dtype and mapped.shape == array.shape and np.array_equal(mapped, array)
    assert not mapped.flags.writeable


@given(st.lists(st.lists(st.text(st.characters(blacklist_categories=())), max_size=6), max_size=5))
def test_id_store_gives_back_ids_and_their_python_sort_order(batches):
    # any text, lone surrogates and NUL included: the canonical order must be Python's string order
    store, ids = IdStore(), []
    for batch in batches:
        store.extend(batch)
        ids += batch
    assert len(store) == len(ids)
    assert store.get(range(len(ids))) == ids
    assert store.canonical_order().tolist() == sorted(range(len(ids)), key=ids.__getitem__)


def test_document_frequencies_saved_and_loaded_are_the_same(tmp_path):
    from dedup.frequency import DocumentFrequency

    df = DocumentFrequency(bits=12)
    df.add(np.array([0, 3, 5, 5, 9]), np.arange(9, dtype=np.uint64) % 4)
    df.save(str(tmp_path / "df.npy"))
    loaded = DocumentFrequency.load(str(tmp_path / "df.npy"))
    assert loaded.n_docs == df.n_docs == 4 and loaded.bits == 12
    assert np.array_equal(loaded.counts, df.counts) and loaded.counts.sum() > 0
