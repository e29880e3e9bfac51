"""The compiler's qiskit passes, one per file, in pipeline order.

They talk through these ``property_set`` keys (documented in docs/passes.md):

* ``dqc_final_measurements`` – list of ``(input qubit index, Clbit)`` removed from the end of the input;
* ``dqc_output_permutation`` – list: input qubit -> the wire carrying its output once final swaps
  are absorbed (``dqc_absorbed_swaps`` counts them);
* ``dqc_interaction_graph`` – networkx graph over input qubit indices, edge ``weight`` = two-qubit gates;
* ``dqc_partition`` – list: input qubit index -> QPU index (searched, or given to ``FixedPartition``);
* ``dqc_model`` – the :class:`~dqc_compiler.segments.CircuitModel` of the DAG (burst models, walk
  index), built once and shared by the partitioner, ``GroupBursts`` and ``InsertTelegates``;
* ``dqc_commutation`` – copies before and after commutation-aware reordering (level 3);
* ``dqc_bursts`` – list of :class:`~dqc_compiler.passes.bursts.Burst`;
* ``dqc_protocols`` – telegates opened and bursts split for lack of comm qubits;
* ``dqc_layout`` – ``{"initial": [(qpu, slot)], "final": [(qpu, slot)]}`` per input qubit;
* ``dqc_local`` – per device QPU: local SWAPs, two-qubit gates and depth after routing
  (``dqc_comm_positions``: the comm qubits' ``(qpu, register index)``);
* ``dqc_cost`` and ``dqc_schedule`` – the report's ``cost`` and ``schedule`` objects;
* ``dqc_timeline`` – a :class:`~dqc_compiler.passes.schedule.Slot` per output operation, in start order.
"""

from .check_input import CheckSupportedInput
from .lower_control import LowerControlFlow, SplitConditionals
from .final_measurements import SplitFinalMeasurements
from .final_swaps import AbsorbFinalSwaps
from .normalise import Normalise
from .interaction_graph import BuildInteractionGraph
from .partition import PartitionQubits
from .fixed_partition import FixedPartition
from .commute import CommuteForBursts
from .bursts import Burst, GroupBursts
from .insert_telegates import InsertTelegates
from .route_qpus import RouteWithinQPUs
from .schedule import ScheduleCommunication
from .cost import CountCost

__all__ = [
    "CheckSupportedInput",
    "LowerControlFlow",
    "SplitConditionals",
    "SplitFinalMeasurements",
    "AbsorbFinalSwaps",
    "Normalise",
    "BuildInteractionGraph",
    "PartitionQubits",
    "FixedPartition",
    "CommuteForBursts",
    "Burst",
    "GroupBursts",
    "InsertTelegates",
    "RouteWithinQPUs",
    "ScheduleCommunication",
    "CountCost",
]
