"""Qiskit transpiler stage plugins ``dqc``: distribute a circuit with ``transpile(..., layout_method="dqc", routing_method="dqc")``.

Usage, once the package is installed (the entry points are in ``pyproject.toml``)::

    from qiskit import transpile
    import dqc_compiler
    from dqc_compiler.testing import assert_equivalent

    network = dqc_compiler.Network.all_to_all(2, data_qubits=3)
    target = network.to_target()
    out = transpile(circuit, target=target, layout_method="dqc", routing_method="dqc", seed_transpiler=1)
    assert_equivalent(circuit, out)          # reads out.layout and out.metadata["dqc_network"]
    out.metadata["dqc_cost"]["ebits"]        # == out.count_ops()["epr"]

The **layout** stage (:class:`DQCLayoutPlugin`) runs the compiler's pipeline to choose the
partition and places each input qubit on a data qubit of its QPU (QPU by QPU, in input order),
then embeds the circuit in the target's physical qubits as qiskit's own layout stages do. The
**routing** stage (:class:`DQCRoutingPlugin`) reads the QPU of every input qubit off that layout
(any layout that puts input qubits on data qubits will do, ``initial_layout`` included) and runs
the pipeline with that partition: bursts, telegates, final measurements. It emits the distributed
circuit over the target's physical qubits — ``epr`` only between comm qubits of linked QPUs,
everything else inside one QPU — and sets ``final_layout`` for the final swaps it absorbed.
The output's ``metadata`` carries ``dqc_network`` (the network, :meth:`Network.to_dict`) and
``dqc_cost`` (the report's ``cost``; ``ebits`` is the number of ``epr`` gates).

qiskit's later stages keep the distribution: the routed circuit is already in the target's
instruction set, and every gate the target offers acts inside one QPU except ``epr``, so
translation has nothing to do and the optimisation passes, which only use target instructions on
the qubits a block already touches, can neither merge gates across QPUs nor re-synthesise an
``epr`` away (it is entangling, so any equivalent block needs one). The plugins use qiskit's
``optimization_level`` as the compiler's (0-3), and ``seed_transpiler`` as its seed.
The target must come from :meth:`Network.to_target` (a :class:`~dqc_compiler.network.DQCTarget`,
which keeps the network and pickles it, so ``num_processes=2`` works).
"""

from __future__ import annotations

import logging

from qiskit import QuantumCircuit
from qiskit.circuit import QuantumRegister, Qubit
from qiskit.converters import dag_to_circuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.passmanager.flow_controllers import ConditionalController
from qiskit.transpiler import Layout, PassManager, PassManagerConfig, Target
from qiskit.transpiler.basepasses import AnalysisPass, TransformationPass
from qiskit.transpiler.exceptions import TranspilerError
from qiskit.transpiler.passes import SetLayout
from qiskit.transpiler.preset_passmanagers import common
from qiskit.transpiler.preset_passmanagers.plugin import PassManagerStagePlugin

from .network import Network
from .pipeline import DEFAULT_LEVEL, generate_dqc_pass_manager

logger = logging.getLogger(__name__)

__all__ = [
    "DQCLayoutPlugin",
    "DQCRoutingPlugin",
    "DQCLayout",
    "DQCRouting",
    "network_of",
    "physical_blocks",
    "to_qpu_registers",
]


def network_of(target: Target | None) -> Network:
    """The :class:`Network` that ``target`` was built from (by :meth:`Network.to_target`)."""
    network = getattr(target, "network", None)
    if not isinstance(network, Network):
        raise TranspilerError(
            "the dqc layout and routing methods need the target of a dqc network: "
            "transpile(circuit, target=network.to_target(), layout_method='dqc', routing_method='dqc')"
        )
    if network.has_devices:
        raise TranspilerError(
            "the dqc transpiler plugins treat every QPU as all-to-all; this network has QPUs with coupling maps "
            "and native gates: use dqc_compiler.compile(circuit, network) (or dqc compile --network)"
        )
    return network


def physical_blocks(network: Network) -> list[tuple[int, int, int]]:
    """Per QPU, ``(first data qubit, first comm qubit, end)`` among the physical qubits of
    :meth:`Network.to_target` (numbered QPU by QPU: data qubits, then comm qubits)."""
    blocks, start = [], 0
    for qpu in network.qpus:
        blocks.append((start, start + qpu.data_qubits, start + qpu.data_qubits + qpu.comm_qubits))
        start += qpu.data_qubits + qpu.comm_qubits
    return blocks


def _level(optimization_level: int | None) -> int:
    return DEFAULT_LEVEL if optimization_level is None else int(optimization_level)


class DQCLayout(AnalysisPass):
    """Set ``property_set["layout"]``: each input qubit on a data qubit of the QPU the compiler chose.

    Runs :func:`~dqc_compiler.generate_dqc_pass_manager` on the circuit and reads its partition
    (``dqc_partition``, also stored in this property set). Input qubits go onto their QPU's data
    qubits in input order: the physical qubits of the compiler's output registers.
    """

    def __init__(self, network: Network, seed: int | None = None, optimization_level: int = DEFAULT_LEVEL):
        super().__init__()
        self.network = network
        self.seed = seed
        self.optimization_level = optimization_level

    def run(self, dag: DAGCircuit) -> None:
        manager = generate_dqc_pass_manager(self.network, seed=self.seed, optimization_level=self.optimization_level)
        manager.run(dag_to_circuit(dag, copy_operations=False))
        parts = manager.property_set["dqc_partition"]
        blocks = physical_blocks(self.network)
        used = [0] * self.network.num_qpus
        layout = Layout()
        for qubit, part in zip(dag.qubits, parts):
            layout[qubit] = blocks[part][0] + used[part]
            used[part] += 1
        self.property_set["layout"] = layout
        self.property_set["dqc_partition"] = list(parts)
        logger.info("dqc layout: partition %s", parts)


class DQCRouting(TransformationPass):
    """Emit the distributed circuit over the target's physical qubits.

    Reads the QPU of each input qubit from ``property_set["layout"]`` (it must sit on a data
    qubit), rebuilds the logical circuit, runs :func:`~dqc_compiler.generate_dqc_pass_manager`
    with that partition, and maps the output registers back onto the physical qubits: each input
    qubit stays where the layout put it, and the QPU's comm qubits follow its data qubits. Sets
    ``final_layout`` (final swaps absorbed by the compiler are a relabelling) and the ``dqc_*``
    keys of the pipeline, and writes ``dqc_network`` and ``dqc_cost`` into the output's metadata.
    """

    def __init__(self, network: Network, seed: int | None = None, optimization_level: int = DEFAULT_LEVEL):
        super().__init__()
        self.network = network
        self.seed = seed
        self.optimization_level = optimization_level

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        blocks = physical_blocks(self.network)
        width = blocks[-1][2] if blocks else 0
        layout = self.property_set["layout"]
        if layout is None or dag.num_qubits() != width:
            raise TranspilerError(
                f"routing_method='dqc' needs a circuit laid out on the {width} physical qubits of the dqc "
                "target: run a layout stage first (layout_method='dqc')"
            )
        physical = self._input_positions(layout)
        owner = {}
        for j, (first, comm, _) in enumerate(blocks):
            for p in range(first, comm):
                owner[p] = j
        for i, p in enumerate(physical):
            if p not in owner:
                raise TranspilerError(
                    f"input qubit {i} is laid out on physical qubit {p}, which is not a data qubit of any QPU; "
                    "use layout_method='dqc' or an initial_layout on data qubits"
                )
        parts = [owner[p] for p in physical]

        logical = self._logical_circuit(dag, physical)
        manager = generate_dqc_pass_manager(
            self.network, seed=self.seed, optimization_level=self.optimization_level, partition=parts
        )
        distributed = manager.run(logical)
        properties = manager.property_set

        slots = properties["dqc_layout"]["initial"]
        final_slots = properties["dqc_layout"]["final"]
        at_slot = {tuple(slot): i for i, slot in enumerate(slots)}
        where: dict[Qubit, int] = {}
        for register in distributed.qregs:
            qpu = self.network.index(register.name)
            placed = sum(1 for part, _ in slots if part == qpu)
            for k, qubit in enumerate(register):
                where[qubit] = physical[at_slot[(qpu, k)]] if k < placed else blocks[qpu][1] + k - placed

        out = dag.copy_empty_like()
        out.global_phase = distributed.global_phase
        for creg in distributed.cregs:
            if creg.name not in out.cregs:
                out.add_creg(creg)
        for instruction in distributed.data:
            out.apply_operation_back(
                instruction.operation,
                tuple(dag.qubits[where[q]] for q in instruction.qubits),
                instruction.clbits,
                check=False,
            )
        out.metadata = {
            **(dag.metadata or {}),
            "dqc_network": self.network.to_dict(),
            "dqc_cost": dict(properties["dqc_cost"]),
        }

        moved = {dag.qubits[physical[i]]: physical[at_slot[tuple(final_slots[i])]] for i in range(len(physical))}
        final = Layout({q: moved.get(q, p) for p, q in enumerate(dag.qubits)})
        previous = self.property_set["final_layout"]
        self.property_set["final_layout"] = final if previous is None else previous.compose(final, dag.qubits)
        for key in ("dqc_partition", "dqc_bursts", "dqc_protocols", "dqc_layout", "dqc_schedule", "dqc_cost"):
            self.property_set[key] = properties[key]
        return out

    def _input_positions(self, layout: Layout) -> list[int]:
        """Physical qubit of each input qubit, in input order."""
        virtual = layout.get_virtual_bits()
        ancillas = {q for r in layout.get_registers() if r.name == "ancilla" for q in r}
        original = self.property_set["original_qubit_indices"]
        if original is None:  # outside a pass manager's run: every virtual bit but the ancillas is an input
            original = {q: i for i, q in enumerate(q for q in virtual if q not in ancillas)}
        count = self.property_set["num_input_qubits"]
        count = sum(1 for q in original if q not in ancillas) if count is None else count
        positions = [0] * count
        for qubit, i in original.items():
            if i < count:  # EnlargeWithAncilla numbers the ancillas after the inputs
                positions[i] = virtual[qubit]
        return positions

    @staticmethod
    def _logical_circuit(dag: DAGCircuit, physical: list[int]) -> QuantumCircuit:
        """The laid-out circuit back on its input qubits (physical qubit ``physical[i]`` -> qubit ``i``)."""
        index = {dag.qubits[p]: i for i, p in enumerate(physical)}
        logical = QuantumCircuit(QuantumRegister(len(physical), "q"), *dag.cregs.values(), name=dag.name)
        loose = [c for c in dag.clbits if not dag.find_bit(c).registers]
        if loose:
            logical.add_bits(loose)
        logical.global_phase = dag.global_phase
        logical.metadata = {}
        qubits = logical.qubits
        for node in dag.topological_op_nodes():
            try:
                qargs = [qubits[index[q]] for q in node.qargs]
            except KeyError:
                raise TranspilerError(
                    f"'{node.name}' acts on a physical qubit that holds no input qubit; "
                    "routing_method='dqc' expects the laid-out input circuit"
                ) from None
            logical.append(node.op, qargs, node.cargs, copy=False)
        return logical


class DQCLayoutPlugin(PassManagerStagePlugin):
    """``layout_method="dqc"``: partition and placement by the compiler, then qiskit's embedding.

    An ``initial_layout`` given to ``transpile`` wins over the compiler's choice, as with qiskit's
    own layout methods.
    """

    def pass_manager(self, pass_manager_config: PassManagerConfig, optimization_level: int | None = None) -> PassManager:
        target = pass_manager_config.target
        network = network_of(target)

        def no_layout(property_set) -> bool:
            return not property_set["layout"]

        layout = PassManager([SetLayout(pass_manager_config.initial_layout)])
        layout.append(
            ConditionalController(
                DQCLayout(network, pass_manager_config.seed_transpiler, _level(optimization_level)), condition=no_layout
            )
        )
        layout += common.generate_embed_passmanager(target)
        return layout


class DQCRoutingPlugin(PassManagerStagePlugin):
    """``routing_method="dqc"``: bursts and telegates over the layout's partition (see the module docstring)."""

    def pass_manager(self, pass_manager_config: PassManagerConfig, optimization_level: int | None = None) -> PassManager:
        network = network_of(pass_manager_config.target)
        return PassManager([DQCRouting(network, pass_manager_config.seed_transpiler, _level(optimization_level))])


def to_qpu_registers(circuit: QuantumCircuit, network: Network | None = None) -> QuantumCircuit:
    """A transpiled circuit regrouped as the compiler writes its output: one register per QPU.

    ``transpile`` returns a circuit over the target's physical qubits (one register) with a
    :class:`~qiskit.transpiler.TranspileLayout`. This gives the same operations on registers named
    after the QPUs (each the QPU's data qubits, then its comm qubits), with
    ``metadata["dqc_layout"]`` — where each input qubit starts and ends — read from
    ``circuit.layout``, so that :func:`dqc_compiler.verify.verify` and
    :func:`dqc_compiler.testing.assert_equivalent` can check it. ``network`` defaults to
    ``circuit.metadata["dqc_network"]``, which the routing plugin writes.
    """
    if network is None:
        data = (circuit.metadata or {}).get("dqc_network")
        if data is None:
            raise TranspilerError("the circuit carries no 'dqc_network' metadata; pass network=")
        network = Network.from_dict(data, source="metadata['dqc_network']")
    blocks = physical_blocks(network)
    width = blocks[-1][2] if blocks else 0
    if circuit.num_qubits != width:
        raise TranspilerError(f"the circuit has {circuit.num_qubits} qubits, the network's target {width}")
    if circuit.layout is None:
        raise TranspilerError("the circuit has no layout: pass the output of transpile() with the dqc plugins")
    registers = [QuantumRegister(end - first, qpu.name) for qpu, (first, _, end) in zip(network.qpus, blocks)]
    flat = [q for register in registers for q in register]
    out = QuantumCircuit(*[r for r in registers if r.size], name=circuit.name, global_phase=circuit.global_phase)
    loose = [c for c in circuit.clbits if not circuit.find_bit(c).registers]
    if loose:
        out.add_bits(loose)
    for creg in circuit.cregs:
        out.add_register(creg)
    position = {q: i for i, q in enumerate(circuit.qubits)}
    for instruction in circuit.data:
        out.append(instruction.operation, [flat[position[q]] for q in instruction.qubits], instruction.clbits, copy=False)

    def named(p: int) -> dict:
        j = next(j for j, (first, _, end) in enumerate(blocks) if first <= p < end)
        return {"qpu": network.qpus[j].name, "index": p - blocks[j][0]}

    out.metadata = {
        **(circuit.metadata or {}),
        "dqc_layout": {
            "initial": [named(p) for p in circuit.layout.initial_index_layout(filter_ancillas=True)],
            "final": [named(p) for p in circuit.layout.final_index_layout(filter_ancillas=True)],
        },
    }
    return out
