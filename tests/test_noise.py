"""Noise: network keys, the Aer noise model, the analytic estimate against exact noisy simulation, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp
from qiskit.quantum_info import process_fidelity
from qiskit.synthesis import synth_qft_full
from qiskit_aer import AerSimulator
from qiskit_aer.noise import depolarizing_error, thermal_relaxation_error

from dqc_compiler import DQCError, Network, compile
from dqc_compiler.cli import main
from dqc_compiler.io import load_circuit
from dqc_compiler.noise import (
    EPR_LABEL,
    IDLE_LABEL,
    estimate_fidelity,
    gate_infidelity,
    idle_fidelity,
    idle_periods,
    noise_model,
    noisy_circuit,
    simulate,
    werner_probability,
)

ROOT = Path(__file__).resolve().parent.parent
OXFORD = ROOT / "docs" / "networks" / "oxford2025.json"
GROVER2 = ROOT / "docs" / "examples" / "grover2.qasm"
#: The stated tolerance of the analytic estimate against the exact simulation, for fidelities >= 0.8.
TOLERANCE = 0.05


def _qft3() -> QuantumCircuit:
    circuit = synth_qft_full(3, do_swaps=False)
    circuit.name = "qft3"
    return circuit


def _ghz3(measure: bool = False) -> QuantumCircuit:
    circuit = QuantumCircuit(3, 3 if measure else 0, name="ghz3")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.rz(0.3, 2)
    circuit.cx(0, 2)
    if measure:
        circuit.measure(range(3), range(3))
    return circuit


def _noisy(link_fidelity: float = 0.95, gate_error_2q: float = 0.01, t: float | None = 2000.0) -> Network:
    return Network.all_to_all(2, 2).with_noise(
        gate_error_1q=0.001, gate_error_2q=gate_error_2q, readout_error=0.01, link_fidelity=link_fidelity, t1=t, t2=t)


# ---------------------------------------------------------------------- network file
def test_noise_keys_are_read_and_default_to_noiseless():
    net = Network.from_dict({
        "qpus": [{"name": "a", "data_qubits": 2, "gate_error_1q": 1e-4, "gate_error_2q": 0.01,
                  "readout_error": 0.02, "t1": 100, "t2": 150},
                 {"name": "b", "data_qubits": 2}],
        "links": [{"between": ["a", "b"], "fidelity": 0.9, "pair_dephasing_time": 50}],
    })
    a, b = net.qpus
    assert (a.gate_error_1q, a.gate_error_2q, a.readout_error, a.t1, a.t2) == (1e-4, 0.01, 0.02, 100.0, 150.0)
    assert b.noiseless and (b.t1, b.t2) == (math.inf, math.inf)
    assert net.links[0].pair_dephasing_time == 50.0
    assert not net.noiseless
    assert Network.all_to_all(2, 2).noiseless


@pytest.mark.parametrize("qpu, link, message", [
    ({"gate_error_2q": 1.5}, {}, "qpus[0].gate_error_2q: expected a probability in [0, 1], got 1.5"),
    ({"readout_error": -0.1}, {}, "qpus[0].readout_error: expected a probability in [0, 1], got -0.1"),
    ({"t1": 0}, {}, "qpus[0].t1: expected a positive number, got 0"),
    ({"t1": 100, "t2": 300}, {}, "t2 = 300 exceeds 2 * t1 = 200"),
    ({"t2": "long"}, {}, "qpus[0].t2: expected a positive number, got 'long'"),
    ({}, {"pair_dephasing_time": -1}, "links[0].pair_dephasing_time: expected a positive number, got -1"),
])
def test_bad_noise_keys_are_one_line_errors(qpu, link, message):
    data = {"qpus": [{"name": "a", "data_qubits": 1, **qpu}, {"name": "b", "data_qubits": 1}],
            "links": [{"between": ["a", "b"], **link}]}
    with pytest.raises(DQCError) as info:
        Network.from_dict(data, source="bad.json")
    assert message in str(info.value) and "\n" not in str(info.value)


# ---------------------------------------------------------------------- the per-operation figures
def test_werner_probability_gives_the_bell_fidelity():
    for fidelity in (1.0, 0.97, 0.8, 0.5):
        circuit = QuantumCircuit(2)
        circuit.h(0)
        circuit.cx(0, 1)
        p = werner_probability(fidelity)
        if p > 0:
            circuit.append(depolarizing_error(p, 2).to_instruction(), [0, 1])
        circuit.save_density_matrix()
        rho = np.asarray(AerSimulator(method="density_matrix").run(circuit).result().data(0)["density_matrix"])
        bell = np.array([1, 0, 0, 1]) / math.sqrt(2)
        assert abs(float(np.real(bell @ rho @ bell)) - fidelity) < 1e-12


def test_gate_and_idle_figures_are_the_channels_process_fidelities():
    for p, k in ((0.01, 1), (0.03, 2), (0.2, 2)):
        assert abs(process_fidelity(depolarizing_error(p, k)) - (1 - gate_infidelity(p, k))) < 1e-12
    for t1, t2, t in ((100.0, 80.0, 7.0), (50.0, 100.0, 30.0), (math.inf, 40.0, 10.0)):
        assert abs(process_fidelity(thermal_relaxation_error(t1, t2, t)) - idle_fidelity(t, t1, t2)) < 1e-12


# ---------------------------------------------------------------------- noiseless networks
@pytest.mark.parametrize("circuit", [_qft3(), _ghz3(measure=True)], ids=["qft3", "ghz3-measured"])
def test_perfect_network_estimates_exactly_one_and_simulates_the_ideal(circuit):
    result = compile(circuit, Network.all_to_all(2, 2), seed=1)
    estimate = estimate_fidelity(result)
    assert estimate["estimate"] == 1.0 and estimate["noiseless"]
    outcome = simulate(circuit, result)
    if outcome.figure == "process":
        assert outcome.process_fidelity == pytest.approx(1.0, abs=1e-9)
    else:
        assert outcome.hellinger_fidelity == pytest.approx(1.0, abs=1e-9)
        assert outcome.total_variation_distance == pytest.approx(0.0, abs=1e-9)
    assert outcome.method == "density_matrix/exact"


def test_entanglement_swapping_simulates_exactly():
    circuit = QuantumCircuit(3, 3)
    circuit.h(0)
    circuit.cx(0, 2)
    circuit.t(2)
    circuit.cx(2, 0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)  # a triangle of interactions: one pair is not neighbours on the line
    circuit.measure(range(3), range(3))
    result = compile(circuit, Network.line(3, 1), seed=1)
    assert result.report["cost"]["entanglement_swaps"] >= 1
    outcome = simulate(circuit, result)
    assert outcome.method == "density_matrix/exact"
    assert outcome.hellinger_fidelity == pytest.approx(1.0, abs=1e-9)


def test_a_broken_distributed_circuit_simulates_clearly_worse():
    circuit = _qft3()
    result = compile(circuit, Network.all_to_all(2, 2), seed=1)
    broken = result.circuit.copy_empty_like()
    removed = False
    for instruction in result.circuit.data:
        if isinstance(instruction.operation, IfElseOp) and not removed:
            removed = True  # drop the first correction
            continue
        broken.append(instruction)
    assert removed
    good = simulate(circuit, result, noisy=False, figure="process").process_fidelity
    bad = simulate(circuit, broken, result.network, result.report["layout"], noisy=False, figure="process")
    assert good == pytest.approx(1.0, abs=1e-9)
    assert bad.process_fidelity < 0.75
    measured = _ghz3(measure=True)
    result = compile(measured, Network.all_to_all(2, 2), seed=1)
    broken = result.circuit.copy_empty_like()
    skipped = False
    for instruction in result.circuit.data:  # the cat-entangler's x correction: the copy is then wrong
        op = instruction.operation
        if isinstance(op, IfElseOp) and op.blocks[0].data[0].operation.name == "x" and not skipped:
            skipped = True
            continue
        broken.append(instruction)
    assert skipped
    bad = simulate(measured, broken, result.network, result.report["layout"], noisy=False)
    assert bad.hellinger_fidelity < 0.9


# ---------------------------------------------------------------------- estimate against simulation
@pytest.mark.parametrize("make", [_qft3, _ghz3], ids=["qft3", "ghz3"])
@pytest.mark.parametrize("link_fidelity, gate_error_2q, t", [(0.99, 0.005, None), (0.95, 0.01, 2000.0),
                                                             (0.9, 0.005, 4000.0), (0.85, 0.0, None)])
def test_estimate_matches_exact_simulation(make, link_fidelity, gate_error_2q, t):
    circuit = make()
    result = compile(circuit, _noisy(link_fidelity, gate_error_2q, t), seed=1)
    estimate = estimate_fidelity(result)["estimate"]
    simulated = simulate(circuit, result, figure="process").process_fidelity
    assert simulated >= 0.8
    assert abs(estimate - simulated) <= TOLERANCE, (estimate, simulated)


def test_worse_links_give_lower_estimates_and_lower_simulated_fidelities():
    circuit = _qft3()
    estimates, simulated = [], []
    for fidelity in (1.0, 0.97, 0.93, 0.88):
        result = compile(circuit, _noisy(fidelity), seed=1)
        estimates.append(estimate_fidelity(result)["estimate"])
        simulated.append(simulate(circuit, result, figure="process").process_fidelity)
    assert estimates == sorted(estimates, reverse=True) and len(set(estimates)) == 4
    assert simulated == sorted(simulated, reverse=True) and len(set(simulated)) == 4


def test_slower_links_leave_data_waiting_longer():
    circuit = _ghz3()
    figures = []
    for ebit_time in (10.0, 100.0, 1000.0):
        data = {"qpus": [{"name": "a", "data_qubits": 2, "t1": 5000, "t2": 3000},
                         {"name": "b", "data_qubits": 2, "t1": 5000, "t2": 3000}],
                "links": [{"between": ["a", "b"], "ebit_time": ebit_time, "pair_dephasing_time": 4000}]}
        result = compile(circuit, Network.from_dict(data), seed=1)
        estimate = estimate_fidelity(result)
        figures.append((estimate["estimate"], simulate(circuit, result, figure="process").process_fidelity))
        assert estimate["terms"]["idle"]["factor"] < 1
    estimates, simulated = zip(*figures)
    assert list(estimates) == sorted(estimates, reverse=True) and len(set(estimates)) == 3
    assert list(simulated) == sorted(simulated, reverse=True) and len(set(simulated)) == 3
    assert abs(estimates[0] - simulated[0]) <= TOLERANCE


# ---------------------------------------------------------------------- the noise model and the noisy copy
def test_shots_with_the_noise_model_agree_with_the_exact_simulation():
    circuit = _ghz3(measure=True)
    result = compile(circuit, _noisy(0.93, 0.02, 1500.0), seed=1)
    exact = simulate(circuit, result)
    sampled = simulate(circuit, result, shots=4000, seed=3)
    assert sampled.method.endswith("/shots") and sampled.shots == 4000
    assert abs(exact.hellinger_fidelity - sampled.hellinger_fidelity) < 0.03
    assert exact.hellinger_fidelity < 0.97


def test_noise_model_is_local_to_each_qpu_and_the_original_is_untouched():
    data = {"qpus": [{"name": "a", "data_qubits": 2, "gate_error_2q": 0.05, "readout_error": 0.02},
                     {"name": "b", "data_qubits": 2}],
            "links": [{"between": ["a", "b"], "fidelity": 0.9}]}
    circuit = _ghz3(measure=True)
    result = compile(circuit, Network.from_dict(data), seed=1)
    before = result.circuit.copy()
    copy, model = noisy_circuit(result)
    assert result.circuit == before
    a_qubits = {result.circuit.find_bit(q).index for q in result.circuit.qregs[0]}
    assert result.circuit.qregs[0].name == "a"
    noisy = model.to_dict()["errors"]
    for error in noisy:
        if error["type"] == "roerror" or error["operations"] != [EPR_LABEL]:
            assert set(q for qubits in error["gate_qubits"] for q in qubits) <= a_qubits, error
    assert any(error["operations"] == [EPR_LABEL] for error in noisy)
    assert sum(1 for i in copy.data if i.operation.name == "delay") > 0
    direct = noise_model(result.network, result.circuit).to_dict()["errors"]  # the compiler's output itself
    assert any(error["operations"] == ["epr"] for error in direct)
    assert len([i for i in copy.data if i.operation.name != "delay"]) == len(result.circuit.data)


def test_idle_delays_cover_the_schedule_gaps():
    net = _noisy(t=1000.0)
    result = compile(_ghz3(), net, seed=1)
    copy, model = noisy_circuit(result)
    delays = [i.operation for i in copy.data if i.operation.name == "delay"]
    gaps = idle_periods(result)
    assert len(delays) == len(gaps)
    assert sum(d.duration for d in delays) == pytest.approx(sum(g.duration for g in gaps))
    assert all(d.label.startswith(IDLE_LABEL + "/") for d in delays)
    assert any(label.startswith(IDLE_LABEL) for label in model.noise_instructions)


# ---------------------------------------------------------------------- the 2025 two-module experiment
def test_two_module_grover_prediction_is_computed():
    """Main et al., Nature 638, 383 (2025) measured a 71% Grover success; this computes our prediction
    from the published component figures in docs/networks/oxford2025.json (see docs/noise.md)."""
    network = Network.from_file(OXFORD)
    circuit = load_circuit(GROVER2)
    result = compile(circuit, network, seed=0)
    assert result.report["cost"]["ebits"] == 2 and result.report["cost"]["nonlocal_gates"] == 2
    outcome = simulate(circuit, result)
    assert outcome.top_outcome == "11" and outcome.ideal_top_outcome_probability == pytest.approx(1.0)
    assert 0.5 < outcome.top_outcome_probability < 1.0
    estimate = estimate_fidelity(result)["estimate"]
    assert 0.5 < estimate <= outcome.top_outcome_probability


# ---------------------------------------------------------------------- command line
def test_cli_compile_estimate_and_simulate(tmp_path, capsys):
    out, report = tmp_path / "g2.qasm", tmp_path / "g2.json"
    assert main(["compile", str(GROVER2), "--network", str(OXFORD), "-o", str(out), "--report", str(report),
                 "--estimate-fidelity"]) == 0
    fidelity = json.loads(report.read_text())["fidelity"]
    assert 0 < fidelity["estimate"] < 1 and fidelity["terms"]["ebits"] == {"count": 2, "factor": 0.9409}
    assert "estimated fidelity" in capsys.readouterr().out
    assert main(["simulate", str(GROVER2), str(out), "--network", str(OXFORD), "--noisy", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["figure"] == "distribution" and printed["top_outcome"] == "11"
    assert printed["estimate"] == fidelity["estimate"]
    assert main(["simulate", str(GROVER2), str(out), "--network", str(OXFORD)]) == 0
    assert "Hellinger fidelity 1," in capsys.readouterr().out


def test_cli_noiseless_estimate_is_one(tmp_path, capsys):
    assert main(["compile", str(GROVER2), "--qpus", "2", "--estimate-fidelity", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fidelity"]["estimate"] == 1.0


def test_cli_simulate_errors_are_one_line_exit_2(tmp_path, capsys):
    out = tmp_path / "g2.qasm"
    assert main(["compile", str(GROVER2), "--network", str(OXFORD), "-o", str(out)]) == 0
    capsys.readouterr()
    cases = [
        (["--network", "line:2x1"], "register 'alice' is not a QPU of the network"),
        (["--network", str(OXFORD), "--shots", "0"], "--shots must be a positive integer, got 0"),
        (["--network", str(tmp_path / "none.json")], "network file not found"),
    ]
    for extra, message in cases:
        assert main(["simulate", str(GROVER2), str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert main(["simulate", str(GROVER2), str(GROVER2), "--network", str(OXFORD)]) == 2
    assert "carries no layout" in capsys.readouterr().err


def test_sampled_figure_is_compared_with_the_sampling_error():
    """Regression (issue 13.7): a correct output sampled with few shots over many outcomes must not
    look broken: the result states what the ideal distribution itself scores at that many shots."""
    from qiskit import QuantumCircuit

    import dqc_compiler
    from dqc_compiler.noise import simulate

    circuit = QuantumCircuit(6)
    circuit.h(range(6))
    circuit.cx(0, 5)
    circuit.measure_all()
    result = dqc_compiler.compile(circuit, qpus=2)
    outcome = simulate(circuit, result, noisy=False, shots=300, seed=1)
    assert outcome.hellinger_fidelity < 0.99  # 300 shots over 64 outcomes
    assert outcome.sampling_threshold_hellinger < outcome.sampling_expected_hellinger < 1
    assert outcome.within_sampling_error is True
    broken = result.circuit.copy_empty_like()
    for instruction in result.circuit.data:
        if instruction.operation.name == "h" and result.circuit.find_bit(instruction.qubits[0]).index == 0:
            continue  # drop one Hadamard: a different distribution
        broken.append(instruction)
    worse = simulate(circuit, broken, result.network, result.report["layout"], noisy=False, shots=300, seed=1)
    assert worse.within_sampling_error is False
