"""Report arithmetic on hand-made records: gap closed, Table 1, APP-k, regressions, checks."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from handrecords import hand_record as _record
from reluscope.errors import ReluscopeError
from reluscope.experiments.gap_analysis import empirical_ub_range
from reluscope.experiments.paper import PAPER_LEO, PAPER_TABLE1
from reluscope.experiments.records import dump_json
from reluscope.experiments.report import render_report, write_report
from reluscope.experiments.reproduce import (
    ALL_SPLITS,
    ExperimentSettings,
    Task,
    _check_settings,
    make_tasks,
    record_finished,
)
from reluscope.experiments.tables import (
    ESTIMATED,
    check_orderings,
    figure3_members,
    figure3_series,
    finishing_work,
    flat_row,
    gap_closed,
    gap_closed_log2,
    per_split_summary,
    regressions,
    rows_to_csv,
    table1,
    time_totals,
)


def test_gap_closed_by_hand():
    assert gap_closed(1000, 400, 100) == pytest.approx(100 * 600 / 900)
    assert gap_closed(64, 64, 8) == 0.0
    assert gap_closed(64, 8, 8) == 100.0
    assert gap_closed(8, 8, 8) is None
    assert gap_closed_log2(1000, 400, 100) == pytest.approx(
        100 * (math.log2(1000) - math.log2(400)) / (math.log2(1000) - math.log2(100))
    )
    assert gap_closed_log2(1024, 32, 2) == pytest.approx(100 * 5 / 9)


def test_table1_averages_finished_networks_only():
    records = [
        _record(1, 21, 0, conf=1000, emp=400, exact=100),
        _record(1, 21, 1, conf=64, emp=64, exact=8),
        _record(1, 21, 2, conf=64, emp=10, exact=9, complete=False),  # lower bound only
        _record(11, 11, 0, conf=2**20, emp=2**19, exact=2**18),
    ]
    rows = [flat_row(r, [2]) for r in records]
    t1 = {t["n1"]: t for t in table1(rows)}
    assert t1[1]["networks"] == 3 and t1[1]["networks_in_gap"] == 2
    assert t1[1]["gap_closed"] == pytest.approx((100 * 600 / 900 + 0.0) / 2)
    assert t1[1]["paper_gap_closed"] == 73.1 and t1[11]["paper_gap_closed"] == 0.0
    # the cut-short network enters the ">=" column with its proven count 9 in place of x
    assert rows[2]["gap_closed_at_least"] == pytest.approx(100 * 54 / 55)
    assert t1[1]["networks_at_least"] == 3
    assert t1[1]["gap_closed_at_least"] == pytest.approx((100 * 600 / 900 + 0 + 100 * 54 / 55) / 3)
    # 2^20 - 2^19 over 2^20 - 2^18 = 2/3 on counts; (20 - 19) / (20 - 18) on log2
    assert t1[11]["gap_closed"] == pytest.approx(200 / 3)
    assert t1[11]["gap_closed_log2"] == pytest.approx(50.0)
    assert t1[11]["widths"] == "11;11;10"
    assert len(PAPER_TABLE1) == 21 and sum(n1 + n2 == 22 for n1, n2 in ALL_SPLITS) == 21


def test_table1_with_tree_estimates_of_counts_cut_short():
    """A count cut short with a tree estimate enters Table 1 at its estimate, the gap at
    its interval's ends bounding it; the estimate is clipped to [proven, Empirical UB]."""
    done = _record(7, 15, 0, conf=1000, emp=400, exact=100)
    cut = _record(7, 15, 1, conf=1000, emp=400, exact=50, complete=False)
    cut["tree"] = {"estimate": 200.0, "ci_low": 40.0, "ci_high": 450.0, "status": "complete",
                   "seconds": 9.0}
    bare = _record(7, 15, 2, conf=1000, emp=400, exact=60, complete=False)  # no estimate
    rows = [flat_row(r, []) for r in (done, cut, bare)]
    assert rows[1]["tree_estimate"] == 200.0
    assert (rows[1]["tree_ci_low"], rows[1]["tree_ci_high"]) == (50.0, 400.0)  # clipped
    assert rows[1]["gap_closed_estimated"] == pytest.approx(100 * 600 / 800)
    assert rows[1]["gap_closed_estimated_low"] == pytest.approx(100 * 600 / 950)
    assert rows[1]["gap_closed_estimated_high"] == pytest.approx(100.0)
    assert rows[0]["gap_closed_estimated"] == rows[0]["gap_closed"]
    assert rows[2]["gap_closed_estimated"] is None
    [t] = table1(rows)
    assert t["networks_in_gap"] == 1 and t["networks_estimated"] == 2
    assert t["gap_closed_estimated"] == pytest.approx((100 * 600 / 900 + 100 * 600 / 800) / 2)
    assert t["gap_closed_estimated_low"] <= t["gap_closed_estimated"]
    assert t["gap_closed_estimated"] <= t["gap_closed_estimated_high"]
    settings = ExperimentSettings(splits=((7, 15),), xor_sizes=())
    text = render_report(settings.to_dict(), [done, cut, bare], rows)
    assert "| 7;15;10 | 2 (1) | 70.8 [64.9, 83.3] | 48.4 [35.2, 69.9] | 1.1 |" in text
    # against the paper's 1.1: |70.8 - 1.1| on counts, |48.4 - 1.1| on log2, both outside
    counts = (100 * 600 / 900 + 100 * 600 / 800) / 2
    logs = (100 * math.log2(1000 / 400) / math.log2(1000 / 100)
            + 100 * math.log2(1000 / 400) / math.log2(1000 / 200)) / 2
    assert (f"mean absolute difference on counts {counts - 1.1:.1f} points (the paper's "
            f"value inside the interval on 0 of 1); on log2 {logs - 1.1:.1f} points") in text


def test_figure3_and_the_cost_take_the_tree_estimates():
    """Figure 3 gets a series of every network's count, estimated where cut short, which
    replaces the exact-only series in the like-for-like set; the work left is priced at
    each network's estimate (the split's median where a network has none)."""
    done = _record(7, 15, 0, conf=10**6, emp=10**5, exact=2**10, acc=0.90, lbs={2: 16})
    cut = _record(7, 15, 1, conf=10**6, emp=10**5, exact=100, complete=False, acc=0.92,
                  lbs={2: 64})
    cut["tree"] = {"estimate": 2.0**12, "ci_low": 2.0**11, "ci_high": 2.0**13,
                   "status": "time_limit", "seconds": 60.0}
    bare = _record(7, 15, 2, conf=10**6, emp=10**5, exact=200, complete=False, acc=0.94)
    rows = [flat_row(r, [2]) for r in (done, cut, bare)]
    series = figure3_series(rows, [2])
    assert [c for _, c, _ in series["exact"]] == [10.0]
    assert [c for _, c, _ in series[ESTIMATED]] == [10.0, 12.0]
    members = figure3_members(rows, [2])
    assert members["common"] == [done["key"], cut["key"]]  # not restricted to exact
    same = regressions(rows, [2], common=True)
    assert set(same) == {ESTIMATED, "APP-2"}
    assert same[ESTIMATED]["slope"] == pytest.approx((12 - 10) / (0.92 - 0.90))
    [work] = finishing_work(rows, [2])
    rate = 7.0 / 2**10  # seconds per region of the finished count
    assert work["tree_median"] == 2.0**12 and work["tree_networks"] == 1
    assert work["left_at_estimate"] == pytest.approx(rate * 2 * 2.0**12)
    assert time_totals([cut])["tree"] == 60.0
    # Figure 2 (top): the split's mean count, exact or estimated, only when every
    # network has one (``bare`` has neither)
    [split] = per_split_summary(rows, [2])
    assert split["estimated_regions"] is None
    [split] = per_split_summary(rows[:2], [2])
    assert (split["estimated_regions"], split["estimated_low"], split["estimated_high"]) == (
        (2**10 + 2**12) / 2, (2**10 + 2**11) / 2, (2**10 + 2**13) / 2)
    settings = ExperimentSettings(splits=((7, 15),), xor_sizes=(2,))
    text = render_report(settings.to_dict(), [done, cut, bare], rows)
    # 2^12 regions; 60 s + 3 s of bounds; half-width (2^13 - 2^11) / 2^13; XOR-2 1.5 + 3 s
    assert "| 12-16 | 1 | 63.0 | 75% | 75% | 4.5 |" in text


def test_a_count_cut_short_needs_its_tree_estimate():
    settings = ExperimentSettings(splits=((7, 15),), xor_sizes=(), milp_networks=0,
                                  tree_networks=1)
    cut = _record(7, 15, 0, conf=1000, emp=400, exact=50, complete=False)
    cut["exact"]["time_limit"] = settings.count_time_limit
    assert not record_finished(cut, settings)
    cut["tree"] = {"estimate": 200.0, "ci_low": 40.0, "ci_high": 450.0, "status": "complete"}
    assert record_finished(cut, settings)
    other = _record(7, 15, 1, conf=1000, emp=400, exact=50, complete=False)
    other["exact"]["time_limit"] = settings.count_time_limit
    assert record_finished(other, settings)  # beyond tree_networks


def test_app_k_checks_and_csv():
    rec = _record(4, 18, 0, conf=5000, emp=1024, exact=100, lbs={2: 4, 3: 64},
                  milp=100)
    bad = _record(4, 18, 1, conf=5000, emp=1024, exact=100, lbs={2: 256}, milp=99)
    rows = [flat_row(rec, [2, 3]), flat_row(bad, [2, 3])]
    assert rows[0]["app2_log2"] == pytest.approx((2 + 10) / 2)
    assert rows[0]["app3_log2"] == pytest.approx((6 + 10) / 2)
    assert rows[1]["xor3_lb"] is None and rows[1]["app3_log2"] is None
    checks = check_orderings(rows, [2, 3])
    assert checks["exact_le_emp"] == {"hold": 2, "fail": 0}
    assert checks["emp_le_conf"] == {"hold": 2, "fail": 0}
    assert checks["xor2_le_exact"] == {"hold": 1, "fail": 1}  # 256 > 100
    assert checks["lp_eq_milp"] == {"hold": 1, "fail": 1}
    text = rows_to_csv(rows)
    assert text.splitlines()[0].startswith("key,n1,n2,index")
    assert len(text.splitlines()) == 3
    # exact integers survive the CSV even beyond 2^63
    huge = flat_row(_record(4, 18, 2, conf=2**70 + 1, emp=2**69, exact=3), [2])
    assert str(2**70 + 1) in rows_to_csv([huge])


def test_regression_line_by_hand():
    records = [_record(8, 14, i, conf=2**12, emp=2**11, exact=2**e, acc=a, lbs={2: 2**(e - 2)})
               for i, (a, e) in enumerate([(0.90, 10), (0.91, 8), (0.92, 6)])]
    records.append(_record(2, 20, 0, conf=2**12, emp=2**11, exact=2, acc=0.5))  # too narrow
    rows = [flat_row(r, [2]) for r in records]
    reg = regressions(rows, [2])
    assert reg["exact"]["points"] == 3
    assert reg["exact"]["slope"] == pytest.approx(-200.0)
    assert reg["exact"]["intercept"] == pytest.approx(190.0)
    assert reg["exact"]["pearson_r"] == pytest.approx(-1.0)
    # APP-2 = ((e - 2) + 11) / 2: slope is half of the exact one
    assert reg["APP-2"]["slope"] == pytest.approx(-100.0)


def test_within_split_regression_by_hand():
    """Two splits: the wider one is both more accurate and has more regions (a positive
    pooled slope), while inside each split more regions go with lower accuracy."""
    data = {(8, 14): [(0.80, 6), (0.82, 4), (0.84, 2)], (14, 8): [(0.90, 16), (0.92, 14)]}
    records = [_record(n1, n2, i, conf=2**20, emp=2**19, exact=2**e, acc=a)
               for (n1, n2), pts in data.items() for i, (a, e) in enumerate(pts)]
    records.append(_record(11, 11, 0, conf=2**20, emp=2**19, exact=2**9, acc=0.5))  # alone
    reg = regressions([flat_row(r, []) for r in records], [])["exact"]
    assert reg["points"] == 6 and reg["slope"] > 0
    # deviations: (-.02, 2), (0, 0), (.02, -2), (-.01, 1), (.01, -1): slope -100, r = -1
    assert reg["within_points"] == 5
    assert reg["within_slope"] == pytest.approx(-100.0)
    assert reg["within_r"] == pytest.approx(-1.0)


def test_an_estimate_cut_short_is_finished_only_under_the_limit_it_had():
    settings = ExperimentSettings(splits=((4, 18),), networks_per_split=1, milp_networks=0,
                                  xor_networks=1, xor_sizes=(2, 5), estimate_time_limit=60.0)
    rec = _record(4, 18, 0, conf=5000, emp=1024, exact=100, lbs={2: 64, 5: 256})
    rec["xor"]["5"].update(status="time_limit", seconds=60.3, repetitions=9)  # no time_limit
    assert record_finished(rec, settings)
    assert not record_finished(rec, dataclasses.replace(settings, estimate_time_limit=600.0))
    assert not record_finished(rec, dataclasses.replace(settings, estimate_time_limit=None))
    rec["xor"]["5"]["time_limit"] = 600.0  # cut short again, under the larger limit
    assert record_finished(rec, dataclasses.replace(settings, estimate_time_limit=600.0))
    rec["xor"]["5"]["status"] = "interrupted"
    assert not record_finished(rec, settings)


def test_a_count_cut_short_is_finished_only_under_the_limit_it_had():
    settings = ExperimentSettings(splits=((4, 18),), networks_per_split=1, milp_networks=0,
                                  xor_networks=0, xor_sizes=(), count_time_limit=15.0,
                                  tree_networks=0)
    cut = _record(4, 18, 0, conf=5000, emp=1024, exact=100, complete=False)
    cut["exact"]["time_limit"] = 15.0
    assert record_finished(cut, settings)
    assert record_finished(cut, dataclasses.replace(settings, count_time_limit=10.0))
    assert not record_finished(cut, dataclasses.replace(settings, count_time_limit=60.0))
    assert not record_finished(cut, dataclasses.replace(settings, count_time_limit=None))
    done = _record(4, 18, 1, conf=5000, emp=1024, exact=100)
    assert record_finished(done, dataclasses.replace(settings, count_time_limit=None))
    # the report says which limits the counts had when they differ
    longer = json.loads(json.dumps(cut))
    longer["exact"].update(time_limit=120.0, seconds=80.0, status="complete", exact=True)
    records = [cut, longer]
    text = render_report(settings.to_dict(), records, [flat_row(r, []) for r in records])
    assert "Exact count limits per network: 15 s on 1, 120 s on 1." in text


def test_time_totals_and_report_text():
    records = [_record(1, 21, 0, conf=1000, emp=400, exact=100, lbs={2: 8}),
               _record(1, 21, 1, conf=64, emp=64, exact=8, lbs={2: 4})]
    totals = time_totals(records)
    assert totals == {"train": 4.0, "bounds": 6.0, "upper": 1.0, "exact": 14.0, "xor2": 3.0}
    rows = [flat_row(r, [2]) for r in records]
    settings = ExperimentSettings(splits=((1, 21),), networks_per_split=2, xor_sizes=(2,))
    text = render_report(settings.to_dict(), records, rows)
    assert "| 1;21;10 | 2 (2) | 33.3 |" in text
    assert "73.1" in text and "Exact counts finished: 2 of 2" in text


def test_report_quotes_one_leo_claim_beside_each_row():
    records = [_record(1, 21, 0, conf=1000, emp=400, exact=100)]
    rows = [flat_row(r, []) for r in records]
    leo = [{"width": w, "l1": l1, "removed_percent": p, "test_accuracy_before": 0.95,
            "test_accuracy_after": 0.95, "widths_after": [w, w, 10], "max_abs_diff": 0.0,
            "recipe": "authors"}
           for w, l1, p in ((25, 1e-3, 22.0), (25, 0.0, 0.0), (50, 1e-3, 31.0),
                            (100, 1e-4, 9.0))]
    settings = ExperimentSettings(splits=((1, 21),), networks_per_split=1, xor_sizes=())
    text = render_report(settings.to_dict(), records, rows, leo=leo)
    claim = PAPER_LEO.sentence()
    assert claim.startswith("22% (width 25) to 31% (width 100)") and "95.8-97.1%" in claim
    # the summary and the LEO section quote the same sentence, and nothing else
    assert text.count(claim) == 2 and "15-31%" not in text and "98.1%" in claim
    assert "with L1 at most 31.0% (width 50" in text
    assert "| 25 | 0.001 | 0.9500 | 0.9500 | 22.0% | 22% |" in text
    assert "| 25 | 0.0 | 0.9500 | 0.9500 | 0.0% | 0% |" in text
    assert "| 50 | 0.001 | 0.9500 | 0.9500 | 31.0% | 22-31% |" in text
    assert "| 100 | 0.0001 | 0.9500 | 0.9500 | 9.0% | 15% at 98.1% |" in text
    assert "training recipe authors" in text


def test_tasks_seeds_and_finished_records():
    settings = ExperimentSettings(splits=((3, 19), (11, 11)), networks_per_split=2,
                                  xor_sizes=(2,), milp_networks=1)
    tasks = make_tasks(settings)
    assert [t.key for t in tasks] == ["03-19-00", "11-11-00", "03-19-01", "11-11-01"]
    assert len({t.seed(settings) for t in tasks}) == 4
    rec = _record(3, 19, 1, conf=10, emp=9, exact=8, lbs={2: 4})
    assert record_finished(rec, settings)  # index 1: no MILP count needed
    rec0 = _record(3, 19, 0, conf=10, emp=9, exact=8, lbs={2: 4})
    assert not record_finished(rec0, settings)  # index 0 needs the MILP count
    rec0["exact_milp"] = {"regions": 8, "exact": True, "seconds": 1.0}
    assert record_finished(rec0, settings)
    rec0["xor"]["2"] = {"error": "SolverError: boom"}
    assert not record_finished(rec0, settings)
    # with xor_networks=1 only network 0 of a split needs MIPBound
    only_first = dataclasses.replace(settings, xor_networks=1)
    no_xor = _record(3, 19, 1, conf=10, emp=9, exact=8, lbs={})
    assert record_finished(no_xor, only_first) and not record_finished(no_xor, settings)
    assert not record_finished(rec0, only_first)
    assert ExperimentSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


def test_settings_guard(tmp_path):
    settings = ExperimentSettings(splits=((3, 19),), networks_per_split=1)
    _check_settings(tmp_path, settings)
    # more splits / networks extend the run
    _check_settings(tmp_path, settings.with_scale([(5, 17)], 2))
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["splits"] == [[3, 19], [5, 17]] and saved["networks_per_split"] == 2
    # so do more networks with MIPBound or the MILP engine; None (every network) wins
    _check_settings(tmp_path, dataclasses.replace(settings, xor_networks=1, milp_networks=3))
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["xor_networks"] is None and saved["milp_networks"] == 3
    fresh = tmp_path / "fresh"
    _check_settings(fresh, dataclasses.replace(settings, xor_networks=1))
    _check_settings(fresh, dataclasses.replace(settings, xor_networks=2))
    assert json.loads((fresh / "settings.json").read_text())["xor_networks"] == 2
    # a longer tree estimate on more networks extends the run too
    tree = tmp_path / "tree"
    _check_settings(tree, dataclasses.replace(settings, tree_networks=1, tree_time_limit=60))
    _check_settings(tree, dataclasses.replace(settings, tree_networks=2, tree_time_limit=120))
    saved = json.loads((tree / "settings.json").read_text())
    assert (saved["tree_networks"], saved["tree_time_limit"]) == (2, 120)
    with pytest.raises(ReluscopeError, match="epochs"):
        _check_settings(tmp_path, ExperimentSettings(splits=((3, 19),), epochs=3))
    with pytest.raises(ReluscopeError, match="positive"):
        ExperimentSettings(splits=((0, 22),))


def test_failed_task_is_recorded_and_retried(tmp_path):
    pytest.importorskip("torch")
    from reluscope.experiments.reproduce import load_record, reproduce

    # 5 outputs for 10 classes: train_network refuses, the run goes on and notes it
    settings = ExperimentSettings(splits=((2, 3),), networks_per_split=1, dataset="digits",
                                  n_train=100, output_width=5, epochs=0.1)
    result = reproduce(tmp_path, settings=settings, report=False)
    assert result.tasks == 1 and result.finished == 0 and result.computed == 0
    record = load_record(tmp_path, Task(2, 3, 0))
    assert "number of classes" in record["task_error"]
    assert not record_finished(record, settings)


def test_report_explains_the_narrow_splits():
    rec = _record(21, 1, 0, conf=25_165_813, emp=5_000_000, exact=1000)
    # layer 1: 21 unstable; layer 2: 1 unstable; outputs: 3 stably inactive, 7 unstable
    rec["bounds"]["lower"] = [[-1.0] * 21, [-1.0], [-2.0] * 10]
    rec["bounds"]["upper"] = [[1.0] * 21, [1.0], [-1.0] * 3 + [1.0] * 7]
    wide = _record(11, 11, 0, conf=10**9, emp=10**8, exact=10**4)
    rows = [flat_row(r, []) for r in (rec, wide)]
    assert rows[0]["stably_inactive_per_layer"] == "0;0;3"
    assert rows[0]["stably_active_per_layer"] == "0;0;0"
    settings = ExperimentSettings(splits=((21, 1), (11, 11)), networks_per_split=1,
                                  xor_sizes=())
    text = render_report(settings.to_dict(), [rec, wide], rows)
    # E_min = 2 (2^21 - 1) + 1: the cap 100 (C - E_min) / (C - x) grows with the count x
    conf, e_min = 25_165_813, 2 * (2**21 - 1) + 1
    at_1000 = 100 * (conf - e_min) / (conf - 1000)
    needed = math.ceil(conf - 100 * (conf - e_min) / 98.3)  # cap >= 98.3% from here
    assert needed == 3_831_622
    assert ("- **21;1;10** (paper 98.3%): Configuration UB 25,165,813; with every hidden "
            "unit unstable the Empirical UB is >= 4,194,303, so at most 100 (C - "
            "max(4,194,303, x)) / (C - x) of the gap can close at an exact count x (C: the "
            f"Configuration UB): 83.3% at x = 1, {at_1000:.1f}% at this split's largest "
            f"count, 1,000; the paper's value is within this cap only from x >= {needed:,}; "
            "at a count far below the Configuration UB (x = 1) the paper's value is "
            "guaranteed by >= 6 of the 21 layer-1 units stable "
            "(98.4%); or not by layer 2 alone (with its 1 unit(s) stably inactive the gap "
            "reaches it only at an exact count >= 1,698,203).") in text
    low, high = empirical_ub_range(784, (21, 1, 10), [21, 1, 7], [0, 0, 0])
    worst = gap_closed(25_165_813, high, 1000)
    best = gap_closed(25_165_813, low, 1000)
    gap = gap_closed(25_165_813, 5_000_000, 1000)
    assert (f"| 21-01-00 | 0;0;3 | 21;1;7 | {gap:.1f}% | {worst:.1f}-{best:.1f}% | "
            "98.3% |") in text
    assert "**11;11;10**" not in text  # only the narrow splits are explained


def test_a_results_folder_without_its_run_files_still_writes_its_report(tmp_path):
    # records.jsonl keeps every record: with records/ gone (as in docs/results), the
    # report is written again from it, the same
    settings = ExperimentSettings(splits=((1, 21), (2, 20)), networks_per_split=1,
                                  xor_sizes=(2,))
    dump_json(tmp_path / "settings.json", settings.to_dict())
    records = [_record(2, 20, 0, conf=5000, emp=1024, exact=300, lbs={2: 64}),
               _record(1, 21, 0, conf=1000, emp=400, exact=100, lbs={2: 8})]
    for rec in records:
        dump_json(tmp_path / "records" / f"{rec['key']}.json", rec)
    files = write_report(tmp_path, depth=False, figures=False)
    assert "records.jsonl" in files
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["01-21-00", "02-20-00"]
    first = {name: (tmp_path / name).read_text() for name in ("results.csv", "report.md")}
    for path in (tmp_path / "records").iterdir():
        path.unlink()
    (tmp_path / "records").rmdir()
    write_report(tmp_path, depth=False, figures=False)
    assert {name: (tmp_path / name).read_text() for name in first} == first
    assert "| 1;21;10 | 1 (1) | 66.7 |" in first["report.md"]
