"""Noise: the network's Aer noise model, a noisy copy of the output, a fidelity estimate, noisy simulation."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, Delay, IfElseOp, Instruction, QuantumRegister, Qubit
from qiskit.circuit.library import UnitaryGate
from qiskit.converters import circuit_to_dag
from qiskit.quantum_info import Kraus, Operator, Statevector
from qiskit_aer import AerSimulator
from qiskit_aer.library import SaveProbabilities
from qiskit_aer.noise import NoiseModel, QuantumError, ReadoutError, depolarizing_error, pauli_error
from qiskit_aer.noise import thermal_relaxation_error

from .errors import DQCError
from .network import Link, Network
from .passes.schedule import ScheduleCommunication, Slot
from .verify import _clbit_name, _positions, _prepare_original, _split_final_measurements, canonical_gate

log = logging.getLogger(__name__)

#: What :func:`estimate_fidelity` computes (the report's ``fidelity.model``).
MODEL = (
    "product of per-operation entanglement fidelities along the schedule: a gate on k qubits with "
    "depolarizing probability p gives 1 - p(4^k - 1)/4^k (a classically controlled correction half that "
    "loss, its bit being 1 half the time), an ebit its Werner fidelity F, a measurement 1 - r (readout "
    "error r), each qubit's idle time t while it holds information (1 + e^(-t/T1) + 2 e^(-t/T2))/4, and a "
    "stored half of a pair (1 + e^(-t/T_pair))/2"
)
#: Widest circuit (reference, data, pooled comm and bit qubits) simulated exactly on the density-matrix method.
EXACT_MAX_QUBITS = 11
#: Widest circuit sampled with shots (statevector trajectories).
SHOTS_MAX_QUBITS = 26
DEFAULT_SHOTS = 4000
#: Label of the ``delay`` instructions that carry idle noise: ``dqc_idle/QPU/LINK/DURATION``.
IDLE_LABEL = "dqc_idle"
EPR_LABEL = "epr"

_BELL = QuantumCircuit(2, name="epr")
_BELL.h(0)
_BELL.cx(0, 1)
_BELL_UNITARY = Operator(_BELL).data


# ---------------------------------------------------------------------- per-operation figures
def gate_infidelity(p: float, k: int) -> float:
    """Entanglement infidelity of the k-qubit depolarizing channel ``depolarizing_error(p, k)``.

    Aer's channel is ``rho -> (1 - p) rho + p I / 2^k``; its entanglement (process) fidelity is
    ``1 - p + p / 4^k``, so the infidelity is ``p (4^k - 1) / 4^k``: ``3p/4`` on one qubit,
    ``15p/16`` on two.
    """
    return p * (4**k - 1) / 4**k


def werner_probability(fidelity: float) -> float:
    """The depolarizing probability that turns a perfect Bell pair into a Werner pair of ``fidelity``.

    ``depolarizing_error(p, 2)`` after ``|Phi+>`` gives ``(1 - p) |Phi+><Phi+| + p I/4``, whose
    overlap with ``|Phi+>`` is ``F = 1 - p + p/4 = 1 - 3p/4``; so ``p = 4 (1 - F) / 3``, which is
    ``1 - w`` for the Werner parameter ``w = (4F - 1) / 3``.
    """
    return max(0.0, 4.0 * (1.0 - fidelity) / 3.0)


def idle_fidelity(duration: float, t1: float, t2: float) -> float:
    """Entanglement fidelity of thermal relaxation (T1, T2, ground-state bath) for ``duration``.

    Pauli-twirled, the channel flips X and Y with probability ``(1 - e^(-t/T1))/4`` each and Z with
    ``(1 - e^(-t/T2))/2 - (1 - e^(-t/T1))/4``, so the fidelity is ``(1 + e^(-t/T1) + 2 e^(-t/T2))/4``.
    """
    return (1.0 + math.exp(-duration / t1) + 2.0 * math.exp(-duration / t2)) / 4.0


def dephasing_fidelity(duration: float, coherence_time: float) -> float:
    """Entanglement fidelity of pure dephasing: a Z flip with probability ``(1 - e^(-t/T))/2``."""
    return (1.0 + math.exp(-duration / coherence_time)) / 2.0


# ---------------------------------------------------------------------- schedule and idle gaps
@dataclass(frozen=True)
class Idle:
    """A qubit holding information but not operated on from ``start`` to ``end``.

    ``before`` is the position (in the timeline) of the operation that ends the gap, None when it
    lasts to the end of the program; ``link`` is the link whose pair (or copy) a comm qubit holds.
    """

    qubit: Qubit
    qpu: int
    start: float
    end: float
    before: int | None
    link: Link | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class _Context:
    circuit: QuantumCircuit
    network: Network
    layout: dict
    timeline: list[Slot]
    qpu_of: dict
    data: set


def schedule(circuit: QuantumCircuit, network: Network, layout: dict) -> list[Slot]:
    """The list schedule (:class:`~dqc_compiler.passes.ScheduleCommunication`) of a distributed circuit."""
    _check_registers(circuit, network)
    initial = layout.get("initial") if isinstance(layout, dict) else None
    if not isinstance(initial, list):
        raise DQCError("layout 'initial' must list a position for each input qubit")
    pass_ = ScheduleCommunication(network)
    try:
        pass_.property_set["dqc_layout"] = {"initial": [(network.index(e["qpu"]), e["index"]) for e in initial]}
    except (KeyError, TypeError):
        raise DQCError("layout 'initial' entries must be objects with 'qpu' and 'index'") from None
    if network.has_devices:  # physical registers: the comm qubits are where the devices put them
        from .devices import comm_positions  # noqa: PLC0415

        pass_.property_set["dqc_comm_positions"] = comm_positions(network, pass_.property_set["dqc_layout"]["initial"],
                                                                  {r.name: r.size for r in circuit.qregs})
    pass_.run(circuit_to_dag(circuit))
    return pass_.property_set["dqc_timeline"]


def _check_registers(circuit: QuantumCircuit, network: Network) -> None:
    names = {q.name: q for q in network.qpus}
    for register in circuit.qregs:
        qpu = names.get(register.name)
        if qpu is None:
            raise DQCError(f"register '{register.name}' is not a QPU of the network "
                           f"(QPUs: {', '.join(names)})")
        if register.size > (qpu.device.num_qubits if qpu.device else qpu.data_qubits + qpu.comm_qubits):
            raise DQCError(f"register '{register.name}' has {register.size} qubits but QPU '{qpu.name}' "
                           f"holds {qpu.data_qubits} + {qpu.comm_qubits}")
    for qubit in circuit.qubits:
        if len(circuit.find_bit(qubit).registers) != 1:
            raise DQCError("every qubit of the distributed circuit must belong to exactly one QPU register")


def _context(target, network: Network | None, layout: dict | None, timeline: list[Slot] | None) -> _Context:
    """Circuit, network, layout and schedule of a compile result, or of a circuit with a network."""
    if hasattr(target, "report") and hasattr(target, "circuit"):  # a CompileResult
        circuit = target.circuit
        network = network or target.network
        layout = layout or target.report["layout"]
        if timeline is None:
            timeline = (target.property_set or {}).get("dqc_timeline")
    else:
        circuit = target
    if not isinstance(circuit, QuantumCircuit):
        raise DQCError(f"expected a compile result or a QuantumCircuit, got {type(target).__name__}")
    if network is None:
        raise DQCError("a network is needed to know the noise (pass network=)")
    if layout is None:
        layout = (circuit.metadata or {}).get("dqc_layout")
    if layout is None:
        raise DQCError("the distributed circuit carries no layout; pass the compile report (--report)")
    if timeline is None:
        timeline = schedule(circuit, network, layout)
    else:
        _check_registers(circuit, network)
    n = len(layout.get("initial", []))
    data = set(_positions(circuit, layout, "initial", n)) | set(_positions(circuit, layout, "final", n))
    qpu_of = {q: network.index(circuit.find_bit(q).registers[0][0].name) for q in circuit.qubits}
    return _Context(circuit, network, layout, timeline, qpu_of, data)


def idle_periods(
    target, network: Network | None = None, layout: dict | None = None, timeline: list[Slot] | None = None
) -> list[Idle]:
    """Every gap in which a qubit holds information and waits, from the schedule of ``target`` (a
    compile result, or a distributed circuit with ``network``): data qubits from time 0 until their
    final measurement (or the end of the program), comm qubits from the end of the ``epr`` that
    fills them until they are measured or reset. These are the delays of :func:`noisy_circuit`."""
    return _idle_periods(_context(target, network, layout, timeline))


def _idle_periods(ctx: _Context) -> list[Idle]:
    makespan = max((s.end for s in ctx.timeline), default=0.0)
    free = {q: 0.0 for q in ctx.data}
    held: dict = {}  # comm qubit -> (free since, link of its pair)
    measured = set()
    gaps = []
    for position, slot in enumerate(ctx.timeline):
        if slot.name == "barrier":
            continue
        for q in slot.qargs:
            if q in free and q not in measured and slot.start > free[q] + 1e-12:
                gaps.append(Idle(q, ctx.qpu_of[q], free[q], slot.start, position))
            elif q in held and slot.start > held[q][0] + 1e-12:
                gaps.append(Idle(q, ctx.qpu_of[q], held[q][0], slot.start, position, held[q][1]))
        for q in slot.qargs:
            if q in free:
                free[q] = slot.end
                if slot.name == "measure":
                    measured.add(q)
            elif slot.name == "epr":
                held[q] = (slot.end, ctx.network.link(*slot.qpus))
            elif slot.name in ("reset", "measure"):  # a measured comm qubit holds a classical bit
                held.pop(q, None)
            elif q in held:
                held[q] = (slot.end, held[q][1])
    for q in sorted(free, key=lambda b: ctx.circuit.find_bit(b).index):
        if q not in measured and makespan > free[q] + 1e-12:
            gaps.append(Idle(q, ctx.qpu_of[q], free[q], makespan, None))
    return gaps


# ---------------------------------------------------------------------- analytic estimate
def estimate_fidelity(
    target, network: Network | None = None, layout: dict | None = None, timeline: list[Slot] | None = None
) -> dict:
    """A fast estimate of what the distributed circuit delivers: the report's ``fidelity`` object.

    ``target`` is a :class:`~dqc_compiler.CompileResult` (its network, layout and schedule are
    used) or a distributed circuit with ``network`` (and ``layout`` unless the circuit carries one).
    The estimate is the product of per-operation entanglement fidelities along the schedule (see
    :data:`MODEL` and docs/noise.md): the chance, to first order, that no error happened. It is
    exactly 1.0 on a noiseless network. ``terms`` gives each kind of operation's count and factor.
    """
    ctx = _context(target, network, layout, timeline)
    net = ctx.network
    terms: dict[str, dict] = {}

    def add(term: str, factor: float, amount: float = 1, key: str = "count") -> None:
        entry = terms.setdefault(term, {key: 0, "factor": 1.0})
        entry[key] += amount
        entry["factor"] *= factor

    for slot in ctx.timeline:
        name = slot.name
        if name in ("barrier", "delay", "reset"):
            continue
        qpu = net.qpus[slot.qpus[0]] if slot.qpus else None
        if name == "epr":
            link = net.link(*slot.qpus)
            add("ebits", link.fidelity if link else 1.0)
        elif name == "measure":
            final = slot.qargs[0] in ctx.data
            add("readout_final" if final else "readout_protocol", 1.0 - qpu.readout_error)
        elif isinstance(slot.op, IfElseOp):
            for block in slot.op.blocks[:1]:
                for inner in block.data:
                    k = inner.operation.num_qubits
                    add("corrections", 1.0 - gate_infidelity(_gate_error(qpu, k), k) / 2.0)
        elif qpu is not None:
            k = len(slot.qargs)
            add(f"gates_{k}q" if k <= 2 else "gates_multi", 1.0 - gate_infidelity(_gate_error(qpu, k), k))
    idle_time: dict = {}
    pair_time: dict = {}
    for gap in _idle_periods(ctx):
        idle_time[gap.qubit] = idle_time.get(gap.qubit, 0.0) + gap.duration
        if gap.link is not None:
            pair_time[(gap.qubit, gap.link)] = pair_time.get((gap.qubit, gap.link), 0.0) + gap.duration
    for qubit, duration in idle_time.items():
        qpu = net.qpus[ctx.qpu_of[qubit]]
        add("idle", idle_fidelity(duration, qpu.t1, qpu.t2), duration, key="qubit_time")
    for (_qubit, link), duration in pair_time.items():
        add("pair_storage", dephasing_fidelity(duration, link.pair_dephasing_time), duration, key="qubit_time")
    estimate = math.prod(entry["factor"] for entry in terms.values())
    for entry in terms.values():
        entry["factor"] = _round(entry["factor"])
        if "qubit_time" in entry:
            entry["qubit_time"] = _round(entry["qubit_time"])
    return {"estimate": _round(estimate), "model": MODEL, "noiseless": net.noiseless, "terms": terms}


def _round(value: float) -> float:
    return float(f"{value:.6g}") if value != 1.0 else 1.0


def _gate_error(qpu, k: int) -> float:
    return qpu.gate_error_1q if k == 1 else qpu.gate_error_2q


# ---------------------------------------------------------------------- noisy circuit and noise model
def noisy_circuit(
    target, network: Network | None = None, layout: dict | None = None, timeline: list[Slot] | None = None
) -> tuple[QuantumCircuit, NoiseModel]:
    """A copy of the distributed circuit that Aer can run under the network's noise, and that noise.

    The copy has the same registers and operations in schedule order, plus a ``delay`` wherever the
    schedule leaves a qubit that holds information waiting (see :func:`idle_periods`); a delay with
    idle noise is labelled ``dqc_idle/QPU/LINK/DURATION``. ``epr`` becomes a unitary labelled
    ``epr`` (Aer does not know the gate) and gates read from OpenQASM 3 become qiskit's own. The
    original circuit is left untouched. The :class:`~qiskit_aer.noise.NoiseModel` is
    :func:`noise_model` of the copy.
    """
    ctx = _context(target, network, layout, timeline)
    copy = _build_noisy(ctx)
    return copy, noise_model(ctx.network, copy)


def _build_noisy(ctx: _Context) -> QuantumCircuit:
    copy = ctx.circuit.copy_empty_like()
    copy.metadata = {**(ctx.circuit.metadata or {}), "dqc_layout": ctx.layout}
    waiting: dict = {}
    for gap in _idle_periods(ctx):
        waiting.setdefault(gap.before, []).append(gap)
    for position, slot in enumerate(ctx.timeline):
        for gap in waiting.get(position, []):
            copy.append(_idle_delay(gap, ctx.network), [gap.qubit], copy=False)
        copy.append(_simulable(slot.op, slot.qargs, slot.cargs), slot.qargs, slot.cargs, copy=False)
    for gap in waiting.get(None, []):
        copy.append(_idle_delay(gap, ctx.network), [gap.qubit], copy=False)
    return copy


def _idle_delay(gap: Idle, network: Network) -> Delay:
    delay = Delay(gap.duration, unit="s")  # the duration is in the network's time units; qiskit wants a unit
    qpu = network.qpus[gap.qpu]
    if _idle_error(qpu, gap.link, gap.duration) is not None:
        link = "-" if gap.link is None else "-".join(sorted(gap.link.between))
        delay.label = f"{IDLE_LABEL}/{qpu.name}/{link}/{gap.duration!r}"
    return delay


def _idle_error(qpu, link: Link | None, duration: float) -> QuantumError | None:
    error = None
    if qpu.t1 != math.inf or qpu.t2 != math.inf:
        error = thermal_relaxation_error(qpu.t1, qpu.t2, duration)
    if link is not None and link.pair_dephasing_time != math.inf:
        p = (1.0 - math.exp(-duration / link.pair_dephasing_time)) / 2.0
        flip = pauli_error([("Z", p), ("I", 1.0 - p)])
        error = flip if error is None else error.compose(flip)
    return None if error is None or error.ideal() else error


def _simulable(op: Instruction, qargs, cargs) -> Instruction:
    """``op`` as an instruction Aer runs: ``epr`` as a labelled unitary, imported gates as qiskit's own."""
    if op.name == "epr":
        return UnitaryGate(_BELL_UNITARY, label=EPR_LABEL)
    if isinstance(op, IfElseOp):
        if not isinstance(op.condition, tuple) or not isinstance(op.condition[0], Clbit):
            raise DQCError("only 'if' conditions on a single bit are supported")
        blocks = []
        for block in op.blocks:
            body = QuantumCircuit(list(qargs), list(cargs))
            mapping = dict(zip(block.qubits, qargs))
            for inner in block.data:
                body.append(_simulable(inner.operation, None, None), [mapping[q] for q in inner.qubits])
            blocks.append(body)
        return IfElseOp(op.condition, blocks[0], blocks[1] if len(blocks) > 1 else None)
    if op.name in ("measure", "reset", "barrier", "delay"):
        return op
    standard = canonical_gate(op)
    if standard is not None:
        return standard
    try:
        return UnitaryGate(Operator(op), label=op.name)
    except Exception as exc:  # noqa: BLE001 - qiskit raises several types for gates without a matrix
        raise DQCError(f"gate '{op.name}' has no matrix the simulator can use ({type(exc).__name__})") from None


def operation_error(op: Instruction, qubits, qpu_of: dict, network: Network) -> QuantumError | None:
    """The noise after ``op`` on ``qubits`` (None when ideal): the rule the noise model and the
    exact simulation share. Werner depolarizing after ``epr``, depolarizing after a local gate,
    thermal relaxation (and pair dephasing) on a labelled idle ``delay``; nothing on measure (its
    error is a readout error), reset and barrier."""
    name = op.name
    if name in ("measure", "reset", "barrier"):
        return None
    label = getattr(op, "label", None) or ""
    if name == "delay":
        return _idle_error_from_label(label, network) if label.startswith(IDLE_LABEL + "/") else None
    qpus = sorted({qpu_of[q] for q in qubits})
    if name == "epr" or label == EPR_LABEL:
        if len(qpus) != 2:
            raise DQCError("epr must join comm qubits of two different QPUs")
        link = network.link(*qpus)
        if link is None:
            raise DQCError(f"epr between QPUs '{network.qpus[qpus[0]].name}' and "
                           f"'{network.qpus[qpus[1]].name}', which the network does not link")
        p = werner_probability(link.fidelity)
        return depolarizing_error(p, 2) if p > 0 else None
    if len(qpus) != 1:
        raise DQCError(f"operation '{name}' acts on several QPUs")
    k = len(qubits)
    p = _gate_error(network.qpus[qpus[0]], k)
    return depolarizing_error(p, k) if p > 0 else None


def _idle_error_from_label(label: str, network: Network) -> QuantumError | None:
    try:
        _, qpu_name, link_name, duration = label.split("/")
        qpu = network.qpus[network.index(qpu_name)]
        link = None
        if link_name != "-":
            a, b = link_name.split("-")
            link = network.link(network.index(a), network.index(b))
        return _idle_error(qpu, link, float(duration))
    except (ValueError, DQCError):
        raise DQCError(f"idle delay label '{label}' does not match the network") from None


def noise_model(network: Network, circuit: QuantumCircuit) -> NoiseModel:
    """The :class:`~qiskit_aer.noise.NoiseModel` of ``network`` for the qubits of ``circuit``.

    ``circuit`` has one register per QPU (the compiler's output, or :func:`noisy_circuit`'s copy
    of it). Every operation it contains, ``if`` bodies included, gets the error of
    :func:`operation_error` on its qubits (local errors: each QPU has its own rates), keyed by
    its label when it has one (``epr``, ``dqc_idle/...``) and by its name otherwise; every measured
    qubit gets a symmetric :class:`~qiskit_aer.noise.ReadoutError` with its QPU's ``readout_error``.
    """
    _check_registers(circuit, network)
    qpu_of = {q: network.index(circuit.find_bit(q).registers[0][0].name) for q in circuit.qubits}
    index = {q: i for i, q in enumerate(circuit.qubits)}
    model = NoiseModel()
    seen: set = set()
    for op, qubits in _operations(circuit):
        if op.name == "measure":
            p = network.qpus[qpu_of[qubits[0]]].readout_error
            key = ("measure", index[qubits[0]])
            if p > 0 and key not in seen:
                seen.add(key)
                model.add_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]), [index[qubits[0]]])
            continue
        error = operation_error(op, qubits, qpu_of, network)
        if error is None:
            continue
        name = getattr(op, "label", None) or op.name
        key = (name, tuple(index[q] for q in qubits))
        if key not in seen:
            seen.add(key)
            model.add_quantum_error(error, name, list(key[1]), warnings=False)
    return model


def _operations(circuit: QuantumCircuit):
    """Every (operation, qubits) of ``circuit``, the bodies of ``if`` blocks included."""
    for instruction in circuit.data:
        op = instruction.operation
        if isinstance(op, IfElseOp):
            for block in op.blocks:
                mapping = dict(zip(block.qubits, instruction.qubits))
                for inner in block.data:
                    yield inner.operation, [mapping[q] for q in inner.qubits]
        else:
            yield op, list(instruction.qubits)


# ---------------------------------------------------------------------- simulation
@dataclass
class Simulation:
    """What :func:`simulate` found. Fidelities compare with the ideal monolithic circuit.

    ``figure`` is ``distribution`` (the output distribution of the measured bits: Hellinger
    fidelity and total-variation distance, and the probability of the ideal circuit's most likely
    outcome) or ``process`` (the entanglement fidelity of the whole channel, by the Choi state).
    """

    noisy: bool
    method: str
    figure: str
    measured: str
    qubits: int
    seconds: float
    hellinger_fidelity: float | None = None
    total_variation_distance: float | None = None
    process_fidelity: float | None = None
    top_outcome: str | None = None
    top_outcome_probability: float | None = None
    ideal_top_outcome_probability: float | None = None
    shots: int | None = None
    estimate: float | None = None
    #: With shots: the median Hellinger fidelity that ``shots`` samples of the ideal distribution
    #: itself score against it (what a correct, noiseless output scores on average), and the 1st
    #: percentile (a correct output scores at least this 99 times in 100).
    sampling_expected_hellinger: float | None = None
    sampling_threshold_hellinger: float | None = None
    #: With shots: the total-variation distance a correct output reaches at most 99 times in 100.
    sampling_threshold_tvd: float | None = None
    #: With shots: the Hellinger fidelity is at least ``sampling_threshold_hellinger``.
    within_sampling_error: bool | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def simulate(
    original: QuantumCircuit,
    distributed,
    network: Network | None = None,
    layout: dict | None = None,
    *,
    noisy: bool = True,
    shots: int | None = None,
    seed: int | None = None,
    figure: str = "auto",
    timeline: list[Slot] | None = None,
) -> Simulation:
    """Run the distributed circuit (under the network's noise when ``noisy``) and compare it with
    the ideal monolithic ``original``.

    ``distributed`` is a compile result or a distributed circuit (then give ``network``; the layout
    comes from ``layout`` or the circuit's metadata). ``figure``: ``distribution`` compares the
    output distribution of the original's final measurements (all qubits in the computational
    basis when it has none); ``process`` gives the entanglement fidelity of the channel (reference
    qubits paired with the inputs, the inverse of the original undone at the end); ``auto`` takes
    ``distribution`` for circuits with final measurements and ``process`` otherwise, when it fits.

    Without ``shots`` the simulation is exact: Aer's density-matrix method with every measurement
    deferred (copied onto an ancilla that controls the correction), every error inserted as a
    channel, and the probabilities saved at the end; comm qubits and bits share a pool, so the
    width is data + comm qubits and bits in use at once (+ references), at most
    :data:`EXACT_MAX_QUBITS`. With ``shots`` (or when wider), the noisy copy runs as it is, with
    native ``if`` and the :func:`noise_model`, and ``shots`` samples are compared.
    """
    if figure not in ("auto", "distribution", "process"):
        raise DQCError(f"unknown figure '{figure}' (choose auto, distribution or process)")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise DQCError(f"shots must be a positive integer, got {shots!r}")
    start = time.perf_counter()
    ctx = _context(distributed, network, layout, timeline)
    unitary, record = _prepare_original(original)
    dynamic = sorted({i.operation.name for i in unitary.data if i.operation.name in ("measure", "reset", "if_else")})
    if dynamic:
        raise DQCError(f"the original has {', '.join(dynamic)} before its end (a dynamic circuit): the noisy "
                       "simulation compares against a unitary original only; 'dqc verify' checks such circuits")
    n = unitary.num_qubits
    if n != len(ctx.layout.get("initial", [])):
        raise DQCError(f"the layout lists {len(ctx.layout.get('initial', []))} input qubits but the original "
                       f"circuit has {n}")
    initial = _positions(ctx.circuit, ctx.layout, "initial", n)
    final = _positions(ctx.circuit, ctx.layout, "final", n)
    copy = _build_noisy(ctx)
    body, measured = _split_final_measurements(copy, set(final))
    outputs, note = _outputs(original, copy, record, measured, final, n)
    figure = _choose_figure(figure, record, shots, lambda: _exact_width(ctx, body, initial, final, True))
    estimate = estimate_fidelity(ctx.circuit, ctx.network, ctx.layout, ctx.timeline)["estimate"] if noisy else None
    process = figure == "process"
    width = _exact_width(ctx, body, initial, final, process)
    if shots is None and width > EXACT_MAX_QUBITS:
        if process:
            raise DQCError(f"the exact process-fidelity simulation needs {width} qubits (at most "
                           f"{EXACT_MAX_QUBITS}); use the distribution figure with shots")
        shots = DEFAULT_SHOTS
        log.info("%d qubits are too many for the exact simulation; sampling %d shots", width, shots)
    if process:
        fidelity, qubits = _exact_process(ctx, body, unitary, initial, final, noisy)
        return Simulation(noisy, "density_matrix/exact", "process", "the whole channel (Choi state)", qubits,
                          round(time.perf_counter() - start, 3), process_fidelity=_clip(fidelity), estimate=estimate)
    ideal = _ideal_probabilities(unitary, [q for q, _ in outputs])
    if shots is None:
        probabilities, qubits = _exact_distribution(ctx, body, outputs, noisy)
        method = "density_matrix/exact"
    else:
        probabilities, qubits, method = _sampled_distribution(ctx, copy, outputs, noisy, shots, seed)
    return _compare_distributions(ideal, probabilities, len(outputs), shots, seed, Simulation(
        noisy, method, "distribution", note, qubits, round(time.perf_counter() - start, 3), estimate=estimate))


def _choose_figure(figure: str, record, shots: int | None, process_width) -> str:
    """``auto``: the distribution when the original measures, else the process fidelity when the
    exact simulation can give it (no ``shots``, ``process_width()`` at most :data:`EXACT_MAX_QUBITS`)."""
    if figure == "auto":
        figure = "distribution" if record else "process"
        if figure == "process" and (shots is not None or process_width() > EXACT_MAX_QUBITS):
            figure = "distribution"
    if figure == "process" and shots is not None:
        raise DQCError("the process fidelity needs the exact simulation; leave out --shots")
    return figure


def _compare_distributions(ideal: np.ndarray, probabilities: np.ndarray, m: int, shots: int | None,
                           seed: int | None, simulation: Simulation) -> Simulation:
    """``simulation`` with the Hellinger fidelity, the TVD and the top outcome of ``probabilities``
    against ``ideal`` (over ``m`` bits), and with ``shots`` the figures a correct output reaches."""
    top = int(np.argmax(ideal))
    hellinger = _clip(float(np.sum(np.sqrt(ideal * probabilities))) ** 2)
    baseline = _sampling_baseline(ideal, shots, seed) if shots is not None else {}
    return replace(
        simulation,
        hellinger_fidelity=hellinger,
        total_variation_distance=_clip(0.5 * float(np.sum(np.abs(ideal - probabilities)))),
        top_outcome=format(top, f"0{m}b") if m else "",
        top_outcome_probability=_clip(float(probabilities[top])),
        ideal_top_outcome_probability=_clip(float(ideal[top])),
        shots=shots, **baseline,
        within_sampling_error=hellinger >= baseline["sampling_threshold_hellinger"] if baseline else None,
    )


def _sampling_baseline(ideal: np.ndarray, shots: int, seed: int | None) -> dict:
    """What ``shots`` samples of the ideal distribution score against it: a correct output's figures.

    A finite sample of a spread-out distribution never scores 1 (4,000 shots over 1,024 equally
    likely outcomes score about 0.92): compare a sampled figure with these, not with 1.
    """
    rng = np.random.default_rng(0 if seed is None else seed)
    draws = 200 if ideal.size <= 1 << 16 else 20
    p = ideal / ideal.sum()
    counts = rng.multinomial(shots, p, size=draws) / shots
    hellinger = np.sum(np.sqrt(counts * p), axis=1) ** 2
    tvd = 0.5 * np.sum(np.abs(counts - p), axis=1)
    return {
        "sampling_expected_hellinger": _clip(float(np.median(hellinger))),
        "sampling_threshold_hellinger": _clip(float(np.quantile(hellinger, 0.01))),
        "sampling_threshold_tvd": _clip(float(np.quantile(tvd, 0.99))),
    }


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, round(value, 12))))


def _outputs(original, copy, record, measured, final, n) -> tuple[list[tuple[int, Qubit | None]], str]:
    """The output bits, in the order of the original's classical bits: (input qubit, the qubit of
    the distributed circuit measured into the bit of that name, or None when none is)."""
    if not record:
        note = "all qubits in the computational basis (the circuit has no final measurements)"
        return [(i, final[i]) for i in range(n)], note
    by_name = {_clbit_name(copy, copy.find_bit(bit)): qubit for qubit, bit in measured.items()}
    ordered = sorted(record, key=lambda item: item[1].index)
    outputs = [(q, by_name.get(_clbit_name(original, location))) for q, location in ordered]
    names = [_clbit_name(original, location) for _, location in ordered]
    return outputs, "final measurements into " + ", ".join(names)


def _ideal_probabilities(unitary: QuantumCircuit, qubits: list[int]) -> np.ndarray:
    if unitary.num_qubits > SHOTS_MAX_QUBITS:
        raise DQCError(f"the original circuit has {unitary.num_qubits} qubits; "
                       f"at most {SHOTS_MAX_QUBITS} can be simulated")
    return np.clip(np.asarray(Statevector(unitary).probabilities(qubits), dtype=float), 0.0, None)


class _Pools:
    """Qubits of the exact simulation: data positions fixed, comm qubits pooled (a comm qubit takes
    a pool qubit from its first use to its reset), bit carriers pooled as ancillas. Errors are
    chosen from the distributed circuit's own qubits, so one pool serves every QPU."""

    def __init__(self, sim: QuantumCircuit | None, fixed: dict):
        self.sim, self.fixed = sim, fixed
        self.free: dict = {}
        self.assigned: dict = {}
        self.width = len(fixed)

    def _new(self) -> Qubit:
        qubit = Qubit()
        if self.sim is not None:
            self.sim.add_bits([qubit])
        self.width += 1
        return qubit

    def qubit(self, q: Qubit) -> Qubit:
        if q in self.fixed:
            return self.fixed[q]
        if q not in self.assigned:
            pool = self.free.setdefault("comm", [])
            self.assigned[q] = pool.pop() if pool else self._new()
        return self.assigned[q]

    def release(self, q: Qubit) -> None:
        if q in self.assigned:
            self.free["comm"].append(self.assigned.pop(q))

    def bit(self) -> Qubit:
        pool = self.free.setdefault("bits", [])
        return pool.pop() if pool else self._new()

    def release_bit(self, ancilla: Qubit) -> None:
        if self.sim is not None:
            self.sim.reset(ancilla)
        self.free.setdefault("bits", []).append(ancilla)


def _last_reads(body) -> dict[int, int]:
    """For each measurement (its position in ``body``), the position of the last ``if`` that reads its bit."""
    current: dict = {}
    last: dict[int, int] = {}
    for position, instruction in enumerate(body):
        op = instruction.operation
        if op.name == "measure":
            current[instruction.clbits[0]] = position
            last[position] = position
        elif isinstance(op, IfElseOp):
            bit = op.condition[0]
            if bit in current:
                last[current[bit]] = position
    return last


def _deferred(ctx: _Context, body, sim: QuantumCircuit | None, fixed: dict, noisy: bool) -> _Pools:
    """Append ``body`` to ``sim`` with measurements deferred and (when ``noisy``) errors as channels.

    A measured bit is carried by a qubit that controls the corrections reading it: the measured
    qubit itself when it is only reset before the bit's last read (its reset is postponed until
    then), otherwise an ancilla that a ``cx`` copies it onto. A readout error flips the carrier.
    """
    pools = _Pools(sim, fixed)
    last = _last_reads(body)
    uses: dict = {}
    for position, instruction in enumerate(body):
        for q in instruction.qubits:
            uses.setdefault(q, []).append(position)
    releases: dict[int, list] = {}
    postponed: set[int] = set()
    bits: dict = {}
    net = ctx.network
    for position, instruction in enumerate(body):
        op, qargs = instruction.operation, instruction.qubits
        name = op.name
        if name == "barrier":
            pass
        elif name == "measure":
            q = qargs[0]
            target = pools.qubit(q)
            later = [u for u in uses[q] if u > position]
            carrier = (q not in fixed and later and body[later[0]].operation.name == "reset"
                       and (len(later) == 1 or later[1] > last[position]))
            if carrier:
                postponed.add(later[0])
                releases.setdefault(last[position], []).append(("qubit", q))
                bits[instruction.clbits[0]] = target
            else:
                ancilla = pools.bit()
                if sim is not None:
                    sim.cx(target, ancilla)
                releases.setdefault(last[position], []).append(("bit", ancilla))
                bits[instruction.clbits[0]] = target = ancilla
            readout = net.qpus[ctx.qpu_of[q]].readout_error
            if sim is not None and noisy and readout > 0:
                sim.append(pauli_error([("X", readout), ("I", 1 - readout)]).to_instruction(), [target])
        elif name == "reset":
            if position not in postponed:
                target = pools.qubit(qargs[0])
                if sim is not None:
                    sim.reset(target)
                pools.release(qargs[0])
        elif isinstance(op, IfElseOp):
            bit, value = op.condition
            if bit not in bits:
                raise DQCError(f"an 'if' reads bit {_clbit_name(ctx.circuit, ctx.circuit.find_bit(bit))} before any "
                               "measurement writes it")
            control = bits[bit]
            for index, block in enumerate(op.blocks):
                state = int(value) if index == 0 else 1 - int(value)
                mapping = dict(zip(block.qubits, qargs))
                for inner in block.data:
                    targets = [pools.qubit(mapping[q]) for q in inner.qubits]
                    if sim is None:
                        continue
                    sim.append(_controlled(inner.operation, state), [control, *targets])
                    inner_qubits = [mapping[q] for q in inner.qubits]
                    error = operation_error(inner.operation, inner_qubits, ctx.qpu_of, net) if noisy else None
                    if error is not None:
                        sim.append(_controlled_channel(error, state), [control, *targets])
        else:
            targets = [pools.qubit(q) for q in qargs]
            if sim is not None:
                if name != "delay":
                    sim.append(op, targets)
                error = operation_error(op, qargs, ctx.qpu_of, net) if noisy else None
                if error is not None:
                    sim.append(error.to_instruction(), targets)
        for kind, item in releases.pop(position, []):
            if kind == "bit":
                pools.release_bit(item)
            else:
                if sim is not None:
                    sim.reset(pools.qubit(item))
                pools.release(item)
    return pools


def _controlled(op: Instruction, state: int) -> Instruction:
    return UnitaryGate(Operator(op.control(1, ctrl_state=state)))


def _controlled_channel(error: QuantumError, state: int) -> Instruction:
    """``error`` on the targets when the control (first qubit) is in ``state``, nothing otherwise."""
    kraus = Kraus(error).data
    dim = kraus[0].shape[0]
    on = np.zeros((2, 2))
    on[state, state] = 1.0
    off = np.eye(2) - on
    operators = [np.kron(np.eye(dim), off) + np.kron(kraus[0], on)] + [np.kron(k, on) for k in kraus[1:]]
    return Kraus(operators).to_instruction()


def _exact_width(ctx: _Context, body, initial, final, process: bool) -> int:
    positions = list(dict.fromkeys(list(initial) + list(final)))
    pools = _deferred(ctx, body, None, {q: q for q in positions}, noisy=False)
    return pools.width + (len(initial) if process else 0)


def _run_exact(sim: QuantumCircuit, qubits: list[Qubit]) -> np.ndarray:
    sim.append(SaveProbabilities(len(qubits), label="probabilities"), qubits)
    result = AerSimulator(method="density_matrix").run(sim, shots=1).result()
    if not result.success:
        raise DQCError(f"the density-matrix simulation failed: {result.status}")
    return np.clip(np.asarray(result.data(0)["probabilities"], dtype=float), 0.0, None)  # rounding: -1e-17


def _exact_distribution(ctx: _Context, body, outputs, noisy: bool) -> tuple[np.ndarray, int]:
    positions = list(dict.fromkeys(q for q in ctx.data))
    positions.sort(key=lambda q: ctx.circuit.find_bit(q).index)
    data = QuantumRegister(len(positions), "data")
    sim = QuantumCircuit(data)
    fixed = dict(zip(positions, data))
    _deferred(ctx, body, sim, fixed, noisy)
    measured = [fixed[q] for _, q in outputs if q is not None]
    probabilities = _run_exact(sim, measured) if measured else np.ones(1)
    # Bits no final measurement writes read 0: spread the measured ones into the full outcome space.
    full = np.zeros(2 ** len(outputs))
    places = [k for k, (_, q) in enumerate(outputs) if q is not None]
    for index, p in enumerate(probabilities):
        full[sum(((index >> j) & 1) << k for j, k in enumerate(places))] += p
    if noisy:
        for k, (_, q) in enumerate(outputs):
            if q is not None:
                full = _flip(full, k, ctx.network.qpus[ctx.qpu_of[q]].readout_error)
    return full, sim.num_qubits


def _flip(probabilities: np.ndarray, bit: int, p: float) -> np.ndarray:
    """Bit ``bit`` of every outcome read wrongly with probability ``p``."""
    if p <= 0:
        return probabilities
    flipped = probabilities[np.arange(len(probabilities)) ^ (1 << bit)]
    return (1 - p) * probabilities + p * flipped


def _exact_process(ctx: _Context, body, unitary: QuantumCircuit, initial, final, noisy: bool) -> tuple[float, int]:
    n = unitary.num_qubits
    positions = list(dict.fromkeys(list(initial) + list(final)))
    references = QuantumRegister(n, "ref")
    data = QuantumRegister(len(positions), "data")
    sim = QuantumCircuit(references, data)
    fixed = dict(zip(positions, data))
    for i in range(n):
        sim.h(references[i])
        sim.cx(references[i], fixed[initial[i]])
    _deferred(ctx, body, sim, fixed, noisy)
    inverse = unitary.inverse()
    for instruction in inverse.data:
        sim.append(instruction.operation, [fixed[final[inverse.find_bit(q).index]] for q in instruction.qubits])
    for i in range(n):
        sim.cx(references[i], fixed[final[i]])
        sim.h(references[i])
    probabilities = _run_exact(sim, list(references) + [fixed[final[i]] for i in range(n)])
    return float(probabilities[0]), sim.num_qubits


def _sampled_distribution(ctx: _Context, copy: QuantumCircuit, outputs, noisy: bool, shots: int,
                          seed: int | None) -> tuple[np.ndarray, int, str]:
    if copy.num_qubits > SHOTS_MAX_QUBITS:
        raise DQCError(f"the distributed circuit has {copy.num_qubits} qubits; "
                       f"at most {SHOTS_MAX_QUBITS} can be sampled")
    out = ClassicalRegister(len(outputs), "dqc_out")
    sim = QuantumCircuit(*copy.qregs, out, *copy.cregs)
    finals = {q for _, q in outputs if q is not None}
    for instruction in copy.data:
        q = instruction.qubits[0] if instruction.qubits else None
        if instruction.operation.name == "measure" and q in finals:
            continue
        sim.append(instruction.operation, instruction.qubits, instruction.clbits, copy=False)
    for k, (_, q) in enumerate(outputs):
        if q is not None:
            sim.measure(q, out[k])
    model = noise_model(ctx.network, copy) if noisy else None
    backend = AerSimulator(noise_model=model, seed_simulator=0 if seed is None else seed)
    result = backend.run(sim, shots=shots).result()
    if not result.success:
        raise DQCError(f"the simulation failed: {result.status}")
    counts = result.get_counts(0)
    m = len(outputs)
    probabilities = np.zeros(2**m)
    for key, count in counts.items():
        bits = key.replace(" ", "")
        probabilities[int(bits[-m:], 2) if m else 0] += count / shots
    method = result.results[0].metadata.get("method", "automatic")
    return probabilities, sim.num_qubits, f"{method}/shots"
