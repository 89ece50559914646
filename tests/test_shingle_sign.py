import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.shingle import char_shingles, content_stems, ngram_hashes
from dedup.index import band_keys, optimal_bands
from dedup import sign as sign_module
from dedup import hashing
from dedup.hashing import mix64
from dedup.sign import EMPTY, estimate_jaccard, jaccard_from_low_bytes, low_bytes, sign, to_datasketch
from dedup.tokenize import token_hashes, tokenize_batch


def test_word_shingles_count_and_short_documents():
    batch = tokenize_batch(["one two three four five six", "one two", ""])
    offsets, _ = ngram_hashes(batch.hash, batch.offsets, 5)
    assert np.diff(offsets).tolist() == [2, 1, 0]


def test_word_shingles_are_order_sensitive_and_case_blind():
    batch = tokenize_batch(["Alpha beta gamma", "alpha BETA gamma", "gamma beta alpha"])
    _, h = ngram_hashes(batch.hash, batch.offsets, 3)
    assert h[0] == h[1] != h[2]


def test_char_shingles_ignore_punctuation_and_case():
    offsets, h = char_shingles(["Ab, c!", "ab c"], 3)
    assert np.diff(offsets).tolist() == [2, 2] and np.array_equal(h[:2], h[2:])


def test_ngram_windows_stay_inside_segments():
    values = np.arange(1, 8, dtype=np.uint64)
    offsets, h = ngram_hashes(values, np.array([0, 3, 7]), 2)
    _, again = ngram_hashes(values[3:], np.array([0, 4]), 2)
    assert np.diff(offsets).tolist() == [2, 3] and np.array_equal(h[2:], again)


def test_content_stems_layout():
    batch = tokenize_batch(["the minister resigned", "", "and the"])
    offsets, stems = content_stems(batch)
    assert offsets.tolist() == [0, 2, 2, 2] and len(stems) == 2


def _two_sets(size_a, size_b, shared, seed):
    rng = np.random.default_rng(seed)
    pool = rng.choice(2**62, size_a + size_b - shared, replace=False).astype(np.uint64)
    a, b = pool[:size_a], pool[size_a - shared :]
    return a, b, shared / (size_a + size_b - shared)


@settings(max_examples=60, deadline=None)
@given(st.integers(20, 400), st.integers(20, 400), st.floats(0, 1), st.integers(0, 10**6))
def test_estimate_within_stated_error(size_a, size_b, shared_frac, seed):
    shared = int(shared_frac * min(size_a, size_b))
    a, b, jaccard = _two_sets(size_a, size_b, shared, seed)
    sig = sign(np.array([0, len(a), len(a) + len(b)]), np.concatenate((a, b)), 256, seed % 1000)
    # standard error of MinHash is sqrt(J(1-J)/k); allow 5 of them plus a little slack
    bound = 5 * np.sqrt(jaccard * (1 - jaccard) / 256) + 0.02
    assert abs(estimate_jaccard(sig[0], sig[1]) - jaccard) <= bound
    # the low-byte sketches the scan keeps estimate it too, with a little more variance
    agreement = np.mean(low_bytes(sig[0]) == low_bytes(sig[1]))
    assert abs(float(jaccard_from_low_bytes(agreement)) - jaccard) <= bound + 0.01


def _densified_by_probing(shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """One signature the slow, obvious way: fill bins, then walk each empty bin's probe sequence."""
    h = mix64(shingles ^ sign_module._seed_key(seed))
    bins = ((h >> np.uint64(32)) * np.uint64(num_perm) >> np.uint64(32)).astype(int)
    raw = np.full(num_perm, EMPTY, np.uint32)
    np.minimum.at(raw, bins, (h & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    filled, out = raw != EMPTY, raw.copy()
    probe = sign_module._probe_table(num_perm, seed, 1 << 14)  # the sequences' first 16,384 attempts
    for i in np.flatnonzero(~filled):
        t = 0
        while not filled[probe[t, i]]:
            t += 1
        out[i] = raw[probe[t, i]]
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=6), st.sampled_from([16, 64, 256]),
       st.integers(0, 1000), st.sampled_from([1, 16]))
def test_densification_equals_plain_probing(sizes, num_perm, seed, table_depth):
    """Sparse rows read their source off the first-hit table, dense rows probe; both, and the
    fallback past the table's depth (forced with a shallow table), give what plain probing gives."""
    original = sign_module._FIRST_HIT_DEPTH
    sign_module._FIRST_HIT_DEPTH = table_depth
    try:
        rng = np.random.default_rng(seed)
        sets = [rng.integers(0, 2**63, size, dtype=np.uint64) for size in sizes]
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        sig = sign(offsets, np.concatenate(sets), num_perm, seed)
    finally:
        sign_module._FIRST_HIT_DEPTH = original
    for row, shingles in zip(sig, sets):
        assert np.array_equal(row, _densified_by_probing(shingles, num_perm, seed) if len(shingles) else
                              np.full(num_perm, EMPTY, np.uint32))


def test_identical_sets_have_identical_signatures_and_empty_is_marked():
    sig = sign(np.array([0, 3, 6, 6]), np.array([5, 6, 7, 7, 6, 5], np.uint64), 64, 1)
    assert np.array_equal(sig[0], sig[1]) and (sig[2] == EMPTY).all() and (sig[0] != EMPTY).all()


def test_seed_changes_signatures():
    shingles = np.arange(50, dtype=np.uint64)
    assert not np.array_equal(sign(np.array([0, 50]), shingles, 64, 1), sign(np.array([0, 50]), shingles, 64, 2))


def test_datasketch_export_matches_our_estimate():
    a, b, _ = _two_sets(300, 300, 150, 7)
    sig = sign(np.array([0, 300, 600]), np.concatenate((a, b)), 128, 1)
    assert to_datasketch(sig[0]).jaccard(to_datasketch(sig[1])) == pytest.approx(estimate_jaccard(sig[0], sig[1]))


def test_estimates_agree_with_datasketch_native_minhash():
    for shared in (30, 150, 270):
        a, b, jaccard = _two_sets(300, 300, shared, shared)
        ours = sign(np.array([0, 300, 600]), np.concatenate((a, b)), 256, 1)
        ma, mb = MinHash(num_perm=256, seed=1), MinHash(num_perm=256, seed=1)
        ma.update_batch([int(x).to_bytes(8, "little") for x in a])
        mb.update_batch([int(x).to_bytes(8, "little") for x in b])
        bound = 5 * np.sqrt(jaccard * (1 - jaccard) / 256) + 0.02
        assert abs(estimate_jaccard(ours[0], ours[1]) - ma.jaccard(mb)) <= 2 * bound


SIGNATURE_SCRIPT = """
import hashlib
from dedup import Detector
texts = {texts!r}
print(hashlib.sha256(Detector(seed=3).signatures(texts).tobytes()).hexdigest())
"""


@settings(max_examples=3, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=4))
def test_signatures_identical_across_processes(texts):
    script = SIGNATURE_SCRIPT.format(texts=texts)
    digests = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout
        for seed in (1, 2)
    }
    assert len(digests) == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=120), min_size=1, max_size=5))
def test_token_hashes_equal_the_full_tokenizer(texts):
    offsets, hashes = token_hashes(texts)
    batch = tokenize_batch(texts)
    assert np.array_equal(offsets, batch.offsets) and np.array_equal(hashes, batch.hash)


def test_public_signatures_are_the_scans_copy_signatures(tmp_path):
    from conftest import news_text

    from dedup import DedupConfig, Detector
    from dedup.pipeline import sign_records
    from dedup.store import Spool

    texts = [news_text(i) for i in range(5)] + [news_text(0).upper()]
    ours = Detector().signatures(texts)
    spool = Spool(str(tmp_path))
    batch = sign_records(DedupConfig(), [(str(i), t, None) for i, t in enumerate(texts)], spool)
    spool.close()
    assert batch.texts.read()[1] == news_text(1)  # clean text: the generated one is already clean
    assert np.array_equal(low_bytes(ours), batch.copy_sketches)
    assert np.array_equal(band_keys(ours, *optimal_bands(0.3, 128)), batch.copy_keys)
    assert np.array_equal(ours[0], ours[5]) and not np.array_equal(ours[0], ours[1])
    assert Detector().signatures([]).shape == (0, 128)


@pytest.mark.parametrize("n", [1, 2, 4095, 4096, 4097, 3 * 4096 + 5])
def test_hash_powers_are_the_base_powers_and_their_inverses(n):
    up, down = hashing._build_powers(n)
    base, mod = int(hashing._BASE), 1 << 64
    assert len(up) == len(down) == n
    for i in sorted({0, min(1, n - 1), n // 2, n - 1, max(n - 4097, 0)}):
        assert int(up[i]) == pow(base, i, mod) and int(up[i]) * int(down[i]) % mod == 1
