"""A route for every circuit that fits: swap qubits between linked QPUs until every gate joins neighbours.

When two QPUs must share an ebit but no route joins them (a QPU with one comm qubit cannot relay),
the circuit is first routed at the level of QPUs: qiskit's :class:`~qiskit.transpiler.passes.SabreSwap`
on a coupling map whose qubits are the network's data qubits, every two of one QPU or of two
linked QPUs coupled. The routed circuit only has gates inside a QPU or between neighbours (its
``swap`` gates, when they cross a link, cost telegates like any other gate), and is compiled with
that placement fixed; the layout is then stated in terms of the input's qubits.
"""

from __future__ import annotations

from collections import deque

from qiskit import QuantumCircuit
from qiskit.transpiler import CouplingMap, Layout, PassManager
from qiskit.transpiler.passes import ApplyLayout, EnlargeWithAncilla, FullAncillaAllocation, SabreSwap, SetLayout

from .network import Network


def needs_neighbour_routing(network: Network) -> bool:
    """True when the links join every QPU but some two QPUs have no route (relays lack comm qubits)."""
    import networkx as nx  # noqa: PLC0415

    k = network.num_qpus
    if k < 3 or not nx.is_connected(network.graph()):
        return False
    return any(network.route(a, b) is None for a in range(k) for b in range(a + 1, k))


def _flatten(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with every gate on three or more qubits decomposed (routing takes two at most)."""
    for _ in range(8):
        if not any(len(i.qubits) > 2 and i.operation.name != "barrier" for i in circuit.data):
            return circuit
        circuit = circuit.decompose(gates_to_decompose=[i.operation.name for i in circuit.data
                                                        if len(i.qubits) > 2 and i.operation.name != "barrier"])
    return circuit


def _order(network: Network) -> list[int]:
    """QPUs in breadth-first order from an end of the network (a QPU of fewest links), so that
    consecutive blocks of qubits sit on neighbours."""
    graph = network.graph()
    first = min(range(network.num_qpus), key=lambda j: (graph.degree(j), j))
    seen, queue = [first], deque([first])
    while queue:
        j = queue.popleft()
        for other in sorted(graph.neighbors(j)):
            if other not in seen:
                seen.append(other)
                queue.append(other)
    return seen


def route_to_neighbours(circuit: QuantumCircuit, network: Network, seed: int | None = None):
    """``(routed circuit over the network's data qubits, QPU of each of them, physical qubit of
    each input qubit at the start, physical qubit each input qubit ends on)``."""
    caps = [q.data_qubits for q in network.qpus]
    qpu_of = [j for j, cap in enumerate(caps) for _ in range(cap)]
    first_slot = [sum(caps[:j]) for j in range(len(caps))]
    linked = {(a, b) for a in range(len(caps)) for b in range(len(caps)) if a == b or network.link(a, b) is not None}
    size = len(qpu_of)
    edges = [(p, r) for p in range(size) for r in range(size) if p != r and (qpu_of[p], qpu_of[r]) in linked]
    coupling = CouplingMap(edges)
    n = circuit.num_qubits
    # the input's qubits in order, spread over the QPUs in breadth-first order, in proportion to capacity
    order = _order(network)
    total = sum(caps)
    share = {j: caps[j] * n // total for j in order}
    for j in order:
        if sum(share.values()) < n and share[j] < caps[j]:
            share[j] += 1
    start = []
    for j in order:
        start += [first_slot[j] + s for s in range(share[j])]
    flat = _flatten(circuit)
    layout = Layout({flat.qubits[i]: start[i] for i in range(n)})
    manager = PassManager([
        SetLayout(layout), FullAncillaAllocation(coupling), EnlargeWithAncilla(), ApplyLayout(),
        SabreSwap(coupling, heuristic="decay", seed=0 if seed is None else seed),
    ])
    routed = manager.run(flat)
    final_layout = manager.property_set["final_layout"]
    ends = list(start)
    if final_layout is not None:
        ends = [final_layout[routed.qubits[p]] for p in start]
    routed.name = circuit.name
    return routed, qpu_of, start, ends
