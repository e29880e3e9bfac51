"""The pytket-dqc benchmark runner and the family generators (benchmarks/pytket_dqc.py, pytket_families.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from qiskit import qasm2
from qiskit.quantum_info import Operator

from dqc_compiler import pipeline
from dqc_compiler.io import loads_circuit
from dqc_compiler.network import Network

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pytket_dqc  # noqa: E402
import pytket_families  # noqa: E402


@pytest.mark.parametrize("name", ["cz_fraction", "pauli", "random_crz"])
def test_a_generated_circuit_costs_the_same_written_with_cu1_or_cp(name):
    """Whether a controlled phase is kept whole does not depend on its name: the pytket-style text
    (``cu1``) and the same text with ``cp`` compile to the same number of ebits."""
    make = {"cz_fraction": lambda: pytket_families.cz_fraction(8, 0.6, seed=1),
            "pauli": lambda: pytket_families.pauli(8, 12, seed=1),
            "random_crz": lambda: pytket_families.random_crz(8, 3, seed=1)}[name]
    text = qasm2.dumps(make())
    assert "cu1(" in text
    ebits = [pipeline.compile(loads_circuit(t), Network.all_to_all(2, 4), seed=1).report["cost"]["ebits"]
             for t in (text, text.replace("cu1(", "cp("))]
    assert ebits[0] == ebits[1] > 0


def test_cancelling_h_pairs_keeps_the_unitary_and_removes_only_pairs():
    raw = pytket_families.QuantumCircuit(3)
    for q in (0, 0, 1, 2, 2, 2):
        raw.h(q)
    raw.cx(0, 1)
    raw.h(1)
    raw.h(1)
    out = pytket_families.cancel_hh(raw)
    assert Operator(out).equiv(Operator(raw))
    assert dict(out.count_ops()) == {"h": 2, "cx": 1}
    broken = out.copy()
    broken.h(0)
    assert not Operator(broken).equiv(Operator(raw))  # the check can fail


def _instance(folder: Path, best) -> Path:
    path = folder / "all_to_all_2_6__cz_fraction_0.5"
    path.mkdir(parents=True)
    (path / "circuit.qasm").write_text(qasm2.dumps(pytket_families.cz_fraction(6, 0.5, seed=3)))
    spec = {"qpus": [{"name": f"s{i}", "data_qubits": 3, "comm_qubits": 2} for i in range(2)],
            "links": [{"between": ["s0", "s1"]}]}
    (path / "network.json").write_text(json.dumps(spec))
    (path / "published.json").write_text(json.dumps({"circuit_type": "cz_fraction_0.5", "published_best": best,
                                                     "network": "all_to_all", "servers": 2}))
    return path


def test_the_runner_compiles_verifies_and_compares_with_the_published_number(tmp_path, capsys):
    _instance(tmp_path, 1)
    assert pytket_dqc.main([str(tmp_path), "--verify"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("| all_to_all_2_6"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    ebits = int(cells[4])
    assert cells[3] == "1" and cells[5] == f"{ebits:.2f}" and cells[-1].startswith("yes")
    assert "| **all** | 1 |" in table


def test_the_runner_shows_ebits_only_without_a_published_number(tmp_path, capsys):
    _instance(tmp_path, None)
    assert pytket_dqc.main([str(tmp_path), "--no-verify"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| all_to_all_2_6"))
    assert "| – |" in row and "not run" in row


def test_the_runner_says_where_to_get_the_sample_when_it_is_missing(tmp_path, capsys):
    assert pytket_dqc.main([str(tmp_path / "absent")]) == 2
    message = capsys.readouterr().err
    assert "pytket-dqc-sample" in message and "arXiv:2305.14148" in message
