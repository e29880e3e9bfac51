"""Circuits we did not write: MQT Bench benchmarks (tests/data/mqt, target-independent level, as
qiskit.qasm2 writes them) compile, keep the output contract, verify, and a broken output is caught.

The files were generated with MQT Bench 2.3.0 (the generating call is the first line of each);
``benchmarks/mqt_bench.py`` runs the whole MQT Bench set (every benchmark, sizes, levels, networks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qiskit import QuantumCircuit

from dqc_compiler import Network
from dqc_compiler import compile as compile_circuit
from dqc_compiler.io import load_circuit
from dqc_compiler.verify import verify

from .conftest import drop_first_correction, independent_contract_check

FILES = sorted((Path(__file__).parent / "data" / "mqt").glob("*.qasm"))


def _broken(circuit: QuantumCircuit) -> tuple[QuantumCircuit, str]:
    """The output with its first classically controlled correction dropped (or, with no
    communication at all, an extra ``x`` at the end)."""
    broken = drop_first_correction(circuit)
    if broken is not None:
        return broken, "dropped correction"
    broken = circuit.copy()
    broken.x(0)
    return broken, "extra x"


@pytest.mark.parametrize("network", ["qpus:2", "line:3"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_mqt_bench_circuit_compiles_verifies_and_a_broken_output_is_caught(path, network):
    circuit = load_circuit(path)
    kind, k = network.split(":")
    net = (Network.for_circuit(circuit.num_qubits, int(k)) if kind == "qpus"
           else Network.from_spec(network, circuit.num_qubits))
    result = compile_circuit(circuit, net, seed=1)
    independent_contract_check(result.circuit, result.report)
    layout = result.report["layout"]
    verdict = verify(circuit, result.circuit, layout, seed=1)
    assert verdict.equivalent, verdict
    broken, how = _broken(result.circuit)
    assert not verify(circuit, broken, layout, seed=1).equivalent, f"{how} not caught"


def test_the_mqt_files_are_there():
    assert len(FILES) >= 20
