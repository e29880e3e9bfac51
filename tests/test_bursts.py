"""Bursts, X-basis copies, embedding, absorbed swaps and optimisation levels: behaviour and negative controls."""

from __future__ import annotations

import itertools
import json
import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp
from qiskit.converters import circuit_to_dag

from dqc_compiler import DQCError, Network, compile
from dqc_compiler.cli import main
from dqc_compiler.io import load_circuit
from dqc_compiler.optimal import prepare
from dqc_compiler.segments import best_runs, build_model, choose_copies, copy_count, min_copy_count, min_vertex_cover
from dqc_compiler.verify import verify

from .conftest import CIRCUITS, examples, independent_contract_check
from .conftest import rebuild as _rebuild


def _comm_qubits(result) -> set:
    """Qubits of the output that are comm qubits (not in the layout)."""
    registers = {r.name: r for r in result.circuit.qregs}
    layout = result.report["layout"]
    data = {registers[e["qpu"]][e["index"]] for e in layout["initial"] + layout["final"]}
    return {q for q in result.circuit.qubits if q not in data}


def _assert_caught(original, broken) -> None:
    for method in ("exact", "random"):
        assert not verify(original, broken, method=method, seed=3).equivalent, method


# ---------------------------------------------------------------------- vertex cover
@settings(max_examples=examples(80))
@given(st.integers(1, 7), st.integers(1, 7), st.data())
def test_min_vertex_cover_is_a_minimum_cover(left, right, data):
    edges = data.draw(st.sets(st.tuples(st.integers(0, left - 1), st.integers(0, right - 1)), min_size=1))
    adjacency: dict = {}
    for u, v in sorted(edges):
        adjacency.setdefault(("L", u), []).append(("R", v))
    cover = min_vertex_cover(adjacency)
    assert all(u in cover or v in cover for u in adjacency for v in adjacency[u])
    graph = nx.Graph((u, v) for u in adjacency for v in adjacency[u])
    matching = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=set(adjacency))
    assert len(cover) == len(matching) // 2  # König: a cover is never smaller than a matching


@st.composite
def _diagonal_circuits(draw):
    """Small circuits of cz/cp/cx and breaking h gates."""
    n = draw(st.integers(3, 5))
    qc = QuantumCircuit(n)
    for _ in range(draw(st.integers(1, 9))):
        kind = draw(st.sampled_from(["cz", "cp", "cx", "h"]))
        if kind == "h":
            qc.h(draw(st.integers(0, n - 1)))
            continue
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        if kind == "cp":
            qc.cp(0.7, a, b)
        else:
            getattr(qc, kind)(a, b)
    return qc


@settings(max_examples=examples(60))
@given(_diagonal_circuits(), st.data())
def test_chosen_copies_are_a_minimum_set_that_serves_every_gate(circuit, data):
    """Against brute force: no smaller set of copies serves every nonlocal gate."""
    parts = data.draw(st.lists(st.integers(0, 1), min_size=circuit.num_qubits, max_size=circuit.num_qubits))
    model = build_model(circuit_to_dag(circuit))
    copies = choose_copies(model, parts)
    nonlocal_gates = [g for g in model.gates if parts[g.qubits[0]] != parts[g.qubits[1]]]
    assert sorted(n for nodes in copies.values() for n in nodes) == sorted(g.node for g in nonlocal_gates)
    options = {
        g.node: {(side, parts[g.qubits[1 - i]]) for i, side in enumerate(g.sides) if side is not None}
        for g in nonlocal_gates
    }
    vertices = sorted(set().union(*options.values()), key=repr) if options else []
    smallest = next(
        size for size in range(len(vertices) + 1)
        if any(all(opts & set(chosen) for opts in options.values())
               for chosen in itertools.combinations(vertices, size))
    )
    assert len(copies) == smallest == copy_count(model, parts)


# ---------------------------------------------------------------------- bursts on known circuits
@pytest.mark.parametrize(("name", "k", "published"), [
    ("qft_noswap_8", 2, 4), ("qft_noswap_10", 2, 5), ("qft_noswap_8", 3, 7), ("qft_noswap_10", 3, 8),
])
def test_qft_reaches_the_published_numbers(name, k, published):
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    result = compile(circuit, qpus=k, seed=1)
    assert result.report["cost"]["ebits"] <= published
    assert result.report["cost"]["ebits"] < compile(circuit, qpus=k, seed=1, optimization_level=0).report["cost"]["ebits"]
    assert verify(circuit, result.circuit, seed=1).equivalent


def test_qft_on_contiguous_halves_costs_one_copy_per_qubit_of_a_half():
    """n/2 for contiguous halves is the operator-Schmidt-rank lower bound: the cross block is a
    2^(n/2) x 2^(n/2) Vandermonde matrix with distinct nodes, so fewer ebits cannot be exact."""
    from qiskit.synthesis import synth_qft_full

    for n in (8, 16, 32):
        result = compile(synth_qft_full(n, do_swaps=False), qpus=2, partitioner="contiguous")
        assert result.report["cost"]["ebits"] == n // 2


@pytest.mark.parametrize("name", ["ghz_8", "ghz_16", "bv_6", "bv_10"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_connected_chains_cost_qpus_used_minus_one(name, k):
    """k - 1 is the lower bound for a connected interaction graph over k QPUs; count only the QPUs
    holding qubits that interact (Bernstein-Vazirani leaves the qubits of 0 bits alone)."""
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    result = compile(circuit, qpus=k, seed=1)
    graph = result.property_set["dqc_interaction_graph"]
    parts = result.property_set["dqc_partition"]
    used = len({parts[q] for q in graph.nodes if graph.degree(q) > 0})
    assert result.report["cost"]["ebits"] == used - 1


def test_x_basis_copy_serves_a_target_shared_by_two_controls():
    qc = QuantumCircuit(4)
    qc.h([0, 1])
    qc.cx(0, 2)
    qc.rx(0.4, 2)  # diagonal in the X basis: the copy survives it
    qc.cx(1, 2)
    qc.h(2)
    result = compile(qc, qpus=2, partitioner="contiguous")
    assert result.report["cost"]["ebits"] == 1
    assert [b.basis for b in result.property_set["dqc_bursts"]] == ["X"]
    assert compile(qc, qpus=2, partitioner="contiguous", optimization_level=1).report["cost"]["ebits"] == 2
    assert verify(qc, result.circuit, method="exact").equivalent
    # negative control: drop the X-basis disentangler's correction (an `if` applying x to a data qubit)
    comm = _comm_qubits(result)
    data = list(result.circuit.data)
    position = next(i for i, inst in enumerate(data) if isinstance(inst.operation, IfElseOp)
                    and inst.qubits[0] not in comm)
    del data[position]
    _assert_caught(qc, _rebuild(result.circuit, data))


def test_embedding_keeps_a_copy_across_an_x_gate():
    qc = QuantumCircuit(4)
    qc.h([0, 2, 3])
    qc.cp(0.3, 0, 2)
    qc.x(0)  # anti-diagonal: the copy on the other QPU takes an x too
    qc.cp(0.5, 0, 3)
    qc.cp(0.9, 1, 0)
    result = compile(qc, qpus=2, partitioner="contiguous")
    assert result.report["cost"]["ebits"] == 1
    assert compile(qc, qpus=2, partitioner="contiguous", optimization_level=1).report["cost"]["ebits"] == 2
    assert verify(qc, result.circuit, method="exact").equivalent
    # negative control: drop the x mirrored on the copy
    comm = _comm_qubits(result)
    data = list(result.circuit.data)
    position = next(i for i, inst in enumerate(data) if inst.operation.name == "x" and inst.qubits[0] in comm)
    del data[position]
    _assert_caught(qc, _rebuild(result.circuit, data))


def test_final_swaps_are_absorbed_into_the_final_layout():
    circuit = load_circuit(CIRCUITS / "qft_8.qasm")
    noswap = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    result = compile(circuit, qpus=2, seed=1)
    assert result.report["cost"]["ebits"] == compile(noswap, qpus=2, seed=1).report["cost"]["ebits"] == 4
    assert result.report["optimization"]["absorbed_final_swaps"] == 4
    assert result.report["layout"]["final"] != result.report["layout"]["initial"]
    assert "swap" not in result.circuit.count_ops()
    assert verify(circuit, result.circuit, method="exact").equivalent
    # at level 0 nothing is absorbed and the layout stays put
    plain = compile(circuit, qpus=2, seed=1, optimization_level=0)
    assert plain.report["layout"]["final"] == plain.report["layout"]["initial"]
    assert plain.report["optimization"]["absorbed_final_swaps"] == 0


def test_absorbed_swaps_keep_measurements_in_their_bits():
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.h(1)
    qc.cx(1, 2)
    qc.swap(0, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    result = compile(qc, qpus=2, seed=0)
    assert result.report["optimization"]["absorbed_final_swaps"] == 1
    independent_contract_check(result.circuit, result.report)
    assert verify(qc, result.circuit, method="exact").equivalent


def test_one_comm_qubit_per_qpu_still_compiles_and_verifies():
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    result = compile(circuit, Network.for_circuit(8, 3, comm_qubits=1), seed=1)
    cost = result.report["cost"]
    assert cost["ebits"] - cost["teledata"] == cost["telegates"] == cost["bursts"] + cost["bursts_split"]
    independent_contract_check(result.circuit, result.report)
    assert verify(circuit, result.circuit, seed=1).equivalent


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_every_level_verifies_on_grover_and_random_circuits(level):
    for name in ("grover_5", "qft_4"):
        circuit = load_circuit(CIRCUITS / f"{name}.qasm")
        result = compile(circuit, qpus=3, seed=2, optimization_level=level)
        assert result.report["optimization"]["level"] == level
        independent_contract_check(result.circuit, result.report)
        assert verify(circuit, result.circuit, seed=2).equivalent


def test_level_must_be_0_to_3():
    with pytest.raises(DQCError, match="optimization level"):
        compile(QuantumCircuit(2), qpus=2, optimization_level=4)


def test_partition_refinement_never_makes_things_worse():
    circuit = load_circuit(CIRCUITS / "random_cz_32.qasm")
    refined = compile(circuit, qpus=2, seed=1).report["cost"]["ebits"]
    start_only = compile(circuit, qpus=2, seed=1, refine=False).report["cost"]["ebits"]
    baseline = compile(circuit, qpus=2, seed=1, optimization_level=0).report["cost"]["ebits"]
    assert refined <= start_only
    assert refined <= 0.85 * baseline  # the target: at least 15% fewer than level 0


def test_cli_optimization_level(tmp_path, capsys):
    path = str(CIRCUITS / "qft_noswap_8.qasm")
    report = tmp_path / "r.json"
    assert main(["compile", path, "--qpus", "2", "-O", "0", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["cost"]["ebits"] == 16
    assert main(["compile", path, "--qpus", "2", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["cost"]["ebits"] == 4 and data["optimization"]["level"] == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["compile", path, "--qpus", "2", "-O", "5"])
    assert exc.value.code == 2
    assert "optimization-level" in capsys.readouterr().err
    assert not math.isnan(data["timing"]["compile_seconds"])


def test_toffoli_with_both_controls_together_costs_one_ebit():
    qc = QuantumCircuit(3)
    qc.h([0, 1, 2])
    qc.t(0)
    qc.ccx(0, 1, 2)
    qc.rx(0.3, 2)
    qc.ccz(0, 1, 2)
    network = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 2}, {"name": "b", "data_qubits": 1}]})
    result = compile(qc, network, partitioner="contiguous")
    assert result.report["cost"]["ebits"] == 2  # one X copy of the target for ccx, one Z copy for ccz
    assert "ccx" in result.circuit.count_ops()
    assert compile(qc, network, partitioner="contiguous", optimization_level=0).report["cost"]["ebits"] > 4
    independent_contract_check(result.circuit, result.report)
    for method in ("exact", "random", "stabilizer"):
        assert verify(qc, result.circuit, method=method, seed=1).equivalent, method
    # negative control: drop the first correction on a data qubit
    comm = _comm_qubits(result)
    data = list(result.circuit.data)
    position = next(i for i, inst in enumerate(data) if isinstance(inst.operation, IfElseOp)
                    and inst.qubits[0] not in comm)
    del data[position]
    broken = _rebuild(result.circuit, data)
    for method in ("exact", "random", "stabilizer"):
        assert not verify(qc, broken, method=method, seed=1).equivalent, method


# ---------------------------------------------------------------------- where gates on three qubits run
def test_toffolis_run_where_they_need_fewest_copies():
    """With q0, q1 on QPU 0 and q2 on QPU 1, running the ccx and ccz on QPU 1 (copies of q0, q1 that
    later gates share) beats the default majority QPU (copies of q2 in X, then Z): 2 ebits, not 4."""
    qc = QuantumCircuit(4)
    qc.cx(0, 1)
    qc.ccx(0, 1, 2)
    qc.t(0)
    qc.cz(0, 1)
    qc.ccz(0, 1, 2)
    qc.cx(0, 2)
    qc.cx(1, 3)
    qc.h(0)
    qc.cx(1, 0)
    parts = [0, 0, 1, 1]
    model = build_model(prepare(qc))
    runs, exact = best_runs(model, parts)
    assert exact and set(runs.values()) == {1}
    assert copy_count(model, parts) == 4 and min_copy_count(model, parts) == (2, True)
    result = compile(qc, Network.all_to_all(2, 2, comm_qubits=4), partition=parts)
    assert result.report["cost"]["ebits"] == 2
    independent_contract_check(result.circuit, result.report)
    assert verify(qc, result.circuit, seed=1).equivalent
    broken = _rebuild(result.circuit, [i for i in result.circuit.data if i.operation.name != "ccx"])
    _assert_caught(qc, broken)
