"""The lp/highs search on a real multi-process Dask ``LocalCluster`` (``cluster=...``).

Every count is compared with the in-process count (``n_jobs=1``) and, where known, with
an oracle (brute force) or scip-count's 6752 on the bundled example. The driver keeps
the task queue, so a time limit, Ctrl-C and checkpoints behave as with ``n_jobs``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import reluscope
from clitools import run_error, run_json
from ctrlc import sigint_after
from netgen import random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope import ReluscopeError, interrupts
from reluscope.bounds import tighten_bounds
from reluscope.regions.count.dispatch import count_regions
from reluscope.regions.patterns import read_patterns
from reluscope.regions.search import distributed as dist
from reluscope.regions.search import engine, schedule

distributed = pytest.importorskip("distributed")

SEARCH_METHODS = ["lp", "highs"]
# an MNIST-trained net with 8,622 regions (test_count_compiled.py): about 3 s of the
# compiled engine on one core, so short limits stop it on any machine
LONG_NET = Path(__file__).resolve().parents[1] / "fixtures" / "mnist-784-8-8-10-b.npz"
LONG_NET_REGIONS = 8622


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, importing this source tree."""
    src = str(Path(engine.__file__).resolve().parents[4])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src + (os.pathsep + old if old else "")
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, distributed.Client(cluster) as c:
            # the workers import this tree, not another installed copy
            files = c.run(lambda: __import__("reluscope").__file__)
            assert all(str(Path(f).resolve()).startswith(src) for f in files.values())
            yield c
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture
def pool_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand work to the cluster at once, in many short slices (many tasks go back and forth)."""
    monkeypatch.setattr(engine, "SERIAL_START_SECONDS", 0.0)
    monkeypatch.setattr(schedule, "SHORT_SLICE_SECONDS", 0.01)
    monkeypatch.setattr(schedule, "SLICE_SECONDS", 0.02)


@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize(
    "seed, n0, widths, box",
    [(3, 5, (8, 6), (-1.0, 1.0)), (7, 3, (6, 5, 4), (-1.0, 1.0)), (11, 20, (10, 10), (0.0, 1.0))],
)
def test_cluster_count_equals_in_process_count(
    client, pool_at_once: None, tmp_path, method: str, seed: int, n0: int, widths, box
) -> None:
    # 424, 5 and 616 regions
    network = random_network(seed, n0, widths, lower=box[0], upper=box[1])
    bounds = tighten_bounds(network, method="interval")
    local = count_regions(network, method=method, bounds=bounds, n_jobs=1)
    path = tmp_path / "p.npy"
    remote = count_regions(network, method=method, bounds=bounds, cluster=client,
                           patterns_path=path)
    assert local.exact and remote.exact and remote.status == "complete"
    assert remote.method == method
    assert remote.regions == local.regions
    rows = read_patterns(path, network.n_units)
    assert len(rows) == len({r.tobytes() for r in rows}) == local.regions
    if n0 <= 5:
        assert remote.regions == brute_force_count(network)
        assert {tuple(map(bool, r)) for r in rows} == brute_force_patterns(network)


def test_bundled_example_on_the_cluster(client) -> None:
    # 64;6;6;10 trained on sklearn digits: 6752 regions (scip-count agrees, see
    # test_count_lp_engine.py); run with the default slicing, 0.5 s in-process first
    from reluscope.data import example_network

    network = example_network()
    bounds = tighten_bounds(network, method="lp")
    local = count_regions(network, bounds=bounds, n_jobs=1)
    remote = count_regions(network, bounds=bounds, cluster=client)
    assert local.exact and remote.exact
    assert remote.regions == local.regions == 6752


@pytest.mark.parametrize("method", SEARCH_METHODS)
def test_time_limit_then_checkpoint_resume_on_the_cluster(
    client, pool_at_once: None, tmp_path, method: str
) -> None:
    # big enough that no machine finishes within the limit: the compiled lp engine counts
    # 1710 regions of the 12-input net in 0.1 s, so it gets the MNIST one (8622, ~3 s)
    small = random_network(1, 12, (14, 12, 8))  # 1710 regions
    network = reluscope.load(LONG_NET) if method == "lp" else small
    bounds = tighten_bounds(network, method="interval")
    full = count_regions(network, method=method, bounds=bounds, n_jobs=1)
    ckpt = tmp_path / "state.ckpt"
    part = tmp_path / "part.npy"
    first = count_regions(network, method=method, bounds=bounds, cluster=client,
                          time_limit=0.3, checkpoint=ckpt, patterns_path=part)
    assert first.status == "time_limit" and not first.exact
    assert 0 <= first.regions < full.regions
    assert ckpt.exists()
    resumed = count_regions(network, method=method, bounds=bounds, cluster=client,
                            checkpoint=ckpt, patterns_path=part)
    assert resumed.exact and resumed.regions == full.regions
    rows = read_patterns(part, network.n_units)
    assert len(rows) == len({r.tobytes() for r in rows}) == full.regions


def test_interrupt_on_the_cluster_then_resume_in_process(client, tmp_path) -> None:
    network = reluscope.load(LONG_NET)
    bounds = tighten_bounds(network, method="interval")
    ckpt = tmp_path / "state.ckpt"
    with sigint_after(1.0):
        first = count_regions(network, bounds=bounds, cluster=client, checkpoint=ckpt,
                              time_limit=120)
    assert first.status == "interrupted" and 0 < first.regions < LONG_NET_REGIONS
    interrupts.clear()  # the stop stays pending for the next call (reluscope.interrupts)
    # the frontier saved by the cluster run resumes anywhere: here, in this process
    resumed = count_regions(network, bounds=bounds, n_jobs=1, checkpoint=ckpt)
    assert resumed.exact and resumed.regions == LONG_NET_REGIONS


def test_cli_count_cluster(client, tmp_path, capsys) -> None:
    network = random_network(5, 3, (4, 3), lower=-1.0, upper=1.0)
    model = tmp_path / "net.npz"
    network.save(model)
    address = client.scheduler.address
    payload = run_json(capsys, ["count", str(model), "--json", "--bounds-method", "interval",
                                "--cluster", address])
    assert payload["exact"] is True and payload["status"] == "complete"
    assert payload["regions"] == brute_force_count(network)
    # the address form creates (and closes) its own Client: the test's client still works
    assert client.submit(sum, [1, 2]).result() == 3
    json.dumps(payload)


def test_unreachable_scheduler_is_one_clear_error(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT", 1.0)
    network = random_network(1, 2, (3,))
    with pytest.raises(ReluscopeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        count_regions(network, cluster="tcp://127.0.0.1:9")
    model = tmp_path / "net.npz"
    network.save(model)
    line = run_error(capsys, ["count", str(model), "--cluster", "tcp://127.0.0.1:9"])
    assert "cannot reach the Dask scheduler" in line


def test_missing_dask_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    network = random_network(1, 2, (3,))
    with pytest.raises(ReluscopeError, match=r"pip install 'reluscope\[cluster\]'"):
        count_regions(network, cluster="tcp://127.0.0.1:8786")


def test_bad_cluster_arguments(client) -> None:
    network = random_network(1, 2, (3,))
    with pytest.raises(ReluscopeError, match="not both"):
        count_regions(network, cluster=client, n_jobs=2)
    with pytest.raises(ReluscopeError, match="lp' and 'highs' only"):
        count_regions(network, method="milp", cluster=client)
    with pytest.raises(ReluscopeError, match="address or a distributed.Client"):
        count_regions(network, cluster=42)


def test_a_cluster_object_is_accepted_and_only_clients_made_here_are_closed(client) -> None:
    # 616 regions (the 20-input case above), counted through the LocalCluster object itself
    network = random_network(11, 20, (10, 10), lower=0.0, upper=1.0)
    bounds = tighten_bounds(network, method="interval")
    local = count_regions(network, bounds=bounds, n_jobs=1)
    remote = count_regions(network, bounds=bounds, cluster=client.cluster)
    assert remote.exact and remote.regions == local.regions == 616
    with dist.dask_client(client.cluster) as (made, threads):
        assert made is not client and threads == 2
    assert made.status == "closed"
    with dist.dask_client(client) as (given, threads):
        assert given is client and threads == 2
    assert client.status == "running"
    with dist.dask_client(None) as (nothing, threads):
        assert nothing is None and threads == 0


def test_tree_estimate_on_the_cluster_equals_in_process(client) -> None:
    """The tree estimate's runs on the cluster: the same seed gives the same runs."""
    from netgen import dense_network
    from reluscope.regions.estimate.tree_estimate import estimate_count

    network = dense_network(3, 2, (6, 6, 4))
    bounds = tighten_bounds(network, method="lp")
    here = estimate_count(network, bounds=bounds, population=4, rel_error=0.25,
                          random_state=5)
    there = estimate_count(network, bounds=bounds, population=4, rel_error=0.25,
                           random_state=5, cluster=client)
    assert there.probes == here.probes >= 20
    assert (there.estimate, there.ci_low, there.ci_high) == (
        here.estimate, here.ci_low, here.ci_high)
    assert there.ci_low <= 179 <= there.ci_high  # the network's exact count
