"""Certified optimum (MaxSAT over placements and copies): known answers, brute force, heuristic, CLI, output."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit, qasm2
from qiskit.synthesis import synth_qft_full

from dqc_compiler import DQCError, Network, compile
from dqc_compiler.cli import main
from dqc_compiler.io import load_circuit
from dqc_compiler.network import QPU, Link
from dqc_compiler.optimal import component_bound, cost_table, optimum, prepare, weights
from dqc_compiler.segments import build_model, min_copy_count
from dqc_compiler.testing import assert_equivalent
from dqc_compiler.verify import verify

from .conftest import CIRCUITS, benchmark_files, examples, independent_contract_check

SAT_METHODS = ("descend", "rc2")


def hop_costs(network: Network) -> dict[tuple[int, int], int]:
    """The oracle's own price of a copy between two QPUs, from the rule written out again rather
    than from ``Network.copy_cost``: both ends need a comm qubit, a relay needs two, and a copy
    costs one link-level ebit per hop of the shortest such path (noiseless links)."""
    graph = network.graph()
    relays = {j for j, q in enumerate(network.qpus) if q.comm_qubits >= 2}
    costs = {}
    for a, b in itertools.permutations(range(network.num_qpus), 2):
        if network.qpus[a].comm_qubits and network.qpus[b].comm_qubits:
            try:
                costs[(a, b)] = nx.shortest_path_length(graph.subgraph(relays | {a, b}), a, b)
            except nx.NetworkXNoPath:
                pass
    return costs


def brute_force(circuit: QuantumCircuit, network: Network) -> int | None:
    """The oracle: the fewest link-level ebits over every placement (no symmetry breaking, no
    encoding), every place each gate on three qubits can run, and a minimum vertex cover by
    networkx (König) in each component of the copies' conflict graph, weighed by its hops."""
    model = build_model(prepare(circuit, network))
    n, k = circuit.num_qubits, network.num_qpus
    cost = hop_costs(network)
    best = None
    for parts in itertools.product(range(k), repeat=n):
        if any(parts.count(p) > q.data_qubits for p, q in enumerate(network.qpus)):
            continue
        forced, edges = set(), []
        for _, a, b, sa, sb in model.compact:
            pa, pb = parts[a], parts[b]
            if pa == pb:
                continue
            if (pa, pb) not in cost:
                break
            options = [(s, r) for s, r in ((sa, pb), (sb, pa)) if s >= 0]
            if len(options) == 1:
                forced.add(options[0])
            else:
                edges.append(tuple(options))
        else:
            choices = []
            for _, qubits, sides in model.compact_multi:
                where = {parts[q] for q in qubits}
                places = []
                for r in sorted(where) if len(where) > 1 else []:
                    needed = [(s, r) for q, s in zip(qubits, sides) if parts[q] != r]
                    if all(s >= 0 for s, _ in needed) and all((parts[q], r) in cost for q in qubits if parts[q] != r):
                        places.append(needed)
                if len(where) > 1:
                    choices.append(places)

            def price(copy: tuple[int, int]) -> int:
                return cost[(parts[model.sides[copy[0]].qubit], copy[1])]

            for pick in itertools.product(*choices):
                chosen = forced.union(*map(set, pick))
                rest = [(u, v) for u, v in edges if u not in chosen and v not in chosen]
                graph = nx.Graph()
                graph.add_edges_from(rest)
                value = sum(price(c) for c in chosen)
                for component in nx.connected_components(graph):
                    prices = {price(c) for c in component}
                    assert len(prices) == 1  # both copies that can serve a gate cross the same route
                    sub = graph.subgraph(component)
                    top = {c for c in component if parts[model.sides[c[0]].qubit] < c[1]}
                    matching = nx.bipartite.maximum_matching(sub, top_nodes=top)
                    value += prices.pop() * len(matching) // 2
                best = value if best is None else min(best, value)
    return best


# ---------------------------------------------------------------------- known answers
def test_single_nonlocal_cnot_costs_one():
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    for method in ("hybrid",) + SAT_METHODS:
        found = optimum(qc, Network.all_to_all(2, 1), method=method)
        assert (found.ebits, found.lower_bound, found.proven) == (1, 1, True), method
        assert found.partition[0] != found.partition[1]


@pytest.mark.parametrize("k, m", [(2, 2), (3, 2), (4, 2), (3, 3), (4, 3)])
def test_ghz_over_k_full_qpus_costs_k_minus_one(k, m):
    n = k * m
    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    found = optimum(qc, Network.all_to_all(k, m), warm_start=[q % k for q in range(n)], method="descend")
    assert found.proven and found.ebits == found.lower_bound == k - 1
    assert found.solver["upper_start"] > k - 1  # the round-robin start was beaten, not just confirmed


@pytest.mark.parametrize("method", ("hybrid",) + SAT_METHODS)
def test_qft8_without_swaps_on_two_qpus_costs_four(method):
    found = optimum(synth_qft_full(8, do_swaps=False), Network.all_to_all(2, 4), method=method)
    assert (found.ebits, found.lower_bound, found.proven) == (4, 4, True)


def test_qft8_with_its_swaps_absorbed_costs_the_same():
    assert optimum(synth_qft_full(8), Network.all_to_all(2, 4)).ebits == 4


def test_toffoli_kept_whole_costs_one_copy():
    qc = QuantumCircuit(3)
    qc.ccx(0, 1, 2)
    qc.h(2)
    qc.cx(2, 0)
    found = optimum(qc, Network.all_to_all(2, 2), method="descend")
    assert found.ebits == 1 and found.proven


# ---------------------------------------------------------------------- against brute force
@st.composite
def small_circuits(draw, max_qubits: int = 6):
    """Up to ``max_qubits`` qubits: diagonal, controlled and breaking gates, and Toffoli/CCZ kept whole."""
    n = draw(st.integers(2, max_qubits))
    qc = QuantumCircuit(n)
    for _ in range(draw(st.integers(1, 16))):
        kind = draw(st.sampled_from(["cx", "cz", "cp", "rzz", "h", "x", "t", "ccx", "ccz", "cx", "cz"]))
        width = {"h": 1, "x": 1, "t": 1, "ccx": 3, "ccz": 3}.get(kind, 2)
        if width > n:
            continue
        qubits = draw(st.lists(st.integers(0, n - 1), min_size=width, max_size=width, unique=True))
        args = [0.4] if kind in ("cp", "rzz") else []
        getattr(qc, kind)(*args, *qubits)
    return qc


SHAPES = ("all_to_all", "line", "ring", "star", "path_with_branch")


@st.composite
def small_networks(draw, n: int):
    """2-4 QPUs of different sizes holding ``n`` qubits, as every shape the optimum must handle:
    all-to-all, line, ring, star and a tree; comm qubits 0-3 per QPU now and then (0: the QPU
    cannot communicate, 1: it cannot relay)."""
    k = draw(st.integers(2, 4 if n <= 5 else 3))
    capacities = [draw(st.integers(1, n)) for _ in range(k)]
    while sum(capacities) < n:
        capacities[draw(st.integers(0, k - 1))] += 1
    if draw(st.booleans()):
        comm = [draw(st.sampled_from((0, 1, 2, 2, 3))) for _ in range(k)]
    else:
        comm = [2] * k
    shape = draw(st.sampled_from(SHAPES))
    graph = {
        "all_to_all": nx.complete_graph(k),
        "line": nx.path_graph(k),
        "ring": nx.cycle_graph(k) if k > 2 else nx.path_graph(k),
        "star": nx.star_graph(k - 1),
        "path_with_branch": nx.path_graph(k) if k < 4 else nx.Graph([(0, 1), (1, 2), (1, 3)]),
    }[shape]
    order = draw(st.permutations(range(k)))  # which QPU (size, comm qubits) sits where in the shape
    qpus = [QPU(f"q{i}", c, m) for i, (c, m) in enumerate(zip(capacities, comm))]
    return Network(qpus, [Link((f"q{order[a]}", f"q{order[b]}")) for a, b in graph.edges])


def line_abc() -> Network:
    """The network of issue 13: a (3 data qubits) - b (2) - c (1), no link a-c."""
    return Network([QPU("a", 3), QPU("b", 2), QPU("c", 1)], [Link(("a", "b")), Link(("b", "c"))])


LINE_CASE = """OPENQASM 2.0;
include "qelib1.inc";
gate ccz a, b, c { h c; ccx a, b, c; h c; }
qreg q[6];
ccz q[1],q[5],q[0];
cz q[1],q[2];
ccz q[2],q[0],q[3];
cz q[0],q[3];
ccx q[4],q[5],q[2];
h q[3];
h q[1];
ccz q[5],q[0],q[3];
cx q[2],q[0];
"""


@pytest.mark.parametrize("method", ("hybrid", "enumerate") + SAT_METHODS)
def test_line_network_optimum_is_what_the_compiler_spends(method):
    """Issue 13: the optimum allowed copies only over direct links and priced every copy at one
    ebit, and certified 3 on this line where the compiler (relaying a-c through b) and brute force
    need 4."""
    circuit = qasm2.loads(LINE_CASE, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    network = line_abc()
    assert brute_force(circuit, network) == 4
    found = optimum(circuit, network, method=method)
    assert (found.ebits, found.lower_bound, found.proven) == (4, 4, True), method
    compiled = compile(circuit, network, partition=found.partition, optimization_level=2)
    assert compiled.property_set["dqc_protocols"]["split"] == 0
    assert compiled.report["cost"]["ebits"] == found.ebits


def test_toffolis_are_decomposed_for_the_optimum_where_the_compiler_decomposes_them():
    """Found by the randomised property run: with one comm qubit on some QPU the compiler
    decomposes ``ccx`` (a whole one may need two copies on one QPU at once), so the optimum must
    count the decomposed circuit; it used to certify the whole Toffoli's 2 ebits here."""
    qc = QuantumCircuit(3)
    qc.ccx(0, 1, 2)
    for comm, ebits in ((1, 3), (2, 2)):
        network = Network([QPU(name, 1, comm) for name in "abc"], [Link(("a", "b")), Link(("b", "c")), Link(("a", "c"))])
        assert brute_force(qc, network) == ebits
        found = optimum(qc, network)
        assert (found.ebits, found.proven) == (ebits, True), comm
        spent = compile(qc, network, partition=found.partition).report["cost"]["ebits"]
        assert spent == ebits if comm == 2 else spent >= ebits  # one comm qubit: copies wait for each other


def test_a_copy_between_the_ends_of_a_line_costs_two_and_needs_a_relay():
    qc = QuantumCircuit(3)
    qc.cx(0, 2)
    qc.cx(0, 1)
    qc.cx(1, 2)
    line = Network([QPU("a", 1), QPU("b", 1), QPU("c", 1)], [Link(("a", "b")), Link(("b", "c"))])
    found = optimum(qc, line)
    assert (found.ebits, found.proven) == (4, True)  # two one-hop copies and one two-hop copy
    assert compile(qc, line, partition=found.partition).report["cost"]["ebits"] == 4
    no_relay = Network([QPU("a", 1), QPU("b", 1, 1), QPU("c", 1)], [Link(("a", "b")), Link(("b", "c"))])
    with pytest.raises(DQCError, match="link"):  # b cannot relay with one comm qubit: a and c never meet
        optimum(qc, no_relay)


@settings(max_examples=examples(60))
@given(small_circuits(), st.data())
def test_maxsat_optimum_equals_brute_force(circuit, data):
    network = data.draw(small_networks(circuit.num_qubits))
    expected = brute_force(circuit, network)
    method = data.draw(st.sampled_from(("hybrid", "enumerate") + SAT_METHODS))
    if expected is None:
        with pytest.raises(DQCError, match="link"):
            optimum(circuit, network, method=method)
        return
    found = optimum(circuit, network, method=method)
    assert found.proven and found.ebits == found.lower_bound == expected, (method, found)
    model = build_model(prepare(circuit, network))
    assert min_copy_count(model, found.partition, weight=weights(cost_table(network))) == (expected, True)
    assert all(found.partition.count(p) <= q.data_qubits for p, q in enumerate(network.qpus))
    # the compiler never spends less on any network, and exactly that on the placement when comm
    # qubits are plentiful (raised only where that changes no route: on QPUs that relay already; a
    # QPU with one comm qubit can neither relay nor hold two copies at once, so it stays a limit)
    roomy = Network([replace(q, comm_qubits=4 * circuit.num_qubits) if q.comm_qubits >= 2 else q
                     for q in network.qpus], list(network.links))
    spent = compile(circuit, roomy, partition=found.partition, optimization_level=2).report["cost"]["ebits"]
    assert spent >= expected
    if all(q.comm_qubits != 1 for q in network.qpus):
        assert spent == expected, (method, found.partition)


@settings(max_examples=examples(40))
@given(small_circuits(max_qubits=8), st.integers(2, 4))
def test_optimum_never_above_the_level3_heuristic(circuit, k):
    network = Network.for_circuit(circuit.num_qubits, k, comm_qubits=circuit.num_qubits)
    heuristic = compile(circuit, network, optimization_level=3)
    found = optimum(circuit, network)
    assert found.proven
    commutation = heuristic.property_set["dqc_commutation"]
    if commutation["copies_after"] == commutation["copies_before"]:  # reordering is outside the model
        assert found.ebits <= heuristic.report["cost"]["ebits"], qasm2.dumps(circuit)
    assert found.ebits <= compile(circuit, network, optimization_level=2).report["cost"]["ebits"]
    assert component_bound(build_model(prepare(circuit, network)), network) <= found.ebits


def _small_benchmarks():
    return [f for f in benchmark_files(10) if f.stem != "grover_7"]


@pytest.mark.parametrize("path", _small_benchmarks(), ids=lambda p: p.stem)
def test_benchmark_optimum_never_above_level3(path):
    circuit = load_circuit(path)
    for k in (2, 3, 4):
        network = Network.for_circuit(circuit.num_qubits, k)
        level3 = compile(circuit, network, optimization_level=3, seed=1).report["cost"]["ebits"]
        found = optimum(circuit, network, time_limit=60)
        assert found.proven, (path.stem, k, found)
        assert found.ebits <= level3


@pytest.mark.slow
def test_grover7_optimum_never_above_level3():
    circuit = load_circuit(CIRCUITS / "grover_7.qasm")
    for k in (2, 3, 4):
        network = Network.for_circuit(circuit.num_qubits, k)
        level3 = compile(circuit, network, optimization_level=3, seed=1).report["cost"]["ebits"]
        found = optimum(circuit, network, time_limit=60)
        assert found.proven and found.ebits <= level3


# ---------------------------------------------------------------------- time limit, bounds
def test_time_limit_gives_a_valid_lower_bound():
    circuit = load_circuit(CIRCUITS / "qft_noswap_12.qasm")
    network = Network.for_circuit(12, 4)
    found = optimum(circuit, network, time_limit=1.0, method="descend")
    assert not found.proven and found.lower_bound < found.ebits
    assert found.seconds < 10
    assert found.lower_bound >= component_bound(build_model(prepare(circuit, network)), network) == 3
    cut_short = optimum(circuit, network, time_limit=1.5)  # hybrid: RC2 raises the bound in the last quarter
    assert cut_short.lower_bound <= 18  # the proven minimum (test below)
    assert cut_short.to_dict()["proven"] == cut_short.proven


@pytest.mark.slow
@pytest.mark.parametrize("method", SAT_METHODS)
def test_qft12_on_four_qpus_is_proven_by_maxsat(method):
    found = optimum(load_circuit(CIRCUITS / "qft_noswap_12.qasm"), Network.for_circuit(12, 4), method=method,
                    time_limit=300)
    assert found.proven and found.ebits == 18


def _random_12_qubits_60_gates(seed: int) -> QuantumCircuit:
    rng = random.Random(seed)
    qc = QuantumCircuit(12)
    for _ in range(60):
        a, b = rng.sample(range(12), 2)
        getattr(qc, rng.choice(["cx", "cz"]))(a, b)
        if rng.random() < 0.5:
            qc.h(rng.randrange(12))
    return qc


def test_random_12_qubits_60_gates_four_qpus_within_a_minute():
    found = optimum(_random_12_qubits_60_gates(2), Network.for_circuit(12, 4), time_limit=60)
    assert found.proven and found.seconds < 60


@pytest.mark.slow
def test_random_12_qubits_60_gates_by_maxsat_alone():
    network = Network.for_circuit(12, 4)
    circuit = _random_12_qubits_60_gates(2)
    by_sat = optimum(circuit, network, time_limit=300, method="descend")
    assert by_sat.proven
    assert by_sat.ebits == optimum(circuit, network, method="enumerate").ebits


def test_bad_arguments_are_one_line_errors():
    qc = QuantumCircuit(3)
    qc.cx(0, 1)
    with pytest.raises(DQCError, match="holds only"):
        optimum(qc, Network.all_to_all(2, 1))
    with pytest.raises(DQCError, match="warm start"):
        optimum(qc, Network.all_to_all(2, 2), warm_start=[0, 5, 0])
    with pytest.raises(DQCError, match="time limit"):
        optimum(qc, Network.all_to_all(2, 2), time_limit=0)
    with pytest.raises(DQCError, match="method"):
        optimum(qc, Network.all_to_all(2, 2), method="guess")


# ---------------------------------------------------------------------- the compiled output
@pytest.mark.parametrize("name, k", [("qft_noswap_8", 3), ("grover_5", 3), ("bv_10", 4)])
def test_optimal_output_spends_the_optimum_with_enough_comm_qubits(name, k):
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    network = Network.for_circuit(circuit.num_qubits, k, comm_qubits=circuit.num_qubits)
    result = compile(circuit, network, optimal=True, time_limit=60)
    found = result.report["optimum"]
    assert found["proven"]
    assert result.report["cost"]["ebits"] == found["ebits"]  # GroupBursts' exact cover meets the model
    independent_contract_check(result.circuit, result.report)
    assert_equivalent(circuit, result.circuit, layout=result.report["layout"])


def test_optimal_output_verifies_and_a_broken_one_is_caught():
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    result = compile(circuit, qpus=2, optimal=True)
    assert result.report["optimum"]["ebits"] == 4
    assert_equivalent(circuit, result.circuit, layout=result.report["layout"])
    data = list(result.circuit.data)
    position = next(i for i, inst in enumerate(data) if inst.operation.name == "if_else")
    broken = result.circuit.copy_empty_like()
    for inst in data[:position] + data[position + 1:]:
        broken.append(inst)
    assert not verify(circuit, broken, layout=result.report["layout"], seed=3).equivalent
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(circuit, broken, layout=result.report["layout"])


def test_fixed_partition_is_used_and_checked():
    circuit = load_circuit(CIRCUITS / "qft_noswap_4.qasm")
    result = compile(circuit, qpus=2, partition=[0, 1, 0, 1])
    assert result.property_set["dqc_partition"] == [0, 1, 0, 1]
    for bad, match in (([0, 1], "4 qubits"), ([0, 0, 0, 1], "holds 2"), ([0, 1, 2, 1], "does not have")):
        with pytest.raises(DQCError, match=match):
            compile(circuit, qpus=2, partition=bad)
    with pytest.raises(DQCError, match="level 2 or 3"):
        compile(circuit, qpus=2, optimal=True, optimization_level=1)


# ---------------------------------------------------------------------- command line
def _run(capsys, *argv):
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bound_json_parses(capsys):
    code, out, err = _run(capsys, "bound", CIRCUITS / "qft_noswap_8.qasm", "--qpus", 2, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["ebits"], result["lower_bound"], result["proven"]) == (4, 4, True)
    assert sorted(result["partition"]) == ["qpu0"] * 4 + ["qpu1"] * 4


def test_bound_text_says_when_optimality_is_not_proven(capsys):
    code, out, _ = _run(capsys, "bound", CIRCUITS / "qft_noswap_12.qasm", "--qpus", 4, "--time-limit", 0.5)
    assert code == 0
    assert "NOT proven" in out and "between" in out
    code, out, _ = _run(capsys, "bound", CIRCUITS / "ghz_8.qasm", "--qpus", 4)
    assert code == 0 and "minimum 3 ebits" in out and "proven" in out


@pytest.mark.parametrize("argv, fragment", [
    (["bound", "missing.qasm", "--qpus", "2"], "not found"),
    (["bound", str(CIRCUITS / "ghz_4.qasm"), "--qpus", "0"], "--qpus"),
    (["bound", str(CIRCUITS / "ghz_4.qasm"), "--qpus", "2", "--time-limit", "0"], "--time-limit"),
    (["bound", str(CIRCUITS / "ghz_4.qasm"), "--network", "missing.json"], "not found"),
    (["bound", str(CIRCUITS / "ghz_4.qasm")], "required"),
    (["compile", str(CIRCUITS / "ghz_4.qasm"), "--qpus", "2", "--optimal", "-O", "1"], "level 2 or 3"),
    (["compile", str(CIRCUITS / "ghz_4.qasm"), "--qpus", "2", "--optimal", "--time-limit", "x"], "--time-limit"),
    (["compile", str(CIRCUITS / "ghz_4.qasm"), "--qpus", "2", "--time-limit", "5"], "only with --optimal"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    assert len(err.splitlines()) == 1 and err.startswith("dqc: error: ") and fragment in err, err
    assert "Traceback" not in err


def test_bound_refuses_a_circuit_the_network_cannot_hold(tmp_path, capsys):
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"qpus": [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}]}))
    code, _, err = _run(capsys, "bound", CIRCUITS / "ghz_4.qasm", "--network", net)
    assert code == 2 and "holds only" in err and "ghz_4" in err


def test_compile_optimal_reports_and_verifies(tmp_path, capsys):
    report = tmp_path / "r.json"
    output = tmp_path / "out.qasm"
    code, out, err = _run(capsys, "compile", CIRCUITS / "qft_noswap_8.qasm", "--qpus", 3, "--optimal", "--verify",
                          "--report", report, "-o", output)
    assert code == 0, err
    assert "optimum: 7 ebits, proven minimal" in out and "verification: equivalent" in out
    found = json.loads(report.read_text())["optimum"]
    assert found["ebits"] == found["lower_bound"] == 7 and found["proven"] is True
    assert set(found) >= {"ebits", "lower_bound", "proven", "seconds"}
    code, out, err = _run(capsys, "verify", CIRCUITS / "qft_noswap_8.qasm", output)
    assert code == 0, err
