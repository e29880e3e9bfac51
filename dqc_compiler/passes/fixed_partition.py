"""Take a given qubit-to-QPU assignment instead of searching for one (the transpiler plugins' routing stage)."""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..network import Network


class FixedPartition(AnalysisPass):
    """Set ``property_set["dqc_partition"]`` to ``partition`` after checking that it fits ``network``.

    ``partition[i]`` is the QPU index (position in ``network.qpus``) of input qubit ``i``. Used in
    place of :class:`~dqc_compiler.passes.PartitionQubits` when the placement was decided earlier,
    as by the ``dqc`` layout plugin or a user's ``initial_layout``; later passes cannot tell the
    difference. Raises :class:`DQCError` for a wrong length, an unknown QPU or an over-full QPU.
    """

    def __init__(self, network: Network, partition: Sequence[int]):
        super().__init__()
        self.network = network
        self.partition = [int(p) for p in partition]

    def run(self, dag: DAGCircuit) -> None:
        n, qpus = dag.num_qubits(), self.network.qpus
        if len(self.partition) != n:
            raise DQCError(f"the partition places {len(self.partition)} qubits but the circuit has {n}")
        for i, part in enumerate(self.partition):
            if not 0 <= part < len(qpus):
                raise DQCError(f"the partition puts qubit {i} on QPU {part}, but the network has {len(qpus)} QPUs")
        for j, qpu in enumerate(qpus):
            placed = self.partition.count(j)
            if placed > qpu.data_qubits:
                raise DQCError(f"the partition puts {placed} qubits on QPU '{qpu.name}', which holds {qpu.data_qubits}")
        self.property_set["dqc_partition"] = list(self.partition)
