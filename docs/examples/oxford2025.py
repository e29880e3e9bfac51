"""Predict the two-module Grover search of Main et al., Nature 638, 383 (2025) from component figures.

    python docs/examples/oxford2025.py

Prints the prediction of docs/noise.md: the teleported CZ and the Grover success probability for
each of the four marked states, with the inputs of docs/networks/oxford2025.json, with the best
published Oxford two-qubit gate instead, and a cross-check that feeds the measured 86% teleported CZ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from dqc_compiler import Network, compile  # noqa: E402
from dqc_compiler.noise import estimate_fidelity, simulate  # noqa: E402

PUBLISHED_GROVER, PUBLISHED_CZ = 0.71, 0.86


def grover(marked: str) -> QuantumCircuit:
    """Two-qubit Grover search for ``marked`` (one iteration finds it with certainty)."""
    circuit = QuantumCircuit(2, 2, name=f"grover2_{marked}")
    flips = [i for i, bit in enumerate(reversed(marked)) if bit == "0"]
    circuit.h([0, 1])
    if flips:
        circuit.x(flips)
    circuit.cz(0, 1)  # the oracle
    if flips:
        circuit.x(flips)
    circuit.h([0, 1])
    circuit.x([0, 1])
    circuit.cz(0, 1)  # the diffusion's reflection
    circuit.x([0, 1])
    circuit.h([0, 1])
    circuit.measure([0, 1], [0, 1])
    return circuit


def predict(network: Network, title: str) -> None:
    cz = QuantumCircuit(2, name="cz")
    cz.cz(0, 1)
    result = compile(cz, network, seed=0)
    teleported = simulate(cz, result, figure="process").process_fidelity
    print(f"{title}: teleported CZ process fidelity {teleported:.3f} (published {PUBLISHED_CZ:.2f})")
    successes = []
    for marked in ("00", "01", "10", "11"):
        result = compile(grover(marked), network, seed=0)
        outcome = simulate(grover(marked), result)
        successes.append(outcome.top_outcome_probability)
        print(f"  marked {marked}: {result.report['cost']['ebits']} ebits, "
              f"success {outcome.top_outcome_probability:.4f}, estimate {estimate_fidelity(result)['estimate']:.4f}")
    print(f"  mean success {sum(successes) / 4:.4f} (published {PUBLISHED_GROVER:.2f})")


def cross_check() -> float:
    """Monolithic Grover with each CZ replaced by the measured 86% gate (a depolarizing channel of that
    process fidelity) and the same 1e-3 readout error: what the published gate figure alone implies."""
    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error((1 - PUBLISHED_CZ) * 16 / 15, 2), "cz")
    model.add_all_qubit_readout_error(ReadoutError([[0.999, 0.001], [0.001, 0.999]]))
    total = 0.0
    for marked in ("00", "01", "10", "11"):
        circuit = grover(marked)
        circuit.remove_final_measurements()
        circuit.save_probabilities_dict(qubits=[0, 1])
        result = AerSimulator(method="density_matrix", noise_model=model).run(circuit).result()
        probabilities = result.data(0)["probabilities"]
        # readout errors are not applied to saved probabilities: apply them here
        p = {format(k, "02b"): v for k, v in probabilities.items()}
        keep = sum(v * (0.999 ** (2 - sum(a != b for a, b in zip(key, marked)))) *
                   (0.001 ** sum(a != b for a, b in zip(key, marked))) for key, v in p.items())
        total += keep
    return total / 4


if __name__ == "__main__":
    network = Network.from_file(HERE.parent / "networks" / "oxford2025.json")
    predict(network, "docs/networks/oxford2025.json")
    predict(network.with_noise(gate_error_2q=0.0008 * 16 / 15), "with the best published Oxford 43Ca+ gate (99.92%)")
    print(f"cross-check, the measured 86% teleported CZ as a depolarizing channel: mean success {cross_check():.4f}")
