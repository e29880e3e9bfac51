"""The pipeline, top to bottom: one pass manager that the CLI, the plugin and the tests all use."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from qiskit import QuantumCircuit
from qiskit.transpiler import PassManager

from .errors import DQCError
from .network import Network
from .passes import (
    BuildInteractionGraph,
    CheckSupportedInput,
    CountCost,
    GroupBursts,
    InsertTelegates,
    Normalise,
    PartitionQubits,
    ScheduleCommunication,
    SplitFinalMeasurements,
)
from .report import build_report


def generate_dqc_pass_manager(network: Network, seed: int | None = None, partitioner: str = "metis") -> PassManager:
    """The distribution pipeline for ``network`` as a qiskit :class:`PassManager`.

    check input -> final measurements aside -> normalise -> interaction graph -> partition
    -> bursts -> telegates -> schedule -> cost. Results beyond the circuit are in the pass
    manager's ``property_set`` (keys ``dqc_*``, see :mod:`dqc_compiler.passes`).
    """
    return PassManager(
        [
            CheckSupportedInput(),
            SplitFinalMeasurements(),
            Normalise(),
            BuildInteractionGraph(),
            PartitionQubits(network, method=partitioner, seed=seed),
            GroupBursts(),
            InsertTelegates(network),
            ScheduleCommunication(network),
            CountCost(),
        ]
    )


@dataclass
class CompileResult:
    """What :func:`compile` returns: the distributed ``circuit`` and its ``report`` (the JSON contract)."""

    circuit: QuantumCircuit
    report: dict
    network: Network
    property_set: dict = field(default_factory=dict, repr=False)


def compile(  # noqa: A001 - the natural name for the package's entry point
    circuit: QuantumCircuit,
    network: Network | None = None,
    *,
    qpus: int | None = None,
    seed: int | None = None,
    partitioner: str = "metis",
) -> CompileResult:
    """Distribute ``circuit`` over ``network`` (or over ``qpus`` equal all-to-all QPUs).

    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(2); _ = qc.h(0); _ = qc.cx(0, 1)
    >>> compile(qc, qpus=2).report["cost"]["ebits"]
    1
    """
    if not isinstance(circuit, QuantumCircuit):
        raise DQCError(f"expected a qiskit QuantumCircuit, got {type(circuit).__name__}")
    if (network is None) == (qpus is None):
        raise DQCError("give exactly one of network= or qpus=")
    if network is None:
        network = Network.for_circuit(circuit.num_qubits, qpus)
    if circuit.num_qubits > network.capacity:
        raise DQCError(
            f"the circuit has {circuit.num_qubits} qubits but the network holds only {network.capacity} data qubits"
        )
    start = time.perf_counter()
    manager = generate_dqc_pass_manager(network, seed=seed, partitioner=partitioner)
    distributed = manager.run(circuit)
    elapsed = time.perf_counter() - start
    properties = dict(manager.property_set)
    report = build_report(circuit, network, properties, distributed, compile_seconds=elapsed)
    return CompileResult(distributed, report, network, properties)
