"""`reluscope reproduce` end to end on one tiny digits network, locally and on Dask.

Oracles: the brute-force region count of tests/oracles.py (independent of every engine),
sampled patterns (a lower bound), the MILP engine against the LP engine, Table 1
recomputed by hand from the record's numbers, and the Dask run against the local run.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from oracles import brute_force_count, sampled_patterns
from reluscope.cli import main
from reluscope.io import load

pytest.importorskip("torch")

CLI_SETTINGS = [
    "--splits", "2-3", "--networks", "1", "--dataset", "digits", "--n-train", "200",
    "--epochs", "0.3", "--bounds-time-limit", "20", "--count-time-limit", "60",
    "--milp-time-limit", "60", "--milp-networks", "1", "--xor-sizes", "2",
    "--estimate-time-limit", "60", "--max-repetitions", "4",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "out"
    return out, _run_cli(out)


def _run_cli(out, extra=()):
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["reproduce", "--out", str(out), *CLI_SETTINGS, *extra, "--json"])
    assert code == 0
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_record_numbers_against_oracles(tiny_run):
    out, payload = tiny_run
    assert payload["tasks"] == 1 and payload["finished"] == 1 and payload["computed"] == 1
    assert payload["status"] == "complete"
    rec = json.loads((out / "records" / "02-03-00.json").read_text())
    net = load(out / "networks" / "02-03-00.npz")
    assert net.widths == (2, 3, 10) and net.relu == (True, True, True)
    exact = rec["exact"]
    assert exact["exact"] and exact["status"] == "complete"
    assert exact["regions"] == brute_force_count(net)
    assert rec["exact_milp"]["exact"] and rec["exact_milp"]["regions"] == exact["regions"]
    sampled = len(sampled_patterns(net, 4000, seed=0))
    assert sampled <= exact["regions"] <= rec["upper"]["empirical_ub"]
    assert rec["upper"]["empirical_ub"] <= rec["upper"]["configuration_ub"]
    assert 0.0 <= rec["train"]["test_accuracy"] <= 1.0
    assert rec["xor"]["2"]["repetitions"] <= 4


def test_table1_and_csv_match_the_record(tiny_run):
    out, _ = tiny_run
    rec = json.loads((out / "records" / "02-03-00.json").read_text())
    conf, emp = rec["upper"]["configuration_ub"], rec["upper"]["empirical_ub"]
    exact = rec["exact"]["regions"]
    with open(out / "table1.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["widths"] == "2;3;10"
    if conf > exact:
        assert float(rows[0]["gap_closed"]) == pytest.approx(100 * (conf - emp) / (conf - exact))
    with open(out / "results.csv") as handle:
        result = next(csv.DictReader(handle))
    assert int(result["exact_regions"]) == exact and int(result["configuration_ub"]) == conf
    report = (out / "report.md").read_text()
    assert "Networks analysed: 1" in report and "| 2;3;10 |" in report
    for name in ("figure2_top.png", "figure2_bottom.png", "figure3.png"):
        assert (out / name).stat().st_size > 1000


def test_resume_recomputes_nothing(tiny_run):
    out, _ = tiny_run
    record_path = out / "records" / "02-03-00.json"
    before = record_path.read_bytes(), record_path.stat().st_mtime_ns
    payload = _run_cli(out)
    assert payload["computed"] == 0 and payload["finished"] == 1
    assert (record_path.read_bytes(), record_path.stat().st_mtime_ns) == before
    # other settings in the same directory are refused with a one-line error
    assert main(["reproduce", "--out", str(out), *CLI_SETTINGS, "--epochs", "1"]) == 2


def test_report_only(tiny_run, capsys):
    out, _ = tiny_run
    assert main(["reproduce", "--report-only", "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "report.md" in payload["files"]


def test_dask_local_cluster_gives_the_local_result(tiny_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    out, _ = tiny_run
    copy = tmp_path / "dask"
    shutil.copytree(out, copy)
    rec_path = copy / "records" / "02-03-00.json"
    rec = json.loads(rec_path.read_text())
    local_estimate = rec["xor"].pop("2")
    rec_path.write_text(json.dumps(rec))  # the XOR-2 step is left to do, on the cluster
    from reluscope.experiments.reproduce import ExperimentSettings, reproduce

    settings = ExperimentSettings.from_dict(json.loads((copy / "settings.json").read_text()))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = reproduce(copy, settings=settings, cluster=client, report=False)
    assert result.computed == 1 and result.finished == 1
    again = json.loads(rec_path.read_text())["xor"]["2"]
    # same seed, same network, same bounds: the same estimate
    for key in ("lower_bound", "f", "constraints", "repetitions"):
        assert again[key] == local_estimate[key]


def test_a_larger_estimate_limit_continues_the_estimates_cut_short(tiny_run, tmp_path):
    """An XOR-k estimate recorded as cut short after 2 of its 4 repetitions is continued
    by a run with a larger --estimate-time-limit: the estimate of the uncut run."""
    out, _ = tiny_run
    copy = tmp_path / "resumed"
    shutil.copytree(out, copy)
    rec_path = copy / "records" / "02-03-00.json"
    rec = json.loads(rec_path.read_text())
    whole = dict(rec["xor"]["2"])
    assert whole["repetitions"] == 4 and whole["status"] == "complete"
    rec["xor"]["2"].update(status="time_limit", repetitions=2, seconds=5.0, time_limit=5.0,
                           constraints=whole["constraints"][:2])
    rec_path.write_text(json.dumps(rec))
    # under the limit it had, it counts as finished: nothing to do
    assert _run_cli(copy, ["--estimate-time-limit", "5"])["computed"] == 0
    payload = _run_cli(copy, ["--estimate-time-limit", "120"])
    assert payload["computed"] == 1 and payload["finished"] == 1
    done = json.loads(rec_path.read_text())["xor"]["2"]
    assert done["status"] == "complete" and done["time_limit"] == 120
    for key in ("constraints", "f", "repetitions", "lower_bound", "probabilities"):
        assert done[key] == whole[key]
    assert done["seconds"] >= 5.0
    assert json.loads((copy / "settings.json").read_text())["estimate_time_limit"] == 120


def test_a_larger_count_limit_resumes_the_counts_cut_short(tmp_path):
    """A count cut short leaves its frontier; a resumed run with a larger limit finishes
    it from there: the same count as one uninterrupted run with other bounds."""
    import reluscope
    from reluscope.experiments.reproduce import ExperimentSettings, reproduce

    out = tmp_path / "out"
    first = ExperimentSettings(
        splits=((8, 8),), networks_per_split=1, dataset="digits", n_train=200, epochs=0.3,
        bounds_time_limit=20, count_time_limit=0.3, milp_networks=0, xor_networks=0,
    )
    reproduce(out, settings=first, report=False)
    record = json.loads((out / "records" / "08-08-00.json").read_text())
    cut = record["exact"]
    frontier = out / "checkpoints" / "08-08-00.npz"
    assert cut["status"] == "time_limit" and cut["time_limit"] == 0.3 and frontier.is_file()
    # the count cut short gets its tree estimate with an interval (Table 1's value)
    tree = record["tree"]
    assert tree["method"] == "tree" and tree["time_limit"] == first.tree_time_limit
    assert tree["exact"] or tree["probes"] >= 10
    assert 0 < tree["ci_low"] <= tree["estimate"] <= tree["ci_high"]

    # the CLI takes every other setting from OUT/settings.json
    assert main(["reproduce", "--out", str(out), "--count-time-limit", "600", "--json"]) == 0
    done = json.loads((out / "records" / "08-08-00.json").read_text())["exact"]
    assert done["status"] == "complete" and done["runs"] == 2 and not frontier.exists()
    # a finished count needs no estimate: the one of the count cut short is dropped
    assert "tree" not in json.loads((out / "records" / "08-08-00.json").read_text())
    assert done["seconds"] >= cut["seconds"] and done["regions"] > cut["regions"]
    net = load(out / "networks" / "08-08-00.npz")
    assert done["regions"] == reluscope.count_regions(net, method="lp", n_jobs=1).regions
    assert json.loads((out / "settings.json").read_text())["count_time_limit"] == 600
