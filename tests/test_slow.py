"""Long equivalence sweeps, run by .ci/run (`python -m pytest -m slow`), not by default."""

from __future__ import annotations

import pytest

from dqc_compiler import compile
from dqc_compiler.io import load_circuit
from dqc_compiler.verify import verify

from .conftest import CIRCUITS, benchmark_files, independent_contract_check

WIDE = [p for p in benchmark_files() if 12 < load_circuit(p).num_qubits and not p.stem.startswith("shor")]


@pytest.mark.slow
def test_shor_18_qubits_verifies_on_random_product_states():
    circuit = load_circuit(CIRCUITS / "shor_15_7.qasm")
    assert circuit.num_qubits == 18
    result = compile(circuit, qpus=2, seed=1)
    independent_contract_check(result.circuit, result.report)
    verdict = verify(circuit, result.circuit, method="auto", seed=1)
    assert verdict.equivalent, verdict
    assert [c.method for c in verdict.checks] == ["product-states/statevector", "clifford/stabilizer"]


@pytest.mark.slow
@pytest.mark.parametrize("k", [3, 4])
def test_shor_distribution_logic_on_stabilizer(k):
    circuit = load_circuit(CIRCUITS / "shor_15_7.qasm")
    result = compile(circuit, qpus=k, seed=1)
    independent_contract_check(result.circuit, result.report)
    assert verify(circuit, result.circuit, method="stabilizer", seed=1).equivalent


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("path", WIDE, ids=[p.stem for p in WIDE])
def test_wide_benchmarks_verify(path, k):
    circuit = load_circuit(path)
    result = compile(circuit, qpus=k, seed=1)
    independent_contract_check(result.circuit, result.report)
    verdict = verify(circuit, result.circuit, seed=1)
    assert verdict.equivalent, verdict
