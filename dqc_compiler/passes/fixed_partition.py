"""Take a given qubit-to-QPU assignment instead of searching for one (the transpiler plugins' routing stage)."""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..network import Network
from .partition import check_partition


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
        self.partition = list(partition)

    def run(self, dag: DAGCircuit) -> None:
        capacities = [q.data_qubits for q in self.network.qpus]
        self.property_set["dqc_partition"] = check_partition(self.partition, dag.num_qubits(), capacities)
