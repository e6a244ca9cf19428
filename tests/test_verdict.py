"""The same-person verdicts: the list rule (Judge) and the pair verdict of compare.

Unit tests of the rule with the shipped calibration figures, then the rule end to end on a real
library (the real model, real photos): a stranger close enough to get the old fixed threshold's
badge does not get it now, the person's own photos do.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import FACES, HOPKINS_1, HOPKINS_2, copy_faces, ff
from facefinder.core import verify
from facefinder.core.verify import Judge, calibration, pair_verdict


def test_the_badge_needs_a_closer_match_in_a_larger_library():
    cal = calibration()
    small, large = Judge(cal, 100), Judge(cal, 100_000)
    d = 0.93
    assert small.expected_strangers(d) * 1000 == pytest.approx(large.expected_strangers(d))
    assert small.verdict(d).tier == "same"
    assert large.verdict(d).tier in ("possible", "")
    # Nearer is never judged less the same person: tiers only weaken with distance.
    rank = {"same": 2, "possible": 1, "": 0}
    for judge in (small, large, Judge(cal, 1000, (1.35, 0.1))):
        tiers = [rank[judge.verdict(x).tier] for x in np.arange(0.2, 1.8, 0.01)]
        assert tiers == sorted(tiers, reverse=True)
        assert tiers[0] == 2 and tiers[-1] == 0


def test_a_tiny_library_does_not_badge_far_faces():
    # 10 faces: few strangers, so few are expected even far out; the caps still hold.
    cal = calibration()
    judge = Judge(cal, 10)
    d = (cal.different[0] + cal.threshold) / 2
    assert judge.expected_strangers(d) < verify.SAME_EXPECTED
    assert judge.verdict(d).tier == "possible"  # 1 in 100 pairs of strangers come this close
    assert judge.expected_strangers(1.2) < verify.POSSIBLE_EXPECTED
    assert judge.verdict(1.2).tier == ""  # over the pair threshold: no verdict at all


def test_per_query_normalisation_follows_the_query():
    cal = calibration()
    # A query whose strangers sit far away: a given distance is more telling than for a query
    # with crowded strangers.
    lonely = Judge(cal, 1000, (1.45, 0.08))
    crowded = Judge(cal, 1000, (1.25, 0.12))
    assert lonely.expected_strangers(0.95) < crowded.expected_strangers(0.95)
    # The query's statistics leave out near faces (likely the person) and lean on the
    # calibration when the library is small.
    mu, sd = verify.query_norm(np.array([0.5, 0.6, 0.7] + [1.4] * 5), cal)
    assert 1.38 < mu < 1.41 and sd < 0.11
    mu, sd = verify.query_norm(np.full(5000, 1.2), cal)
    assert mu == pytest.approx(1.2, abs=0.01)


def test_small_faces_never_get_a_confident_verdict():
    cal = calibration()
    judge = Judge(cal, 1000)
    assert judge.verdict(0.5, face_side=cal.small_face + 10).tier == "same"
    v = judge.verdict(0.5, face_side=cal.small_face - 1)
    assert v.tier == "possible" and v.small
    assert Judge(cal, 1000, query_small=True).verdict(0.5).tier == "possible"
    # also with a fixed threshold the user chose
    assert Judge(cal, 1000, threshold=1.0).verdict(0.5, face_side=10).tier == "possible"
    assert Judge(cal, 1000, threshold=1.0).verdict(1.05).tier == ""
    assert verify.quality((0, 0, cal.small_face - 1, 200)) == "small"
    assert verify.quality((0, 0, cal.small_face, cal.small_face)) == "ok"


def test_pair_verdict_says_how_often_strangers_are_this_close():
    v = pair_verdict(0.60)
    assert v.tier == "same" and v.under_threshold
    assert v.different_closer < 1e-4 and 0 < v.same_farther < 1
    w = pair_verdict(1.0)
    assert w.tier == "possible" and w.under_threshold
    assert w.one_in() >= 100  # "1 in N pairs of different people are this close"
    assert f"1 in {w.one_in():,} pairs" in w.words() and "sure" not in w.words()
    far = pair_verdict(1.5)
    assert far.tier == "different" and far.different_closer > 0.5
    assert "most pairs" in far.words()
    assert pair_verdict(0.6, small=True).tier == "possible"
    # The article crop's own figures: its threshold, not the default one.
    assert pair_verdict(1.18, "article").under_threshold
    assert not pair_verdict(1.18).under_threshold
    assert verify.one_in(0.00083) == 1200 and verify.one_in(0.6) == 0


def test_shares_follow_the_shipped_distributions():
    cal = calibration()
    shares = [cal.share_different_closer(d) for d in np.arange(0.3, 1.8, 0.02)]
    assert all(a <= b for a, b in zip(shares, shares[1:]))
    for p, d in cal.stranger_tail:
        assert cal.share_different_closer(d) == pytest.approx(p, rel=0.05)
    assert cal.share_different_closer(cal.different[4]) == pytest.approx(0.5, abs=0.01)


# -- end to end ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdict")
    copy_faces(root / "photos", ["al_gore", "ana_palacio", "andre_agassi", "ari_fleischer"], 3)
    copy_faces(root / "photos", ["anthony_hopkins"])
    ff("index", root / "photos", "--library", root / "lib", "-q")
    return root / "lib"


def test_search_json_verdicts_are_the_judges(library):
    from facefinder.core.library import Library
    from facefinder.core.search import judge_for

    query = FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0005.jpg"
    out = json.loads(ff("search", query, "--library", library, "-k", "6", "--json").stdout)
    results = out["results"]
    assert out["threshold"] is None and out["pipeline"] == "rel25"
    gore = [r for r in results if "al_gore" in r["image_path"]]
    others = [r for r in results if "al_gore" not in r["image_path"]]
    assert len(gore) == 3 and all(r["same_person"] and r["verdict"] == "same person"
                                  for r in gore)
    assert not any(r["same_person"] for r in others)
    # Under the old fixed threshold (1.2) the nearest stranger here was badged; not any more.
    assert any(r["distance"] < 1.25 for r in others)
    # `same_person` is what Judge.verdict says for these distances (the function the app calls)
    from facefinder.core.pipeline import Engine

    engine = Engine()
    with Library(library, None, create=False) as lib:
        _, faces, i = engine.query_face(query)
        judge = judge_for(lib, faces[i].embedding, faces[i].box)
    for r in results:
        v = judge.verdict(r["distance"], min(r["box"][2:]))
        assert v.same == r["same_person"]
        assert r["expected_strangers"] == pytest.approx(v.expected_strangers, rel=0.01)
    # --threshold: a fixed threshold instead
    fixed = json.loads(ff("search", query, "--library", library, "-k", "6", "--json",
                          "--threshold", "1.3").stdout)
    assert all(r["same_person"] == (r["distance"] < 1.3) for r in fixed["results"])


def test_compare_words_are_frequencies(library):
    out = ff("compare", HOPKINS_1, HOPKINS_2).stdout
    assert "Same person" in out and "pairs of different people are this close" in out
    assert "sure" not in out
