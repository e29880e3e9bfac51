"""`dqc batch`: sweeps on a local Dask cluster, byte-identical to compiling each run alone, resumable,
failures in their rows, killed workers retried."""

from __future__ import annotations

import json
import os
import sys

import pytest

from dqc_compiler import sweeps as batch_module
from dqc_compiler.errors import DQCError
from dqc_compiler.io import load_circuit, serialise_circuit
from dqc_compiler.pipeline import compile as compile_circuit

from .conftest import ROOT

CIRCUITS = ROOT / "benchmarks" / "circuits"


def _sweep(tmp_path, body: dict, name: str = "sweep.json"):
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


TWELVE = {
    "circuits": [str(CIRCUITS / "qft_noswap_4.qasm"), str(CIRCUITS / "ghz_4.qasm"), str(CIRCUITS / "bv_6.qasm")],
    "networks": ["qpus:2", "line:3"],
    "levels": [1, 2],
    "seeds": [5],
}


@pytest.fixture(scope="module")
def twelve(tmp_path_factory):
    """A 12-run sweep compiled on a local cluster of 2 workers, then run again."""
    tmp = tmp_path_factory.mktemp("sweep")
    sweep = _sweep(tmp, TWELVE)
    first = batch_module.run_sweep(sweep, tmp / "out", workers=2)
    lines = (tmp / "out" / "results.jsonl").read_text().splitlines()
    calls = []
    again = batch_module.run_sweep(sweep, tmp / "out", workers=2, on_progress=lambda *a: calls.append(a))
    return tmp, first, again, lines, calls


def test_every_output_is_byte_identical_to_a_serial_compile(twelve):
    tmp, rows, _, _, _ = twelve
    assert len(rows) == 12 and all(r["status"] == "ok" for r in rows)
    for row in rows:
        circuit = load_circuit(row["circuit"])
        network = batch_module.network_for(row["network"], circuit.num_qubits)
        alone = compile_circuit(circuit, network, seed=row["seed"], optimization_level=row["level"])
        assert (tmp / "out" / row["output"]).read_bytes() == serialise_circuit("x.qasm", alone.circuit)
        assert row["ebits"] == alone.report["cost"]["ebits"]
        report = json.loads((tmp / "out" / row["report"]).read_text())
        assert report["cost"] == alone.report["cost"] and report["layout"] == alone.report["layout"]


def test_a_rerun_skips_every_finished_run(twelve):
    tmp, first, again, lines, calls = twelve
    assert calls == [(12, 12, None)]  # all 12 skipped at the start; nothing submitted
    assert (tmp / "out" / "results.jsonl").read_text().splitlines() == lines
    assert again == first


def test_results_csv_has_a_row_per_run(twelve):
    import pandas as pd

    tmp, rows, _, _, _ = twelve
    frame = pd.read_csv(tmp / "out" / "results.csv")
    assert list(frame["run_id"]) == [r["run_id"] for r in rows]
    assert list(frame["ebits"]) == [r["ebits"] for r in rows]
    assert set(frame["status"]) == {"ok"}


def test_a_failed_run_reports_its_error_and_the_sweep_goes_on(tmp_path):
    sweep = _sweep(tmp_path, {"circuits": [str(CIRCUITS / "ghz_4.qasm")], "networks": ["qpus:2", "line:2x1"]})
    frame = batch_module.batch(sweep, tmp_path / "out", workers=1)
    by_network = dict(zip(frame["network"], zip(frame["status"], frame["error"])))
    assert by_network["qpus:2"] == ("ok", "")
    status, error = by_network["line:2x1"]
    assert status == "error" and "holds only 2 data qubits" in error
    assert len(os.listdir(tmp_path / "out" / "runs")) == 2  # the good run's output and report only


def _dies_once(run):
    """Kill this worker process the first time any run reaches it (a marker file remembers), then compile."""
    marker = os.environ["DQC_TEST_KILL_MARKER"]
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write(run.run_id)
        os._exit(1)
    return batch_module.compile_run(run)


def test_a_killed_worker_s_run_is_retried(tmp_path, monkeypatch):
    import cloudpickle

    monkeypatch.setenv("DQC_TEST_KILL_MARKER", str(tmp_path / "killed"))
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    try:
        sweep = _sweep(tmp_path, {"circuits": [str(CIRCUITS / "ghz_4.qasm"), str(CIRCUITS / "bv_6.qasm")],
                                  "networks": ["qpus:2"]})
        rows = batch_module.run_sweep(sweep, tmp_path / "out", workers=2, task=_dies_once)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert (tmp_path / "killed").exists()  # a worker really died
    assert [r["status"] for r in rows] == ["ok", "ok"]


@pytest.mark.parametrize("body, message", [
    ({"networks": ["qpus:2"]}, "needs a non-empty list 'circuits'"),
    ({"circuits": ["*.qasm"], "networks": []}, "needs a non-empty list 'networks'"),
    ({"circuits": ["x.qasm"], "networks": ["qpus:2"], "level": [1]}, "unknown sweep key 'level'"),
    ({"circuits": ["x.qasm"], "networks": ["qpus:2"], "levels": [7]}, "level 7 is not one of"),
    ({"circuits": ["x.qasm"], "networks": ["qpus:2"], "seeds": ["a"]}, "'seeds' must be a list of ints"),
    ({"circuits": ["x.qasm"], "networks": ["qpus:2"], "partitioners": ["kahip"]}, "unknown partitioner 'kahip'"),
    ({"circuits": ["x.qasm"], "networks": ["qpus:2"], "verify": "yes"}, "'verify' must be true or false"),
    ([1, 2], "a sweep file is a mapping"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path, body, message):
    with pytest.raises(DQCError, match=message.replace("(", r"\(")):
        batch_module.load_sweep(_sweep(tmp_path, body))


def test_circuit_patterns_that_match_nothing_and_bad_networks_are_refused(tmp_path):
    with pytest.raises(DQCError, match="matches no file"):
        batch_module.expand(batch_module.load_sweep(_sweep(tmp_path, {"circuits": ["no_*.qasm"],
                                                                       "networks": ["qpus:2"]})), tmp_path)
    with pytest.raises(DQCError, match="expected qpus:K or qpus:K,comm=C"):
        batch_module.network_for("qpus:two", 4)


def test_yaml_sweep_resolves_paths_against_its_folder(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "ghz.qasm").write_bytes((CIRCUITS / "ghz_4.qasm").read_bytes())
    (tmp_path / "sweep.yaml").write_text("circuits: ['c/*.qasm']\nnetworks: [qpus:2, 'qpus:3,comm=4']\nseeds: [1, 2]\n")
    runs = batch_module.expand(batch_module.load_sweep(tmp_path / "sweep.yaml"), tmp_path)
    assert [(r.network, r.seed, r.level) for r in runs] == [
        ("qpus:2", 1, 2), ("qpus:2", 2, 2), ("qpus:3,comm=4", 1, 2), ("qpus:3,comm=4", 2, 2)]
    assert len({r.run_id for r in runs}) == 4
    assert batch_module.network_for("qpus:3,comm=4", 4).qpus[0].comm_qubits == 4
    # the id follows the circuit's content, not its name: an edited circuit is compiled again
    (tmp_path / "c" / "ghz.qasm").write_bytes((CIRCUITS / "bv_6.qasm").read_bytes())
    edited = batch_module.expand(batch_module.load_sweep(tmp_path / "sweep.yaml"), tmp_path)
    assert {r.run_id for r in edited}.isdisjoint(r.run_id for r in runs)


def test_cli_batch_exit_status_and_json_summary(tmp_path, capsys):
    from dqc_compiler import cli

    sweep = _sweep(tmp_path, {"circuits": [str(CIRCUITS / "ghz_4.qasm")], "networks": ["qpus:2", "line:2x1"]})
    assert cli.main(["batch", str(sweep), "-o", str(tmp_path / "out"), "--workers", "1", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"runs": 2, "ok": 1, "failed": 1, "not_equivalent": 0,
                       "table": os.path.join(str(tmp_path / "out"), "results.csv")}
    assert cli.main(["batch", str(tmp_path / "nothing.yaml"), "-o", str(tmp_path / "o2")]) == 2
    assert "cannot read the sweep file" in capsys.readouterr().err
