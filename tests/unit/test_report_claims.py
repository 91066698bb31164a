"""The report's sentences follow the records they summarise.

Each test writes the report from hand-made records, then from a copy with one number
changed, and checks that the claim in the text moved with it (the expected values are
worked out here by hand, not by the report's code). The last test writes the committed
docs/results/report.md again from docs/results/records.jsonl: a claim edited by hand, or
left stale by a change of the code, fails it.
"""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path

import pytest

from handrecords import hand_record
from reluscope.experiments.paper import PAPER_FIG3_SIGN_QUOTE, PAPER_TABLE1
from reluscope.experiments.report import render_report, write_report
from reluscope.experiments.reproduce import ExperimentSettings
from reluscope.experiments.tables import flat_row

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


def _text(records, xor_sizes=(2,)):
    splits = tuple(sorted({(r["n1"], r["n2"]) for r in records}))
    settings = ExperimentSettings(splits=splits, networks_per_split=10, xor_sizes=xor_sizes)
    rows = [flat_row(r, list(xor_sizes)) for r in records]
    return render_report(settings.to_dict(), records, rows)


def _line(text, start, *, first=False):
    """The one line of ``text`` that starts with ``start`` (the first one if ``first``)."""
    found = [line for line in text.splitlines() if line.startswith(start)]
    assert len(found) == 1 or (first and found), (start, found)
    return found[0]


def _timed(counts):
    """4;18 networks with finished counts and an XOR-2 bound (timed both ways)."""
    return [hand_record(4, 18, i, conf=2**40, emp=2**30, exact=x, lbs={2: 16})
            for i, x in enumerate(counts)]


def test_eta_label_follows_the_counts():
    # eta = log2(count): 2^11.5 is small (< 12), 2^13 large, as the paper defines them
    records = _timed([int(2**11.5), 2**13])
    line = _line(_text(records), "- Speed")
    assert "on 2 networks with eta = log2(regions) 11.5-13.0: 1 of 2 are large" in line
    # bounds 3 s + count 7 s against bounds 3 s + estimate 1.5 s, on every pair
    assert f"median exact / MIPBound time {10 / 4.5:.2g} over 2 (network, k) pairs" in line
    bigger = copy.deepcopy(records)
    bigger[0]["exact"]["regions"] = 2**12  # eta 12.0: large by the paper's definition
    line = _line(_text(bigger), "- Speed")
    assert "eta = log2(regions) 12.0-13.0: 2 of 2 are large" in line
    assert "1 of 2" not in line


def test_milp_runs_cut_short_are_called_so():
    records = _timed([5000, 9000])
    records[0]["exact_milp"] = {"regions": 5000, "exact": True, "seconds": 2.0}
    line = _line(_text(records), "- The paper's method")
    assert "ran on 1 networks: finished on 1 (5,000 regions)" in line
    assert "cut short" not in line.split(";")[0]
    records[0]["exact_milp"] = {"regions": 1234, "exact": False, "seconds": 15.0}
    line = _line(_text(records), "- The paper's method")
    assert ("finished on 0, cut short at its time limit on 1 after proving 1,234 regions "
            "(1 of them have a finished LP count: 1,234 of 5,000 regions proven)") in line


def _figure3(lbs):
    """Six 5;17 networks (Figure 3 keeps both widths >= 4): more accuracy, more regions."""
    return [hand_record(5, 17, i, conf=2**40, emp=2**30, exact=2 ** (10 + i),
                        acc=0.80 + 0.01 * i, lbs={2: lb})
            for i, lb in enumerate(lbs)]


def test_trivial_bound_sentence_only_with_trivial_bounds():
    records = _figure3([2 ** (4 + i) for i in range(6)])
    line = _line(_text(records), "- Figure 3, APP-k")
    assert f'"{PAPER_FIG3_SIGN_QUOTE}"' in line and "**does not match**" in line
    assert "trivial" not in line  # no bound is the trivial 1
    records[0]["xor"]["2"].update(lower_bound=1, log2_lower_bound=0)
    line = _line(_text(records), "- Figure 3, APP-k")
    assert "1 of the 6 XOR-k bounds are the trivial 1" in line


def test_spearman_and_series_membership_follow_the_records():
    # log2 counts 10, 11, 20 at accuracies .80, .81, .82: ranks agree (rho = 1) while
    # Pearson's r is below 1; swapping the two last counts gives ranks (1, 3, 2): rho = 0.5
    records = [hand_record(6, 16, i, conf=2**40, emp=2**30, exact=2**e, acc=0.80 + 0.01 * i,
                           lbs={2: 16})
               for i, e in enumerate((10, 11, 20))]
    text = _text(records)
    row = _line(text, "| exact | 3 | 1 |", first=True)  # the table of every network
    cells = [c.strip() for c in row.split("|")[1:-1]]
    x, y = [0.80, 0.81, 0.82], [10, 11, 20]
    mx, my = sum(x) / 3, sum(y) / 3
    r = (sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
         / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y)))
    assert cells[5] == f"{r:.2f}" and cells[6] == "1.00"
    swapped = copy.deepcopy(records)
    swapped[1]["exact"]["regions"], swapped[2]["exact"]["regions"] = 2**20, 2**11
    row = _line(_text(swapped), "| exact | 3 | 1 |", first=True)
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[6] == "0.50"
    # membership: a count cut short leaves the exact series but not APP-2's
    assert "- exact: 3 networks on 6;16, 1 split." in text
    assert "- In every series: 3 networks (06-16-00, 06-16-01, 06-16-02)." in text
    swapped[2]["exact"].update(exact=False, status="time_limit")
    text = _text(swapped)
    assert "- exact: 2 networks on 6;16, 1 split." in text
    assert "- APP-2: 3 networks on 6;16, 1 split." in text
    assert "- In every series: 2 networks (06-16-00, 06-16-01)." in text


def test_scale_sentence_follows_the_gap():
    # 1;21: C 1000, E 400, x 100: 66.7% on counts, 100 log2(1000/400) / log2(1000/100)
    # = 39.8% on log2; the paper's 73.1 is nearer to counts
    records = [hand_record(1, 21, 0, conf=1000, emp=400, exact=100)]
    counts = 100 * 600 / 900
    logs = 100 * math.log2(1000 / 400) / math.log2(1000 / 100)
    paper = PAPER_TABLE1[1]
    line = _line(_text(records, ()), "Scale:")
    assert (f"nearer to the gap on counts (mean absolute difference "
            f"{abs(counts - paper):.1f} points on counts, {abs(logs - paper):.1f} on log2"
            ) in line
    # C 1000, E 40, x 20: 98.0% on counts, 82.3% on log2: now log2 is nearer
    records[0]["upper"]["empirical_ub"] = 40
    records[0]["exact"]["regions"] = 20
    counts = 100 * 960 / 980
    logs = 100 * math.log2(1000 / 40) / math.log2(1000 / 20)
    assert abs(logs - paper) < abs(counts - paper)
    line = _line(_text(records, ()), "Scale:")
    assert (f"nearer to the gap on log2 (mean absolute difference {abs(counts - paper):.1f} "
            f"points on counts, {abs(logs - paper):.1f} on log2") in line


@pytest.mark.parametrize(("folder", "leo"), [(RESULTS, "bench_leo_authors.jsonl"),
                                             (RESULTS / "estimates", None)])
def test_committed_report_is_what_its_records_give(folder, leo, tmp_path):
    """Each committed report.md of docs/results is written from the records.jsonl beside
    it by the code of this tree (the figures aside, which this test does not draw)."""
    if not (folder / "records.jsonl").is_file():
        pytest.skip(f"no {folder}")
    for name in ("settings.json", "records.jsonl"):
        shutil.copy(folder / name, tmp_path / name)
    write_report(tmp_path, leo_path=folder / leo if leo else None, figures=False)
    written = (tmp_path / "report.md").read_text()
    committed = (folder / "report.md").read_text()
    assert "\n## Figures\n" in committed
    assert written == committed.split("\n## Figures\n")[0] + "\n"


def test_narrow_cap_at_a_count_cut_short_is_marked_as_growing():
    rec = hand_record(21, 1, 0, conf=25_165_813, emp=20_971_511, exact=16_543, complete=False)
    rec["bounds"]["lower"] = [[-1.0] * 21, [-1.0], [-2.0] * 10]
    rec["bounds"]["upper"] = [[1.0] * 21, [1.0], [1.0] * 10]
    text = _text([rec], ())
    conf, e_min = 25_165_813, 2 * (2**21 - 1) + 1
    cap = 100 * (conf - e_min) / (conf - 16_543)  # the cap at the count proven so far
    line = _line(text, "- **21;1;10**")
    assert (f"83.3% at x = 1, {cap:.1f}% at this split's largest count proven so far (a "
            "lower bound on x), 16,543; the paper's value is within this cap only from "
            "x >= 3,831,622") in line
    row = _line(text, "| 21-01-00 |")
    assert row.split("|")[5].strip().endswith("%+")  # the upper end grows with the count
    # with a tree estimate, the cap at the estimated count too
    rec["tree"] = {"estimate": 2_000_000.0, "ci_low": 1_500_000.0, "ci_high": 2_500_000.0,
                   "status": "time_limit", "seconds": 60.0}
    at_estimate = 100 * (conf - e_min) / (conf - 2_000_000)
    line = _line(_text([rec], ()), "- **21;1;10**")
    assert (f"16,543, {at_estimate:.1f}% at its smallest tree estimate, 2,000,000 (95% "
            "interval 1,500,000-2,500,000);") in line
    del rec["tree"]
    rec["exact"].update(exact=True, status="complete")
    line = _line(_text([rec], ()), "- **21;1;10**")
    assert f"{cap:.1f}% at this split's largest count, 16,543;" in line
    assert not _line(_text([rec], ()), "| 21-01-00 |").split("|")[5].strip().endswith("+")


def test_figure2_bottom_draws_runs_cut_short_apart(tmp_path):
    pytest.importorskip("matplotlib")
    from reluscope.experiments.figures import figure2_bottom

    records = _timed([5000, 9000])
    records[0]["exact_milp"] = {"regions": 5000, "exact": True, "seconds": 2.0}
    rows = [flat_row(r, [2]) for r in records]
    labels = figure2_bottom(rows, [2], tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert not any("cut short" in label for label in labels)
    assert "exact, MILP (paper's method)" in labels
    # the MILP run and the LP count cut short at their limits: their own legend entries
    records[0]["exact_milp"] = {"regions": 1234, "exact": False, "seconds": 15.0}
    records[1]["exact"].update(exact=False, status="time_limit")
    labels = figure2_bottom([flat_row(r, [2]) for r in records], [2], tmp_path / "g.png")
    assert "exact, MILP (paper's method), cut short at the time limit" in labels
    assert "exact, LP engine, cut short at the time limit" in labels
    assert "exact, MILP (paper's method)" not in labels


def test_series_sentence_says_whether_the_networks_are_the_same():
    records = _figure3([2 ** (4 + i) for i in range(6)])
    line = _line(_text(records), "- Figure 3's series")
    assert line.startswith("- Figure 3's series are the same networks: exact counts on 6")
    assert "6 are in every series." in line
    records[5]["exact"].update(exact=False, status="time_limit")
    line = _line(_text(records), "- Figure 3's series")
    assert line.startswith("- Figure 3's series are not the same networks: exact counts on 5")
    assert "APP-k on up to 6; 5 are in every series, so" in line
    # no network wide enough for Figure 3: no sentence about its series
    narrow = [hand_record(2, 20, 0, conf=5000, emp=1024, exact=300, lbs={2: 64})]
    assert "Figure 3's series" not in _text(narrow)
