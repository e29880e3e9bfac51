"""Unit tests of the optimisation core's passes, one small circuit each, outside compile()."""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.converters import circuit_to_dag
from qiskit.passmanager import PropertySet

from dqc_compiler import Network
from dqc_compiler import segments
from dqc_compiler.passes import insert_telegates
from dqc_compiler.segments import MODEL_KEY, CircuitModel, build_model
from dqc_compiler.verify import verify

from .conftest import rebuild, run_core_passes


def _fan_out() -> QuantumCircuit:
    """Qubit 0 controls a gate on each of qubits 1 and 2 (on the other QPU): one copy serves both."""
    qc = QuantumCircuit(4)
    qc.h(0)
    qc.cx(0, 1)
    qc.cz(0, 2)
    qc.cx(3, 0)  # local: ends qubit 0's segment in both bases after the two gates
    return qc


def _epr_count(circuit: QuantumCircuit) -> int:
    return sum(1 for i in circuit.data if i.operation.name == "epr")


def test_group_bursts_level_0_is_one_telegate_per_gate_and_level_1_one_copy_per_segment():
    network = Network.all_to_all(2, 2)
    _, level0 = run_core_passes(_fan_out(), network, [0, 1, 1, 0], level=0)
    _, level1 = run_core_passes(_fan_out(), network, [0, 1, 1, 0], level=1)
    assert [(b.qubit, b.remote, len(b.nodes)) for b in level0["dqc_bursts"]] == [(0, 1, 1), (0, 1, 1)]
    assert [(b.qubit, b.remote, len(b.nodes), b.basis) for b in level1["dqc_bursts"]] == [(0, 1, 2, "Z")]


def test_insert_telegates_emits_one_epr_per_burst_and_the_output_is_equivalent():
    circuit = _fan_out()
    out, properties = run_core_passes(circuit, Network.all_to_all(2, 2), [0, 1, 1, 0])
    assert _epr_count(out) == properties["dqc_protocols"]["ebits"] == 1
    assert verify(circuit, out, seed=1).equivalent
    broken = rebuild(out, [i for i in out.data if i.operation.name != "cz"])  # the control: drop a gate
    assert not verify(circuit, broken, seed=1).equivalent


def test_the_circuit_model_is_built_once_per_dag_and_kept_in_the_property_set():
    out, properties = run_core_passes(_fan_out(), Network.all_to_all(2, 2), [0, 1, 1, 0])
    model = properties[MODEL_KEY]
    assert isinstance(model, CircuitModel)
    assert model.bursts() is model.bursts()  # built once
    dag = model.dag
    assert CircuitModel.of(properties, dag) is model
    dag.apply_operation_back(_fan_out().data[0].operation, (dag.qubits[0],))  # the DAG changed: a new model
    assert CircuitModel.of(properties, dag) is not model
    assert CircuitModel.of(PropertySet(), circuit_to_dag(_fan_out())) is not model


def test_no_module_level_cache_keeps_a_dag():
    dag = circuit_to_dag(_fan_out())
    assert build_model(dag) is not build_model(dag)  # plain function, no hidden cache
    assert not hasattr(segments, "_MODELS") and not hasattr(insert_telegates, "_LAST_STRUCTURE")
    assert not hasattr(segments, "_ROLES")  # roles are memoised in CircuitModel.roles
    from dqc_compiler import placement, planner
    from dqc_compiler.passes import bursts, commute, partition, schedule

    for module in (segments, planner, placement, bursts, insert_telegates, partition, commute, schedule):
        containers = [n for n, v in vars(module).items() if isinstance(v, (dict, list, set)) and not n.startswith("__")]
        assert not containers, f"{module.__name__} keeps module-level state: {containers}"


def test_the_minimum_vertex_cover_is_the_one_networkx_finds():
    """The hand-written König cover (kept for speed) against networkx's, on random bipartite graphs."""
    import random

    import networkx as nx
    from networkx.algorithms import bipartite

    from dqc_compiler.segments import min_vertex_cover

    rng = random.Random(12)
    for _ in range(300):
        adjacency = {u: rng.sample(range(100, 130), rng.randint(1, 5)) for u in rng.sample(range(60), rng.randint(1, 10))}
        graph = nx.Graph()
        left = [("L", u) for u in adjacency]
        graph.add_nodes_from(left)
        graph.add_edges_from((("L", u), ("R", v)) for u, vs in adjacency.items() for v in vs)
        matching = bipartite.hopcroft_karp_matching(graph, top_nodes=left)
        expected = {x for _, x in bipartite.to_vertex_cover(graph, matching, top_nodes=left)}
        cover = min_vertex_cover(adjacency)
        assert cover == expected
        assert _covers(cover, adjacency)
    small = {0: [100, 101], 1: [100]}
    cover = min_vertex_cover(small)
    assert len(cover) == 2  # a matching of size 2 (0-101, 1-100): no smaller cover exists
    assert not any(_covers(cover - {x}, small) for x in cover)  # the control: one fewer is no cover


def _covers(cover: set, adjacency: dict) -> bool:
    return all(u in cover or v in cover for u, vs in adjacency.items() for v in vs)


def test_burst_grouping_reaches_the_planner_without_a_lazy_import():
    import inspect

    from dqc_compiler import planner
    from dqc_compiler.passes import bursts

    assert bursts.plan is planner.plan and insert_telegates.plan is planner.plan
    assert "insert_telegates" not in inspect.getsource(bursts)


def test_commute_for_bursts_reorders_keeping_the_unitary_and_never_adds_copies():
    from qiskit.converters import dag_to_circuit
    from qiskit.quantum_info import Operator
    from qiskit.transpiler import PassManager

    from dqc_compiler.io import load_circuit
    from dqc_compiler.passes import CommuteForBursts, FixedPartition
    from dqc_compiler.passes.commute import reorder

    from .conftest import CIRCUITS

    small = QuantumCircuit(3)
    small.cz(0, 1)
    small.h(0)
    small.rx(0.2, 0)
    small.cz(0, 2)
    small.cz(1, 2)  # commutes past cz(0, 2) and keeps qubit 1's Z copy: goes first
    small.cx(1, 0)
    circuit = small
    reordered = dag_to_circuit(reorder(circuit_to_dag(circuit)))
    as_given = dag_to_circuit(circuit_to_dag(circuit))
    assert _ops(reordered) != _ops(as_given)
    assert Operator(reordered).equiv(Operator(circuit))
    data = list(reordered.data)
    first = next(
        i for i in range(len(data) - 1)
        if not Operator(rebuild(reordered, data[i:i + 2])).equiv(Operator(rebuild(reordered, [data[i + 1], data[i]])))
    )
    data[first], data[first + 1] = data[first + 1], data[first]  # the control: two gates that do not commute
    assert not Operator(rebuild(reordered, data)).equiv(Operator(circuit))

    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    as_given = dag_to_circuit(circuit_to_dag(circuit))
    manager = PassManager([FixedPartition(Network.all_to_all(3, 3), [0, 1, 2, 0, 1, 2, 0, 1]), CommuteForBursts()])
    out = manager.run(circuit)
    found = manager.property_set["dqc_commutation"]
    assert found["copies_after"] <= found["copies_before"]
    replaced = _ops(out) != _ops(as_given)
    assert replaced == (found["copies_after"] < found["copies_before"])


def _ops(circuit: QuantumCircuit) -> list[tuple]:
    return [(i.operation.name, tuple(circuit.find_bit(q).index for q in i.qubits)) for i in circuit.data]
