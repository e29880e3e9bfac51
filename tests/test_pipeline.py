"""End-to-end: every small benchmark compiles, keeps the contract, and verifies."""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit, qasm3
from qiskit.synthesis import synth_qft_full

import dqc_compiler
from dqc_compiler import DQCError, Network, compile
from dqc_compiler.io import dumps_qasm3, load_circuit, loads_circuit
from dqc_compiler.verify import verify

from .conftest import CIRCUITS as CIRCUITS_DIR, benchmark_files, independent_contract_check

SMALL = benchmark_files(max_qubits=12)


@pytest.mark.parametrize("level", [0, 2, 3])
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("path", [
    # grover_7 (7 qubits and 1,000 gates: 7-19 s a case, 2 min together) runs with the slow sweeps
    pytest.param(p, marks=pytest.mark.slow) if p.stem == "grover_7" else p for p in SMALL
], ids=[p.stem for p in SMALL])
def test_benchmark_compiles_and_verifies(path, k, level):
    circuit = load_circuit(path)
    result = compile(circuit, qpus=k, seed=1, optimization_level=level)
    independent_contract_check(result.circuit, result.report)
    capacity = math.ceil(circuit.num_qubits / k)
    assert all(q["data_qubits"] == capacity for q in result.report["network"]["qpus"])
    verdict = verify(circuit, result.circuit, seed=1)
    assert verdict.equivalent, verdict
    cost = result.report["cost"]
    assert cost["ebits"] - cost["teledata"] == cost["telegates"] == cost["bursts"] + cost["bursts_split"]
    if level == 0:
        assert cost["ebits"] == cost["nonlocal_gates"]


@pytest.mark.parametrize("path", [p for p in SMALL if load_circuit(p).num_qubits <= 8][:6],
                         ids=lambda p: p.stem)
def test_emitted_openqasm3_reloads_and_verifies(path):
    circuit = load_circuit(path)
    result = compile(circuit, qpus=3, seed=2)
    text = dumps_qasm3(result.circuit)
    reloaded = qasm3.loads(text)  # the contract: plain qiskit reads it back
    assert sum(1 for i in reloaded.data if i.operation.name == "epr") == result.report["cost"]["ebits"]
    again = loads_circuit(text)  # ... and our loader recovers the layout from the comment
    assert again.metadata["dqc_layout"] == result.report["layout"]
    assert verify(circuit, again, seed=2).equivalent


def test_single_nonlocal_cnot_costs_one_ebit_and_two_bits():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    result = compile(qc, qpus=2)
    assert result.report["cost"] == {
        "ebits": 1, "classical_bits": 2, "nonlocal_gates": 1, "telegates": 1, "teledata": 0,
        "bursts": 1, "bursts_split": 0, "end_to_end_ebits": 1, "entanglement_swaps": 0, "ebits_unlimited_comm": 1,
        "per_link": {"qpu0-qpu1": 1},
    }
    assert verify(qc, result.circuit, method="exact").equivalent


def test_local_circuit_needs_no_ebits():
    qc = QuantumCircuit(4)
    qc.cx(0, 1)
    qc.cx(2, 3)
    result = compile(qc, qpus=2, seed=0)
    assert result.report["cost"]["ebits"] == 0
    assert result.report["schedule"]["comm_rounds"] == 0


def test_partition_respects_heterogeneous_capacities():
    network = Network.from_dict({"qpus": [
        {"name": "big", "data_qubits": 5}, {"name": "small", "data_qubits": 1, "comm_qubits": 1},
        {"name": "mid", "data_qubits": 2}]})
    circuit = synth_qft_full(8, do_swaps=False)
    result = compile(circuit, network, seed=3)
    independent_contract_check(result.circuit, result.report)
    assert verify(circuit, result.circuit).equivalent


def test_same_seed_same_output():
    circuit = load_circuit(SMALL[-1])
    first = dumps_qasm3(compile(circuit, qpus=3, seed=11).circuit)
    second = dumps_qasm3(compile(circuit, qpus=3, seed=11).circuit)
    assert first == second


def test_contiguous_partitioner_uses_blocks_in_order():
    circuit = synth_qft_full(6, do_swaps=False)
    result = compile(circuit, qpus=3, partitioner="contiguous")
    assert [e["qpu"] for e in result.report["layout"]["initial"]] == ["qpu0", "qpu0", "qpu1", "qpu1", "qpu2", "qpu2"]
    assert verify(circuit, result.circuit).equivalent


def test_metis_cut_is_no_worse_than_contiguous_on_qft():
    circuit = synth_qft_full(12, do_swaps=False)
    metis = compile(circuit, qpus=4, seed=0).report["cost"]["ebits"]
    blocks = compile(circuit, qpus=4, partitioner="contiguous").report["cost"]["ebits"]
    assert metis <= blocks


def test_zero_comm_qubits_is_refused_when_needed():
    network = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 1, "comm_qubits": 0},
                                          {"name": "b", "data_qubits": 1}]})
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    with pytest.raises(DQCError, match="no comm qubits"):
        compile(qc, network)


def test_unlinked_qpus_talk_through_a_relay_that_has_two_comm_qubits():
    qpus = [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}, {"name": "c", "data_qubits": 1}]
    links = [{"between": ["a", "b"]}, {"between": ["b", "c"]}]
    qc = QuantumCircuit(3)
    qc.cx(0, 2)
    qc.cx(1, 2)
    qc.cx(0, 1)
    result = compile(qc, Network.from_dict({"qpus": qpus, "links": links}), partitioner="contiguous")
    assert result.report["cost"]["entanglement_swaps"] == 1
    assert verify(qc, result.circuit, result.report["layout"]).equivalent
    qpus[1]["comm_qubits"] = 1  # b cannot relay: qubits are swapped onto neighbours instead (issue 15 part 4)
    routed = compile(qc, Network.from_dict({"qpus": qpus, "links": links}), partitioner="contiguous")
    assert routed.report["routing"]["swaps"] >= 1 and routed.report["cost"]["entanglement_swaps"] == 0
    assert verify(qc, routed.circuit).equivalent


def test_too_big_for_network():
    with pytest.raises(DQCError, match="holds only 4"):
        compile(QuantumCircuit(5), Network.all_to_all(2, 2))


def test_mid_circuit_measurement_is_compiled():
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    qc.cx(0, 1)
    result = compile(qc, qpus=2)
    assert verify(qc, result.circuit, result.report["layout"]).equivalent


def test_classically_controlled_input_is_compiled_and_while_is_refused():
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    result = compile(qc, qpus=2)
    assert verify(qc, result.circuit, result.report["layout"]).equivalent
    with qc.while_loop((qc.clbits[0], 1)):
        qc.measure(0, 0)
    with pytest.raises(DQCError, match="'while' loops"):
        compile(qc, qpus=2)


def test_initial_reset_and_barriers_are_accepted():
    qc = QuantumCircuit(3, 3)
    qc.reset(range(3))
    qc.h(0)
    qc.barrier()
    qc.cx(0, 2)
    qc.ccx(0, 1, 2)
    qc.measure(range(3), range(3))
    result = compile(qc, qpus=3, seed=0)
    assert verify(qc, result.circuit, method="exact").equivalent


def test_pass_manager_is_public_and_reports_through_property_set():
    network = Network.all_to_all(2, 2)
    manager = dqc_compiler.generate_dqc_pass_manager(network, seed=0)
    qc = QuantumCircuit(4)
    qc.cx(0, 3)
    out = manager.run(qc)
    assert manager.property_set["dqc_cost"]["ebits"] == sum(1 for i in out.data if i.operation.name == "epr")
    assert len(manager.property_set["dqc_partition"]) == 4


def test_emitted_file_runs_on_aer_with_the_original_distribution():
    """Independent of our verifier: reload the OpenQASM 3 text with qiskit, run both on Aer, compare counts."""
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    circuit = load_circuit(CIRCUITS_DIR / "grover_3.qasm")
    result = compile(circuit, qpus=3, seed=4)
    reloaded = qasm3.loads(dumps_qasm3(result.circuit))
    backend = AerSimulator(seed_simulator=5)
    shots = 4000

    def distribution(qc):
        counts = backend.run(transpile(qc, backend), shots=shots).result().get_counts()
        merged = {}
        for key, count in counts.items():
            data = key.split(" ")[-1]  # the input's register is added first: rightmost in the key
            merged[data] = merged.get(data, 0) + count
        return {k: v / shots for k, v in merged.items()}

    want, got = distribution(circuit), distribution(reloaded)
    total_variation = 0.5 * sum(abs(want.get(k, 0) - got.get(k, 0)) for k in set(want) | set(got))
    assert total_variation < 0.05, (want, got)
    marked = max(want, key=want.get)
    assert max(got, key=got.get) == marked


def test_circuit_that_fits_one_qpu_is_not_spread():
    network = Network.from_dict({"qpus": [{"name": "big", "data_qubits": 5}, {"name": "medium", "data_qubits": 3},
                                          {"name": "small", "data_qubits": 2, "comm_qubits": 1}]})
    circuit = load_circuit(CIRCUITS_DIR / "grover_5.qasm")
    result = compile(circuit, network, seed=1)
    assert result.report["cost"]["ebits"] == 0
    assert {e["qpu"] for e in result.report["layout"]["initial"]} == {"big"}


# --- one settings object per optimisation level -------------------------------------------------


def test_level_table_in_the_docs_and_the_cli_help_come_from_the_settings():
    from dqc_compiler.cli import build_parser
    from dqc_compiler.settings import levels_help, levels_table

    from .conftest import ROOT

    assert levels_table() in (ROOT / "docs" / "cost-model.md").read_text()
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert levels_help() in action.choices["compile"].epilog
    assert dqc_compiler.pipeline.LEVELS == {
        level: found.summary for level, found in dqc_compiler.settings.LEVEL_SETTINGS.items()
    }


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_the_pass_list_follows_the_level_settings(level):
    from dqc_compiler.passes import AbsorbFinalSwaps, CommuteForBursts, GroupBursts, Normalise, PartitionQubits
    from dqc_compiler.settings import settings_for

    settings = settings_for(level)
    manager = dqc_compiler.generate_dqc_pass_manager(Network.all_to_all(2, 4), optimization_level=level)
    passes = [task for step in manager.to_flow_controller().tasks for task in getattr(step, "tasks", [step])]
    kinds = [type(p) for p in passes]
    assert (AbsorbFinalSwaps in kinds) == settings.absorb_final_swaps
    assert (CommuteForBursts in kinds) == settings.commute
    assert next(p for p in passes if isinstance(p, Normalise)).keep_multi == settings.keep_multi
    assert next(p for p in passes if isinstance(p, PartitionQubits)).settings is settings
    assert next(p for p in passes if isinstance(p, GroupBursts)).settings is settings


def test_each_level_does_at_least_what_the_one_below_does():
    from dqc_compiler.settings import LEVEL_SETTINGS

    for level in (1, 2, 3):
        low, high = LEVEL_SETTINGS[level - 1], LEVEL_SETTINGS[level]
        for flag in ("absorb_final_swaps", "keep_multi", "x_basis", "embed", "embed_h", "burst_aware_partition", "commute"):
            assert getattr(high, flag) >= getattr(low, flag), (level, flag)
        assert high.refine_budget(100) >= low.refine_budget(100)
        assert high.metis_seeds >= low.metis_seeds


@pytest.mark.parametrize("level", [0, 2, 3])
def test_refine_false_runs_no_local_search_at_all(level, monkeypatch):
    from dqc_compiler.passes import partition

    calls = []
    original_refine, original_ebits = partition.refine, partition.refine_ebits
    monkeypatch.setattr(partition, "refine", lambda *a, **k: calls.append("refine") or original_refine(*a, **k))
    monkeypatch.setattr(
        partition, "refine_ebits",
        lambda score, parts, caps, budget: calls.append(("refine_ebits", budget)) or original_ebits(score, parts, caps, budget),
    )
    circuit = load_circuit(CIRCUITS_DIR / "qft_noswap_8.qasm")
    compile(circuit, qpus=2, seed=1, optimization_level=level, refine=False)
    assert "refine" not in calls
    assert all(budget == 0 for _, budget in calls)
    calls.clear()
    compile(circuit, qpus=2, seed=1, optimization_level=level)  # the control: on by default
    assert "refine" in calls
    if level >= 2:
        assert any(budget > 0 for _, budget in (c for c in calls if c != "refine"))


def test_unknown_level_is_refused_by_the_settings():
    from dqc_compiler.settings import settings_for

    with pytest.raises(DQCError, match="optimization level"):
        settings_for(7)
