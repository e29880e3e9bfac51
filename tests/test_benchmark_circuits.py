"""Behavioural tests of the OpenQASM 2 benchmark circuits in benchmarks/circuits/.

The files are produced by ``benchmarks/circuits/generate.py``; these tests only
read the ``.qasm`` files (parsed with ``qiskit.qasm2.loads`` and
``LEGACY_CUSTOM_INSTRUCTIONS``) and check what the circuits do.
Counts keys are Qiskit little-endian strings: the rightmost character is
classical bit 0.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, qasm2, transpile
from qiskit.quantum_info import Operator, Statevector
from qiskit.synthesis import synth_qft_full
from qiskit_aer import AerSimulator

CIRCUIT_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"

QFT_NOSWAP_SIZES = (4, 8, 10, 12, 16, 32, 64)
QFT_SIZES = (4, 8, 12, 16, 32, 64)
GROVER_MARKED = {3: "101", 5: "10110", 7: "1011001"}
GHZ_SIZES = (4, 8, 16)
BV_SECRETS = {6: "10110", 10: "101100111"}

EXPECTED_FILES = (
    [f"qft_noswap_{n}" for n in QFT_NOSWAP_SIZES]
    + [f"qft_{n}" for n in QFT_SIZES]
    + [f"grover_{n}" for n in GROVER_MARKED]
    + ["shor_15_7"]
    + [f"ghz_{n}" for n in GHZ_SIZES]
    + [f"bv_{n}" for n in BV_SECRETS]
    + ["random_cz_32"]
)

#: Gates of qelib1.inc that the benchmark files are allowed to use.
ALLOWED_OPS = {"h", "x", "p", "u1", "cx", "cz", "cp", "cu1", "swap", "ccx", "measure"}

SHOTS = 2000
SEED = 1234


@lru_cache(maxsize=None)
def load(name: str) -> QuantumCircuit:
    """Parse ``benchmarks/circuits/<name>.qasm``."""
    text = (CIRCUIT_DIR / f"{name}.qasm").read_text()
    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def run_counts(qc: QuantumCircuit, shots: int = SHOTS, **options) -> dict[str, int]:
    """Sample ``qc`` on AerSimulator with a fixed seed."""
    sim = AerSimulator(**options)
    result = sim.run(transpile(qc, sim, optimization_level=0), shots=shots, seed_simulator=SEED)
    return result.result().get_counts()


def unitary_part(qc: QuantumCircuit) -> QuantumCircuit:
    return qc.remove_final_measurements(inplace=False)


# --------------------------------------------------------------------------
# All files
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_file_loads_and_uses_qelib1_gates_only(name):
    text = (CIRCUIT_DIR / f"{name}.qasm").read_text()
    assert text.startswith("OPENQASM 2.0;")
    assert 'include "qelib1.inc";' in text
    assert "\ngate " not in text and "\nopaque " not in text
    qc = load(name)
    ops = set(qc.count_ops())
    assert ops <= ALLOWED_OPS, ops - ALLOWED_OPS
    assert all(inst.operation.num_qubits <= 3 for inst in qc.data)


# --------------------------------------------------------------------------
# QFT
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [n for n in QFT_NOSWAP_SIZES if n <= 8])
def test_qft_noswap_operator(n):
    qc = load(f"qft_noswap_{n}")
    assert qc.num_qubits == n
    assert Operator(qc) == Operator(synth_qft_full(n, do_swaps=False))


@pytest.mark.parametrize("n", [n for n in QFT_SIZES if n <= 8])
def test_qft_operator(n):
    qc = load(f"qft_{n}")
    assert qc.num_qubits == n
    assert Operator(qc) == Operator(synth_qft_full(n, do_swaps=True))


@pytest.mark.parametrize("n", QFT_NOSWAP_SIZES)
def test_qft_noswap_gate_counts(n):
    qc = load(f"qft_noswap_{n}")
    assert qc.num_qubits == n
    assert dict(qc.count_ops()) == {"h": n, "cp": n * (n - 1) // 2}


@pytest.mark.parametrize("n", QFT_SIZES)
def test_qft_gate_counts(n):
    qc = load(f"qft_{n}")
    assert qc.num_qubits == n
    assert dict(qc.count_ops()) == {"h": n, "cp": n * (n - 1) // 2, "swap": n // 2}


# --------------------------------------------------------------------------
# Grover
# --------------------------------------------------------------------------


def grover_success_probability(n: int) -> float:
    """sin^2((2k+1) theta), sin theta = 2^{-n/2}, k = floor(pi/4 sqrt(2^n))."""
    k = math.floor(math.pi / 4 * math.sqrt(2**n))
    theta = math.asin(2 ** (-n / 2))
    return math.sin((2 * k + 1) * theta) ** 2


# theory: n=3 -> 0.9453, n=5 -> 0.9992, n=7 -> 0.9956
GROVER_THRESHOLDS = {3: 0.90, 5: 0.97, 7: 0.97}


@pytest.mark.parametrize("n", sorted(GROVER_MARKED))
def test_grover_exact_probability_matches_theory(n):
    qc = load(f"grover_{n}")
    assert qc.num_qubits == n and qc.num_clbits == n
    probs = Statevector(unitary_part(qc)).probabilities_dict()
    assert probs[GROVER_MARKED[n]] == pytest.approx(grover_success_probability(n), abs=1e-9)


@pytest.mark.parametrize("n", sorted(GROVER_MARKED))
def test_grover_finds_marked_state(n):
    counts = run_counts(load(f"grover_{n}"))
    marked = GROVER_MARKED[n]
    best = max(counts, key=counts.get)
    assert best == marked
    assert counts[marked] / SHOTS > GROVER_THRESHOLDS[n]


# --------------------------------------------------------------------------
# Shor
# --------------------------------------------------------------------------


def test_shor_structure():
    qc = load("shor_15_7")
    assert qc.num_qubits == 18
    assert qc.num_clbits == 8
    assert [r.name for r in qc.qregs] == ["up", "down", "aux"]
    assert [r.size for r in qc.qregs] == [8, 4, 6]
    assert max(inst.operation.num_qubits for inst in qc.data) <= 3
    measured = [qc.find_bit(inst.qubits[0]).index for inst in qc.data if inst.operation.name == "measure"]
    assert measured == list(range(8))
    # a real modular exponentiation: 8 controlled multipliers of many gates
    assert qc.count_ops()["cp"] > 1000


@pytest.fixture(scope="module")
def shor_result():
    """One Aer statevector run: saves the pre-measurement state, then samples."""
    qc = load("shor_15_7")
    body = unitary_part(qc)
    body.save_statevector()
    body.add_register(*qc.cregs)
    body.measure(qc.qregs[0], qc.cregs[0])
    sim = AerSimulator(method="statevector")
    result = sim.run(transpile(body, sim, optimization_level=0), shots=SHOTS, seed_simulator=SEED).result()
    return result.get_counts(), Statevector(result.get_statevector())


def test_shor_counting_register_peaks(shor_result):
    counts, _ = shor_result
    good = {format(v, "08b") for v in (0, 64, 128, 192)}
    p_good = sum(c for k, c in counts.items() if k in good) / SHOTS
    assert p_good > 0.95
    for key in good:  # r = 4: each of the four peaks has probability 1/4
        assert 0.2 < counts.get(key, 0) / SHOTS < 0.3


def test_shor_registers_after_modular_exponentiation(shor_result):
    _, state = shor_result
    up = list(range(0, 8))
    down = list(range(8, 12))
    aux = list(range(12, 18))
    # exact phase-estimation output
    p_up = state.probabilities(up)
    assert sum(p_up[v] for v in (0, 64, 128, 192)) == pytest.approx(1.0, abs=1e-8)
    # work register holds 7^x mod 15 in {1, 7, 4, 13}, uniformly
    p_down = state.probabilities(down)
    for v in (1, 7, 4, 13):
        assert p_down[v] == pytest.approx(0.25, abs=1e-8)
    # auxiliary (adder + flag) qubits are uncomputed
    assert state.probabilities(aux)[0] == pytest.approx(1.0, abs=1e-8)


# --------------------------------------------------------------------------
# GHZ and Bernstein-Vazirani
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", GHZ_SIZES)
def test_ghz(n):
    qc = load(f"ghz_{n}")
    assert qc.num_qubits == n and qc.num_clbits == n
    counts = run_counts(qc)
    assert set(counts) <= {"0" * n, "1" * n}
    assert 0.4 < counts.get("0" * n, 0) / SHOTS < 0.6
    assert sum(inst.operation.num_qubits == 2 for inst in qc.data) == n - 1


@pytest.mark.parametrize("n", sorted(BV_SECRETS))
def test_bernstein_vazirani(n):
    qc = load(f"bv_{n}")
    secret = BV_SECRETS[n]
    assert qc.num_qubits == n and qc.num_clbits == n - 1
    counts = run_counts(qc)
    assert counts == {secret: SHOTS}
    assert qc.count_ops().get("cx", 0) == secret.count("1")
