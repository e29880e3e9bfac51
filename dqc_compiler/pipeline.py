"""The pipeline, top to bottom: one pass manager that the CLI, the plugin and the tests all use."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from qiskit import QuantumCircuit
from qiskit.transpiler import PassManager

from .errors import DQCError, NoRoute
from .hybrid import history_report, resets_or_measures, try_hybrid
from .neighbours import needs_neighbour_routing, route_to_neighbours
from .network import Network
from .passes import (
    AbsorbFinalSwaps,
    BuildInteractionGraph,
    CommuteForBursts,
    CheckSupportedInput,
    CountCost,
    FixedPartition,
    GroupBursts,
    InsertTelegates,
    LowerControlFlow,
    Normalise,
    PartitionQubits,
    RouteWithinQPUs,
    ScheduleCommunication,
    SplitConditionals,
    SplitFinalMeasurements,
)
from .passes.schedule import in_schedule_order
from .report import build_report, input_summary
from .settings import DEFAULT_LEVEL, LEVEL_SETTINGS, LevelSettings, settings_for


#: What each ``optimization_level`` does, one line each (from :data:`~dqc_compiler.settings.LEVEL_SETTINGS`).
LEVELS = {level: found.summary for level, found in LEVEL_SETTINGS.items()}


def generate_dqc_pass_manager(
    network: Network,
    seed: int | None = None,
    partitioner: str = "metis",
    optimization_level: int = DEFAULT_LEVEL,
    refine: bool = True,
    partition: list[int] | None = None,
) -> PassManager:
    """The distribution pipeline for ``network`` as a qiskit :class:`PassManager`.

    check input -> lower control flow -> final measurements aside -> (final swaps into the layout) -> normalise
    -> interaction graph -> partition -> (commute) -> bursts -> telegates -> schedule -> cost.
    ``optimization_level`` (0-3, see :data:`LEVELS`) picks how hard it works for fewer ebits: its
    :class:`~dqc_compiler.settings.LevelSettings` are built here, once, and handed to the passes.
    ``refine=False`` switches off every local search of the partitioner, for comparisons.
    ``partition`` (input qubit -> QPU index) skips the search and uses that placement, as the
    ``routing_method="dqc"`` transpiler plugin does with the layout it is given.
    Results beyond the circuit are in the pass manager's ``property_set`` (keys ``dqc_*``, see
    :mod:`dqc_compiler.passes`).
    """
    settings = settings_for(optimization_level, refine=refine)
    passes = [CheckSupportedInput(), LowerControlFlow(), SplitFinalMeasurements()]
    if settings.absorb_final_swaps:
        passes.append(AbsorbFinalSwaps())
    passes += [
        Normalise(keep_multi=keeps_multi(settings, network)),
        SplitConditionals(),
        BuildInteractionGraph(),
        PartitionQubits(network, method=partitioner, seed=seed, settings=settings)
        if partition is None
        else FixedPartition(network, partition),
    ]
    if settings.commute:
        passes.append(CommuteForBursts())
    passes += [
        GroupBursts(network=network, settings=settings),
        InsertTelegates(network),
    ]
    if network.has_devices:  # coupling maps and native gates inside QPUs (docs/network.md, "Devices")
        passes.append(RouteWithinQPUs(network, seed=seed))
    passes += [
        ScheduleCommunication(network),
        CountCost(),
    ]
    return PassManager(passes)


def keeps_multi(settings: LevelSettings, network: Network) -> bool:
    """Whether ``ccx``/``ccz`` stay whole: a gate kept whole on three qubits may need two copies
    on one QPU at once, which one comm qubit cannot hold. The certified optimum
    (:func:`dqc_compiler.optimal.prepare`) asks the same question."""
    return settings.keep_multi and all(q.comm_qubits != 1 for q in network.qpus)


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
    optimization_level: int = DEFAULT_LEVEL,
    refine: bool = True,
    partition: list[int] | None = None,
    optimal: bool = False,
    time_limit: float | None = None,
    teledata: bool | None = None,
) -> CompileResult:
    """Distribute ``circuit`` over ``network`` (or over ``qpus`` equal all-to-all QPUs).

    ``partition`` fixes the QPU of every input qubit. ``optimal=True`` takes the partition of
    :func:`dqc_compiler.optimal.optimum` (the fewest ebits any placement needs in the level-2
    burst model, searched for at most ``time_limit`` seconds) and adds its ``optimum`` object to
    the report; it needs ``optimization_level`` 2 or 3.

    ``teledata``: None (the default) also plans a hybrid compilation, where qubits move between
    time windows by teleportation (:mod:`dqc_compiler.hybrid`), and keeps it when it needs fewer
    ebits than the static plan (at levels 1-3; level 0 stays one telegate per nonlocal gate); True keeps any hybrid plan that moves a qubit; False never moves
    qubits. A fixed ``partition`` is then the placement at the start.

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
    found = None
    if optimal:
        if partition is not None:
            raise DQCError("give partition= or optimal=True, not both")
        if optimization_level < 2:
            raise DQCError(f"the certified optimum is for optimization level 2 or 3 (got {optimization_level})")
        from .optimal import optimum  # noqa: PLC0415 - python-sat only when asked for

        found = optimum(circuit, network, time_limit=time_limit, seed=seed)
        partition = found.partition
    manager = generate_dqc_pass_manager(
        network, seed=seed, partitioner=partitioner, optimization_level=optimization_level, refine=refine,
        partition=partition,
    )
    try:
        distributed = manager.run(circuit)
    except NoRoute:
        # (inputs that measure or reset keep the error: their final measurements would not follow the swaps)
        if found is not None or network.has_devices or resets_or_measures(circuit) or not needs_neighbour_routing(network):
            raise
        return _compile_routed(circuit, network, seed, optimization_level, refine, start)
    distributed = in_schedule_order(distributed, manager.property_set["dqc_timeline"])
    elapsed = time.perf_counter() - start
    properties = dict(manager.property_set)
    report = build_report(
        circuit, network, properties, distributed, compile_seconds=elapsed, optimization_level=optimization_level
    )
    if found is not None:
        report["optimum"] = found.to_dict()
    # devices route each QPU's part locally; the hybrid plan's stitched windows do not (yet)
    if found is None and not network.has_devices and (teledata or (teledata is None and optimization_level >= 1)):
        parts = [network.index(entry["qpu"]) for entry in report["layout"]["initial"]]
        stitched = try_hybrid(circuit, network, parts, beat=None if teledata else report["cost"]["ebits"],
                              seed=seed, optimization_level=optimization_level, fixed_start=partition is not None)
        if stitched is not None:
            static_ebits = report["cost"]["ebits"]
            # the input's interaction graph, and the placement at the start as the partition
            properties = {"dqc_interaction_graph": properties.get("dqc_interaction_graph"), **stitched.properties}
            distributed = in_schedule_order(stitched.circuit, properties["dqc_timeline"])
            report = build_report(circuit, network, properties, distributed,
                                  compile_seconds=time.perf_counter() - start, optimization_level=optimization_level)
            properties["dqc_partition"] = [network.index(entry["qpu"]) for entry in report["layout"]["initial"]]
            report["teledata"] = {"windows": stitched.windows, "moves": stitched.teleports,
                                  "static_ebits": static_ebits, "history": history_report(stitched, network)}
    return CompileResult(distributed, report, network, properties)



def _compile_routed(circuit: QuantumCircuit, network: Network, seed, optimization_level: int, refine: bool,
                    start: float) -> CompileResult:
    """:func:`compile` when some two QPUs have no route: swap qubits onto neighbouring QPUs first
    (:mod:`dqc_compiler.neighbours`), then compile with that placement fixed."""
    routed, qpu_of, begin, end = route_to_neighbours(circuit, network, seed)
    inner = compile(routed, network, seed=seed, optimization_level=optimization_level, refine=refine,
                    partition=qpu_of, teledata=False)
    report, distributed = inner.report, inner.circuit
    layout = {"initial": [report["layout"]["initial"][p] for p in begin],
              "final": [report["layout"]["final"][p] for p in end]}
    distributed.metadata = dict(distributed.metadata or {}, dqc_layout=layout)
    report["input"] = input_summary(circuit)
    report["layout"] = {"initial": list(layout["initial"]), "final": list(layout["final"])}
    swaps = sum(1 for i in routed.data if i.operation.name == "swap")
    report["routing"] = {"swaps": swaps, "reason": "some QPUs have no route between them (a QPU relays only "
                         "with at least 2 comm qubits): qubits were swapped onto neighbouring QPUs first"}
    report["timing"]["compile_seconds"] = round(time.perf_counter() - start, 4)
    return CompileResult(distributed, report, network, inner.property_set)
