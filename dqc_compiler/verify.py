"""Prove a distributed circuit computes what the monolithic one does, on qiskit-aer.

Three checks, each of which a broken output fails:

* ``choi/statevector`` — exact channel check. Reference qubits are Bell-paired with the input
  qubits at their initial positions (the Choi state), the distributed circuit runs with its
  mid-circuit measurements and classically controlled corrections (native ``if_else``), the
  inverse of the monolithic circuit is applied at the final positions and the pairs are undone.
  The two are equivalent iff every qubit then reads 0 with certainty; comm qubits must also be
  back in |0>. Each shot follows one random branch of measurement outcomes, and Aer saves the
  exact probability of all-zero at the end of that branch; the figure is the smallest over the
  shots. A missing or wrong Pauli correction breaks half the branches, so 32 clean shots leave a
  chance of 2^-32 that it went unnoticed; an error present in every branch (a wrong angle, a
  misplaced gate) is seen exactly, however small.
* ``product-states/statevector`` (or ``/matrix_product_state`` when wider) — the same idea on random
  product-state inputs, for circuits too wide or too long for the Choi state. Few shots: it is
  there to catch wrong gates and angles, which show in every branch.
* ``clifford/stabilizer`` — both circuits are Clifford-ised gate by gate (non-Clifford gates are
  replaced by Clifford gates of the same shape: diagonal stays diagonal, controlled stays
  controlled on the same qubit), then the Choi check runs on Aer's stabilizer method. It checks
  the distribution logic — partition, protocols, corrections, layout — at any size, not the
  rotation angles.

Before any simulation the contract is checked structurally: only ``epr`` and barriers may touch
two QPUs (registers), ``if`` bodies stay in one QPU, final measurements land in the right bits.
A dynamic-circuit original (mid-circuit measurement, reset, conditions on its own bits) is
compared by deferred measurement (:mod:`dqc_compiler.defer`): both circuits become unitaries on
extra event and environment qubits, and the checks run on those.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, IfElseOp, Instruction, QuantumRegister, Qubit
from qiskit.circuit.library import UGate
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Clifford, Operator
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import RemoveDiagonalGatesBeforeMeasure
from qiskit_aer import AerSimulator
from qiskit_aer.library import SaveAmplitudesSquared

from .errors import DQCError
from .gates import cache_key
from .defer import defer
from .passes import CheckSupportedInput, LowerControlFlow, Normalise, SplitFinalMeasurements

#: Widest Choi check (reference + data + pooled comm qubits) run on the statevector method.
CHOI_MAX_QUBITS = 16
#: Work (amplitudes x operations x shots) under which ``auto`` runs the exact Choi check (a few seconds).
EXACT_BUDGET = 1e8
#: Work budget of the product-state check under ``auto``; trials and shots shrink to fit it.
RANDOM_BUDGET = 1e9
CHOI_SHOTS = 32
#: A check passes when every sampled branch returns all-zero with probability at least 1 - TOLERANCE.
TOLERANCE = 1e-9
#: Widest exact Choi check that ``method="exact"`` attempts (16 GiB of amplitudes).
EXACT_MAX_QUBITS = 30
#: Widest product-state check on the statevector method; beyond it, matrix product states.
STATEVECTOR_MAX_QUBITS = 26
#: Statevector work (amplitudes x operations x shots) Aer gets through per second of CPU, measured
#: on a 2-core machine (QFT-noswap-16 on grid:2x2: 2^31.4 in 21 s); the seconds in estimates use it.
WORK_PER_SECOND = 1e8
METHODS = ("auto", "exact", "random", "stabilizer")

_STABILIZER_GATES = {"cx", "cy", "cz", "h", "id", "s", "sdg", "swap", "sx", "sxdg", "x", "y", "z", "ecr"}
_STATEVECTOR_GATES = set(AerSimulator(method="statevector").configuration().basis_gates) - {"if_else"}
_NON_GATES = {"measure", "reset", "barrier", "if_else", "delay"}


@dataclass
class Check:
    """One simulation check: ``figure`` is the smallest all-zero probability over the sampled branches."""

    method: str
    equivalent: bool
    figure: float
    shots: int
    qubits: int
    seconds: float


@dataclass
class Verdict:
    """The outcome of :func:`verify`. ``method`` names the checks that ran, strongest first."""

    equivalent: bool
    method: str
    checks: list[Check] = field(default_factory=list)
    reason: str = ""
    #: Why these checks: the cost estimate that chose them (``auto``), or "asked for".
    choice: str = ""
    #: The sizes behind the choice: simulated qubits per check and log2 of the work.
    estimate: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The report's ``verification`` object."""
        data = {"equivalent": self.equivalent, "method": self.method, "checks": [asdict(c) for c in self.checks]}
        if self.reason:
            data["reason"] = self.reason
        if self.choice:
            data["choice"] = self.choice
        if self.estimate:
            data["estimate"] = self.estimate
        return data


def verify(
    original: QuantumCircuit,
    distributed: QuantumCircuit,
    layout: dict | None = None,
    method: str = "auto",
    seed: int | None = None,
    progress=None,
) -> Verdict:
    """Check that ``distributed`` implements ``original``.

    ``distributed`` is the distributed circuit or the :class:`~dqc_compiler.pipeline.CompileResult`.
    ``layout`` is the report's ``layout`` object (``{"initial": [{"qpu", "index"}], "final": ...}``);
    when None it is read from ``distributed.metadata["dqc_layout"]``. ``method`` is ``auto`` (the
    Choi check when it costs a few seconds; else random product states — as few as one shot on long
    circuits — plus the stabilizer check; the stabilizer check alone beyond
    :data:`STATEVECTOR_MAX_QUBITS`), ``exact``, ``random`` or ``stabilizer``. Raises :class:`DQCError` for unusable input (no layout, a layout
    that does not fit the circuits, an unsupported original).

    ``distributed`` may also be the output of ``transpile`` with the ``dqc`` plugins (one register
    of physical qubits, ``metadata["dqc_network"]`` and a ``TranspileLayout``): it is regrouped by
    :func:`dqc_compiler.plugin.to_qpu_registers` and its layout read from ``distributed.layout``.
    qiskit's optimisation passes re-synthesise gates, so the Clifford-ised check (which pairs the
    two circuits gate by gate) is left out of ``auto`` there: the exact check, else random product
    states. qiskit also drops diagonal gates right before final measurements (optimisation levels
    2 and 3), which cannot change what is measured; the transpiled circuit is equivalent when it
    matches the original with or without them.

    ``progress``, when given, is called with a one-line message at each stage (the plan, each
    check as it starts and its figure). The verdict says why its checks were chosen
    (``choice``, ``estimate``). Raises :class:`VerificationUnavailable` when no check can run
    (the stabilizer check needs a gate with no consistent Clifford image, and the circuit is too
    wide for a state vector).
    """
    if method not in METHODS:
        raise DQCError(f"unknown verification method '{method}' (choose from {', '.join(METHODS)})")
    if not isinstance(distributed, QuantumCircuit) and isinstance(getattr(distributed, "circuit", None), QuantumCircuit):
        distributed = distributed.circuit  # a CompileResult: its circuit carries the layout in its metadata
    if not _is_transpiled(distributed):
        # native gates of device QPUs (dqc_native) are re-synthesised: no gate-for-gate Clifford images
        native = _routed(distributed, layout)
        return _verify(original, distributed, layout, method, seed, gate_for_gate=not native, progress=progress)
    from .plugin import to_qpu_registers  # noqa: PLC0415 - the plugin module imports this one's package

    regrouped = to_qpu_registers(distributed)
    verdict = _verify(original, regrouped, layout, method, seed, gate_for_gate=False, progress=progress)
    if verdict.equivalent or verdict.method == "contract":
        return verdict
    stripped = PassManager([RemoveDiagonalGatesBeforeMeasure()]).run(original)
    if len(stripped.data) == len(original.data):
        return verdict
    second = _verify(stripped, regrouped, layout, method, seed, gate_for_gate=False, progress=progress)
    return second if second.equivalent else verdict


def _routed(circuit: QuantumCircuit, layout: dict | None) -> bool:
    """True for a circuit whose device QPUs were routed and written in native gates
    (``RouteWithinQPUs``): its layout says ``"routed": true`` (the OpenQASM comment keeps it)."""
    layout = layout if layout is not None else (circuit.metadata or {}).get("dqc_layout")
    return bool((circuit.metadata or {}).get("dqc_native")) or (isinstance(layout, dict) and layout.get("routed") is True)


def _is_transpiled(circuit: QuantumCircuit) -> bool:
    """True for the output of ``transpile`` with the dqc plugins: physical qubits, not QPU registers."""
    network = (circuit.metadata or {}).get("dqc_network")
    if network is None or getattr(circuit, "layout", None) is None:
        return False
    names = {q.get("name") for q in network.get("qpus", []) if isinstance(q, dict)}
    return not any(r.name in names for r in circuit.qregs)


def _verify(
    original: QuantumCircuit,
    distributed: QuantumCircuit,
    layout: dict | None,
    method: str,
    seed: int | None,
    gate_for_gate: bool,
    progress=None,
) -> Verdict:
    """:func:`verify` on a circuit over QPU registers; without ``gate_for_gate``, ``auto`` skips the Clifford-ised check."""
    seed = 0 if seed is None else seed
    layout = layout if layout is not None else (distributed.metadata or {}).get("dqc_layout")
    if layout is None:
        raise DQCError("the distributed circuit carries no layout; pass the compile report (--report)")
    unitary, final_measurements = _prepare_original(original)
    n = unitary.num_qubits
    initial = _positions(distributed, layout, "initial", n)
    final = _positions(distributed, layout, "final", n)

    # routed device QPUs move qubits with local SWAPs: a comm position may hold data later (the checks decide)
    problems = contract_violations(distributed, data_qubits=set() if _routed(distributed, layout)
                                   else set(initial) | set(final))
    expected = {(final[q], _clbit_name(original, location)) for q, location in final_measurements}
    written = {_clbit_name(unitary, unitary.find_bit(i.clbits[0])) for i in unitary.data if i.operation.name == "measure"}
    body, measured = _split_final_measurements(  # a bit the original writes mid-circuit: final only where expected
        distributed, set(final),
        lambda q, c: (q, _clbit_name(distributed, distributed.find_bit(c))) in expected
        or _clbit_name(distributed, distributed.find_bit(c)) not in written)
    problems += _measurement_mismatches(original, distributed, final_measurements, measured, final)
    if problems:
        return Verdict(False, "contract", reason=problems[0])
    unitary, body, extra, problems = defer(
        unitary, body, distributed, initial, lambda c: _clbit_name(unitary, unitary.find_bit(c)),
        lambda c: _clbit_name(distributed, distributed.find_bit(c)),
        routed=_routed(distributed, layout))
    if problems:
        return Verdict(False, "contract", reason=problems[0])
    initial, final, n = initial + extra, final + extra, unitary.num_qubits

    pool = _pool_size(body, set(initial) | set(final))
    operations = len(body) + 2 * len(unitary.data)
    plan = _plan(method, n, pool, operations, gate_for_gate)
    say = progress or (lambda message: None)
    say(f"plan: {plan.choice}")
    checks = []
    for name in plan.method.split("+"):
        if name == "exact":
            if 2 * n + pool > EXACT_MAX_QUBITS:
                raise VerificationUnavailable(
                    f"the exact Choi check needs a state vector of {2 * n + pool} qubits (2^{2 * n + pool} "
                    f"amplitudes; at most {EXACT_MAX_QUBITS} are simulated): use --method stabilizer or auto")
            say(f"exact Choi check on {2 * n + pool} qubits (statevector)")
            checks.append(_choi_check(unitary, body, initial, final, seed, clifford=False))
        elif name == "random":
            say(f"product-state check on {n + pool} qubits, {plan.trials} input(s) x {plan.shots} shot(s)")
            checks.append(_product_state_check(unitary, body, initial, final, seed, plan.trials, plan.shots))
        elif name == "stabilizer":
            say(f"Clifford-ised check on {2 * n + pool} qubits (stabilizer)")
            try:
                checks.append(_choi_check(unitary, body, initial, final, seed, clifford=True))
            except NotCliffordisable as exc:
                if plan.requested == "stabilizer" or (plan.requested == "auto" and "random" not in plan.method
                                                      and n + pool > STATEVECTOR_MAX_QUBITS):
                    raise VerificationUnavailable(
                        f"the Clifford-ised stabilizer check cannot run: {exc}; and a state-vector check of "
                        f"{n + pool} qubits is beyond {STATEVECTOR_MAX_QUBITS} (try --method random: matrix "
                        "product states, slow)" if plan.requested == "auto" else
                        f"the Clifford-ised stabilizer check cannot run: {exc}") from None
                plan.choice += f"; the Clifford-ised check was left out: {exc}"
                if "random" not in plan.method:
                    say(f"product-state check on {n + pool} qubits instead")
                    checks.append(_product_state_check(unitary, body, initial, final, seed, plan.trials, plan.shots))
        say(f"{checks[-1].method}: min P(all 0) {checks[-1].figure:.6g} ({checks[-1].seconds:.2f}s)" if checks else "")
    verdict = Verdict(all(c.equivalent for c in checks), "+".join(c.method for c in checks), checks)
    verdict.choice, verdict.estimate = plan.choice, plan.estimate
    return verdict


class VerificationUnavailable(DQCError):
    """No check can decide within what the machine can simulate; the message says which and why."""


@dataclass
class _Plan:
    requested: str
    method: str
    choice: str
    trials: int
    shots: int
    estimate: dict


def _plan(method: str, n: int, pool: int, operations: int, gate_for_gate: bool) -> _Plan:
    """Which checks to run, from an estimate of their cost (log2 of amplitudes x operations x shots)."""
    trials, shots = (2, 8) if method == "auto" else (4, 8)
    exact_log2 = (2 * n + pool) + math.log2(max(1, operations * CHOI_SHOTS))
    random_log2 = lambda t, s: (n + pool) + math.log2(max(1, operations * t * s))  # noqa: E731
    estimate = {"choi_qubits": 2 * n + pool, "product_state_qubits": n + pool, "stabilizer_qubits": 2 * n + pool,
                "operations": operations, "exact_work_log2": round(exact_log2, 2)}
    if method != "auto":
        estimate["product_state_work_log2"] = round(random_log2(trials, shots), 2)
        return _Plan(method, method, f"{method}: asked for", trials, shots, estimate)
    if 2 * n + pool <= CHOI_MAX_QUBITS and exact_log2 <= math.log2(EXACT_BUDGET):
        return _Plan("auto", "exact", f"exact: the Choi state has {2 * n + pool} qubits "
                     f"(<= {CHOI_MAX_QUBITS}) and costs 2^{exact_log2:.1f} <= 2^{math.log2(EXACT_BUDGET):.1f}",
                     trials, shots, estimate)
    why = (f"the Choi state would have {2 * n + pool} qubits" if 2 * n + pool > CHOI_MAX_QUBITS
           else f"the Choi check would cost 2^{exact_log2:.1f} > 2^{math.log2(EXACT_BUDGET):.1f}")
    while trials * shots > 1 and random_log2(trials, shots) > math.log2(RANDOM_BUDGET):
        trials, shots = (trials - 1, shots) if trials > 1 else (trials, shots // 2)
    estimate["product_state_work_log2"] = round(random_log2(trials, shots), 2)
    if n + pool <= STATEVECTOR_MAX_QUBITS:
        estimate["product_state_seconds"] = round(2.0 ** random_log2(trials, shots) / WORK_PER_SECOND, 1)
    if n + pool <= STATEVECTOR_MAX_QUBITS and random_log2(trials, shots) > math.log2(RANDOM_BUDGET):
        why += (f"; even one product-state shot costs 2^{random_log2(trials, shots):.1f} > budget "
                f"2^{math.log2(RANDOM_BUDGET):.1f} (about {estimate['product_state_seconds']:g} s of CPU)")
    if not gate_for_gate:
        return _Plan("auto", "random", f"random: {why}; re-synthesised gates cannot be paired for the "
                     "Clifford-ised check", trials, shots, estimate)
    if n + pool > STATEVECTOR_MAX_QUBITS:
        return _Plan("auto", "stabilizer", f"stabilizer: {why}, and product states on {n + pool} qubits exceed "
                     f"the statevector limit of {STATEVECTOR_MAX_QUBITS}", trials, shots, estimate)
    return _Plan("auto", "random+stabilizer", f"random+stabilizer: {why}; product states on {n + pool} qubits "
                 f"({trials} input(s) x {shots} shot(s), 2^{random_log2(trials, shots):.1f}) catch wrong angles, "
                 "the Clifford-ised check the distribution logic", trials, shots, estimate)


# ---------------------------------------------------------------------- structure
def contract_violations(circuit: QuantumCircuit, data_qubits: set[Qubit] | None = None) -> list[str]:
    """Every breach of the output contract (DESIGN.md), as messages; empty when the circuit conforms.

    Each qubit must belong to exactly one register (a QPU); only ``epr`` (on two qubits of
    different registers, neither of them a data position when ``data_qubits`` is given) and
    barriers may span registers; ``if`` blocks must test one bit (a bit, or a one-bit register as
    OpenQASM 2 writes it), hold only gates and stay in one QPU.
    """
    problems = []
    owner = {}
    for qubit in circuit.qubits:
        registers = circuit.find_bit(qubit).registers
        if len(registers) != 1:
            problems.append(f"qubit {circuit.find_bit(qubit).index} belongs to {len(registers)} registers, not one QPU")
        else:
            owner[qubit] = registers[0][0].name
    for position, instruction in enumerate(circuit.data):
        op, qubits = instruction.operation, instruction.qubits
        qpus = {owner.get(q) for q in qubits}
        label = f"operation {position} ('{op.name}')"
        if op.name == "barrier":
            continue
        if op.name == "epr":
            if len(qubits) != 2 or len(qpus) != 2:
                problems.append(f"{label}: epr must join comm qubits of two different QPUs")
            elif data_qubits and any(q in data_qubits for q in qubits):
                problems.append(f"{label}: epr applied to a data qubit")
            continue
        if len(qpus) > 1:
            problems.append(f"{label} acts on several QPUs ({', '.join(sorted(map(str, qpus)))})")
        if isinstance(op, IfElseOp):
            target = op.condition[0]
            if not isinstance(target, Clbit) and not (isinstance(target, ClassicalRegister) and target.size == 1):
                problems.append(f"{label}: condition on more than one bit")
            for block in op.blocks:
                for inner in block.data:
                    if inner.operation.name in ("measure", "reset", "if_else"):
                        problems.append(f"{label}: '{inner.operation.name}' inside an if body")
        elif op.name not in ("measure", "reset", "delay") and not isinstance(op, Instruction):
            problems.append(f"{label}: unknown operation")
    return problems


def _prepare_original(original: QuantumCircuit) -> tuple[QuantumCircuit, list]:
    manager = PassManager([CheckSupportedInput(), LowerControlFlow(conditions=False), SplitFinalMeasurements(),
                           Normalise()])
    unitary = manager.run(original)
    record = [(q, original.find_bit(c)) for q, c in manager.property_set["dqc_final_measurements"]]
    return unitary, record


def _positions(circuit: QuantumCircuit, layout: dict, key: str, n: int) -> list[Qubit]:
    entries = layout.get(key) if isinstance(layout, dict) else None
    if not isinstance(entries, list) or len(entries) != n:
        raise DQCError(f"layout '{key}' must list a position for each of the {n} input qubits")
    registers = {r.name: r for r in circuit.qregs}
    positions = []
    for i, entry in enumerate(entries):
        try:
            register = registers[entry["qpu"]]
            positions.append(register[int(entry["index"])])
        except (KeyError, IndexError, TypeError, ValueError):
            raise DQCError(f"layout '{key}'[{i}] = {entry!r} names no qubit of the distributed circuit") from None
    if len(set(positions)) != n:
        raise DQCError(f"layout '{key}' puts two input qubits on the same position")
    return positions


def _split_final_measurements(circuit: QuantumCircuit, data: set[Qubit], final_here=None) -> tuple[list, dict]:
    """The circuit's instructions without the final measurements of data qubits, and those
    measurements. A measurement is final when nothing after it touches its qubit or its bit (and,
    with ``final_here(qubit, clbit)``, when that says so: an absorbed final swap can leave a
    mid-circuit measurement last on its qubit)."""
    last = {}
    for position, instruction in enumerate(circuit.data):
        for q in instruction.qubits:
            last[q] = position
        for c in instruction.clbits:
            last[c] = position
    body, measured = [], {}
    for position, instruction in enumerate(circuit.data):
        q = instruction.qubits[0] if instruction.qubits else None
        if (instruction.operation.name == "measure" and q in data and last[q] == position
                and last[instruction.clbits[0]] == position
                and (final_here is None or final_here(q, instruction.clbits[0]))):
            measured[q] = instruction.clbits[0]
        else:
            body.append(instruction)
    return body, measured


def _measurement_mismatches(original, distributed, expected, measured, final) -> list[str]:
    problems = []
    for qubit, location in expected:
        want = _clbit_name(original, location)
        got = measured.get(final[qubit])
        if got is None:
            problems.append(f"input qubit {qubit} is measured into {want} but its final position is not measured")
        elif _clbit_name(distributed, distributed.find_bit(got)) != want:
            got_name = _clbit_name(distributed, distributed.find_bit(got))
            problems.append(f"input qubit {qubit} should be measured into {want}, is measured into {got_name}")
    if len(measured) > len(expected):
        problems.append(f"the distributed circuit measures {len(measured)} qubits, the original {len(expected)}")
    return problems


def _clbit_name(circuit, location) -> str:
    if location.registers:
        register, index = location.registers[0]
        return f"{register.name}[{index}]"
    return f"#{location.index}"


# ---------------------------------------------------------------------- simulation circuits
class _Builder:
    """Copies distributed instructions onto a simulation circuit, sharing pooled comm qubits.

    A qubit outside the layout (a comm qubit) is mapped to a pool qubit from its first use until
    it is reset, when the pool qubit becomes free again: the simulation is as wide as the data
    plus the comm qubits in use at once, not all comm qubits of the network.
    """

    def __init__(self, sim: QuantumCircuit | None, fixed: dict[Qubit, Qubit], pool: list[Qubit], clifford: bool):
        self.sim, self.fixed, self.clifford = sim, fixed, clifford
        self.free: list[Qubit] = list(reversed(pool))
        self.assigned: dict[Qubit, Qubit] = {}
        self.used = 0

    def qubit(self, q: Qubit) -> Qubit:
        if q in self.fixed:
            return self.fixed[q]
        if q not in self.assigned:
            if not self.free:
                self.free.append(Qubit())  # only when sizing the pool
            self.assigned[q] = self.free.pop()
            self.used = max(self.used, len(self.assigned))
        return self.assigned[q]

    def release(self, qubits) -> None:
        for q in qubits:
            if q in self.assigned:
                self.free.append(self.assigned.pop(q))

    def copy(self, instructions) -> None:
        for instruction in instructions:
            op = instruction.operation
            qubits = [self.qubit(q) for q in instruction.qubits]
            if isinstance(op, IfElseOp):
                self.sim.append(self._conditional(op, qubits, instruction.clbits), qubits, instruction.clbits)
            elif op.name in ("measure", "reset", "barrier", "delay"):
                self.sim.append(op, qubits, instruction.clbits)
            else:
                append_gate(self.sim, op, qubits, self.clifford)
            if op.name == "reset":
                self.release(instruction.qubits)

    def _conditional(self, op: IfElseOp, qubits: list[Qubit], clbits) -> IfElseOp:
        condition = op.condition
        if not isinstance(condition, tuple):
            raise DQCError("only conditions on a bit or register compared with a value are supported")
        blocks = []
        for block in op.blocks:
            body = QuantumCircuit(list(qubits), list(clbits))
            mapping = dict(zip(block.qubits, qubits))
            for inner in block.data:
                append_gate(body, inner.operation, [mapping[q] for q in inner.qubits], self.clifford)
            blocks.append(body)
        return IfElseOp(condition, blocks[0], blocks[1] if len(blocks) > 1 else None)


def append_gate(circuit: QuantumCircuit, op: Instruction, qubits, clifford: bool) -> None:
    """Append ``op``, decomposed into gates the simulator knows (Clifford-ised when asked).

    A gate counts as standard only if it is qiskit's own class, or a custom gate (as OpenQASM 3
    import makes them) whose matrix equals the standard gate of that name: a file cannot pass a
    wrong body off as ``rzz``. Anything else is simulated through its definition. Clifford-ised,
    a gate on one or two qubits is replaced by :func:`cliffordise` of its matrix — whatever its
    name or definition, so ``r`` and the ``U`` an exporter wrote for it get the same image; a
    gate on more qubits is decomposed exactly as :class:`~dqc_compiler.passes.Normalise`
    decomposes the original first.
    """
    if clifford and op.num_qubits <= 2:
        replacement = cliffordise(op)
        for inner in replacement.data:
            circuit.append(inner.operation, [qubits[replacement.find_bit(q).index] for q in inner.qubits])
        return
    standard = canonical_gate(op)
    if clifford:  # three or more qubits: Clifford-ise it exactly as the normalised original is
        decomposed = _normalised(standard if standard is not None else op)
        _check_multi_qubit_image(op, decomposed)
        for inner in decomposed.data:
            append_gate(circuit, inner.operation, [qubits[decomposed.find_bit(q).index] for q in inner.qubits], True)
        return
    if standard is not None:
        circuit.append(standard, qubits)
        return
    if op.definition is None:
        raise DQCError(f"gate '{op.name}' has no definition the simulator can use")
    definition = op.definition
    if definition.global_phase:
        circuit.global_phase += definition.global_phase
    for inner in definition.data:
        append_gate(circuit, inner.operation, [qubits[definition.find_bit(q).index] for q in inner.qubits], False)


_NORMALISED: dict[tuple, QuantumCircuit] = {}


def _normalised(op: Instruction) -> QuantumCircuit:
    """``op`` alone, decomposed by :class:`~dqc_compiler.passes.Normalise` (as the original is)."""
    key = cache_key(op)
    if key not in _NORMALISED:
        single = QuantumCircuit(op.num_qubits)
        single.append(op, range(op.num_qubits))
        _NORMALISED[key] = PassManager([Normalise()]).run(single)
    return _NORMALISED[key]


_STANDARD = get_standard_gate_name_mapping()
_CANONICAL: dict[tuple, Instruction | None] = {}


def canonical_gate(op: Instruction) -> Instruction | None:
    """The qiskit standard gate ``op`` is, or None when it is not one the simulators know."""
    if op.name not in _STATEVECTOR_GATES or op.name not in _STANDARD:
        return None
    reference = _STANDARD[op.name]
    if type(op) is type(reference):
        return op
    key = cache_key(op)
    if key not in _CANONICAL:
        found = None
        if op.num_qubits == reference.num_qubits and len(op.params) == len(reference.params) and op.definition:
            candidate = type(reference)(*op.params) if op.params else type(reference)()
            if Operator(op.definition).equiv(Operator(candidate)):
                found = candidate
        _CANONICAL[key] = found
    return _CANONICAL[key]


# ---------------------------------------------------------------------- Clifford images
class NotCliffordisable(DQCError):
    """A gate has no Clifford image that keeps what the compiler relies on; the stabilizer check cannot run."""


_TOL = 1e-7
_PAULIS = (np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.diag([1.0 + 0j, -1.0]))
#: The 13 rotation axes of the one-qubit Clifford group (sign fixed) and the smallest Clifford
#: rotation angle about each: the coordinate axes (pi/2), the face diagonals (pi), the body diagonals (2pi/3).
_AXES: list[tuple[np.ndarray, float]] = (
    [(np.eye(3)[k], math.pi / 2) for k in range(3)]
    + [(np.array(v) / math.sqrt(2), math.pi) for v in ((1, 1, 0), (1, -1, 0), (1, 0, 1), (1, 0, -1), (0, 1, 1), (0, 1, -1))]
    + [(np.array(v) / math.sqrt(3), 2 * math.pi / 3) for v in ((1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1))]
)
_IMAGES: dict[tuple, QuantumCircuit] = {}


def cliffordise(op: Instruction) -> QuantumCircuit:
    """The Clifford image of a one- or two-qubit gate, decided from its matrix alone.

    Clifford gates are their own image. Otherwise the image keeps every fact the compiler builds
    on, so that it holds for the images of both circuits alike:

    * one qubit: ``e^{ia} R_n(t)`` becomes a rotation about the Clifford axis nearest to ``n``
      (one of 13; an axis in a coordinate plane stays in it, so diagonal stays diagonal and
      anti-diagonal — a flip — stays anti-diagonal, in the Z and the X basis) by the nearest
      nonzero Clifford angle about it. Gates about one axis commute, and so do their images.
    * two qubits, diagonal: ``diag(1, e^{ia}, e^{ib}, e^{i(a+b+d)})`` with ``a``, ``b`` moved to
      multiples of pi/2 and ``d`` to a multiple of pi (``cp``, ``cs``, ``rzz`` -> ``cz``-like);
      a phase that is exactly 0 stays 0, so a gate that ignores a qubit still does.
    * two qubits, controlled on one qubit: ``|0><0| (x) A + |1><1| (x) A V`` (``A`` and ``V``
      about one axis: ``cx``, ``crx``, ``cu``, ``ch``, ...) keeps the control; ``A`` and ``V``
      are mapped about the common Clifford axis, ``V`` to a Pauli (or the identity when the axis
      is no coordinate axis) and its phase to a multiple of pi/2.

    Raises :class:`NotCliffordisable` for a gate with no such image (two qubits, controlled on
    neither, or blocks about different axes): the stabilizer check then does not run rather than
    risk a false alarm.
    """
    standard = op.name in _STANDARD and type(op) is type(_STANDARD[op.name])
    by_name = ("standard", cache_key(op)) if standard else None
    if by_name in _IMAGES:  # qiskit's own class: its name and parameters fix the matrix
        return _IMAGES[by_name]
    try:
        m = Operator(op).data
    except Exception:  # noqa: BLE001 - qiskit raises QiskitError (no definition, not unitary)
        raise NotCliffordisable(f"gate '{op.name}' has no matrix") from None
    key = (op.num_qubits, np.round(m, 10).tobytes())
    found = _IMAGES.get(key)
    if found is not None:
        if by_name is not None:
            _IMAGES[by_name] = found
        return found
    image = _image_1q(m) if op.num_qubits == 1 else _image_2q(m, op.name)
    _check_roles(op.name, m, image)
    try:
        found = Clifford.from_matrix(image).to_circuit()
    except Exception as exc:  # noqa: BLE001 - pragma: no cover - every image above is a Clifford
        raise NotCliffordisable(f"no Clifford image of gate '{op.name}' ({exc})") from None
    if len(_IMAGES) < 65536:
        _IMAGES[key] = found
        if by_name is not None:
            _IMAGES[by_name] = found
    return found


def _snap(angle: float, step: float, keep_nonzero: bool = True) -> float:
    """The nearest multiple of ``step``; a tie (within tolerance) away from zero; nonzero stays nonzero."""
    x = angle / step
    if abs(x) < _TOL:
        return 0.0
    lower = math.floor(x)
    fraction = x - lower
    if abs(fraction - 0.5) < _TOL:
        k = lower + 1 if x > 0 else lower
    else:
        k = lower + 1 if fraction > 0.5 else lower
    if keep_nonzero and k == 0:
        k = 1 if x > 0 else -1
    return k * step


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    generator = sum(a * p for a, p in zip(axis, _PAULIS))
    return math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * generator


def _bloch(u: np.ndarray) -> tuple[float, np.ndarray]:
    """``u / sqrt(det u) = cos(t/2) I - i sin(t/2) n.sigma``: returns ``(cos(t/2), sin(t/2) n)``."""
    v = u / np.sqrt(np.linalg.det(u))
    return v.trace().real / 2, np.array([(1j * np.trace(v @ p)).real / 2 for p in _PAULIS])


def _axis_angle(u: np.ndarray) -> tuple[int | None, float, np.ndarray | None]:
    """``u`` up to phase as ``R_n(t)``: the index of the nearest Clifford axis, ``t`` about it
    (oriented like that axis, in [-pi, pi]) and the true axis so oriented; None for the identity."""
    a0, a = _bloch(u)
    norm = float(np.linalg.norm(a))
    if norm < _TOL:
        return None, 0.0, None
    n = a / norm
    dots = [abs(float(axis @ n)) for axis, _ in _AXES]
    best = max(dots)
    index = next(i for i, d in enumerate(dots) if d > best - _TOL)  # ties: the first, whatever the rounding
    sign = 1.0 if _AXES[index][0] @ n >= 0 else -1.0
    angle = 2 * math.atan2(norm, a0) * sign
    if angle > math.pi:
        angle -= 2 * math.pi
    elif angle < -math.pi:
        angle += 2 * math.pi
    return index, angle, n * sign


def _image_1q(u: np.ndarray) -> np.ndarray:
    index, angle, _ = _axis_angle(u)
    if index is None:
        return np.eye(2, dtype=complex)
    axis, step = _AXES[index]
    return _rotation(axis, _snap(angle, step))


def _phase(z: complex) -> float:
    return math.atan2(z.imag, z.real)


def _image_2q(m: np.ndarray, name: str) -> np.ndarray:
    if _is_clifford(m):
        return m
    if np.allclose(m, np.diag(np.diag(m)), atol=1e-9):
        d = np.diag(m)
        a = _snap(_phase(d[1] / d[0]), math.pi / 2)
        b = _snap(_phase(d[2] / d[0]), math.pi / 2)
        delta = _snap(_phase(d[3] * d[0] / (d[1] * d[2])), math.pi)
        return np.diag(np.exp(1j * np.array([0, a, b, a + b + delta])))
    for control in (0, 1):
        if _block_diagonal(m, control):
            image = _image_controlled(m, control)
            if image is not None:
                return image
    raise NotCliffordisable(f"gate '{name}' is controlled on neither qubit in a way the Clifford image can keep")


def _is_clifford(m: np.ndarray) -> bool:
    try:
        Clifford.from_matrix(m)
    except Exception:  # noqa: BLE001 - qiskit raises QiskitError for a non-Clifford matrix
        return False
    return True


def _block_diagonal(m: np.ndarray, position: int) -> bool:
    bit = 1 << position
    rows, cols = np.nonzero(np.abs(m) > 1e-9)
    return bool(np.all((rows & bit) == (cols & bit)))


def _image_controlled(m: np.ndarray, control: int) -> np.ndarray | None:
    target = 1 - control

    def block(c: int) -> np.ndarray:
        return np.array([[m[(c << control) | (i << target), (c << control) | (j << target)] for j in (0, 1)]
                         for i in (0, 1)])

    a, b = block(0), block(1)
    v = a.conj().T @ b  # |0><0| (x) A + |1><1| (x) A V
    if not np.allclose(a @ v, v @ a, atol=1e-9):
        return None
    index_a, angle_a, _ = _axis_angle(a)
    index_v, angle_v, true_v = _axis_angle(v)
    if index_a is not None and index_v is not None and index_a != index_v:
        return None
    index = index_a if index_a is not None else index_v
    axis, step = _AXES[index]
    a_image = _rotation(axis, _snap(angle_a, step)) if index_a is not None else np.eye(2)
    if index_v is None:
        psi, v_rotation = _phase(np.trace(v) / 2), np.eye(2)
    else:
        psi = _phase(np.trace(_rotation(true_v, angle_v).conj().T @ v) / 2)
        v_rotation = _rotation(axis, _snap(angle_v, math.pi if index < 3 else 2 * math.pi))  # a Pauli, or +-1
    v_image = np.exp(1j * _snap(psi, math.pi / 2, keep_nonzero=False)) * v_rotation
    zero, one, eye = np.diag([1, 0]).astype(complex), np.diag([0, 1]).astype(complex), np.eye(2)
    if control == 0:  # qiskit's order: kron(qubit 1, qubit 0)
        return np.kron(a_image, eye) @ (np.kron(eye, zero) + np.kron(v_image, one))
    return np.kron(eye, a_image) @ (np.kron(zero, eye) + np.kron(one, v_image))


_HADAMARD = np.array([[1, 1], [1, -1]]) / math.sqrt(2)


def _roles(m: np.ndarray) -> set[tuple]:
    """What the compiler may use of a gate: the qubits it is block-diagonal on in the Z and X bases,
    and for one qubit whether it is anti-diagonal (a flip) in either."""
    n = int(round(math.log2(m.shape[0])))
    found = set()
    for position in range(n):
        h = np.eye(1)
        for q in reversed(range(n)):
            h = np.kron(h, _HADAMARD if q == position else np.eye(2))
        for basis, x in (("Z", m), ("X", h @ m @ h)):
            if _block_diagonal(x, position):
                found.add((basis, position, "control"))
            if n == 1 and abs(x[0, 0]) < 1e-9 and abs(x[1, 1]) < 1e-9:
                found.add((basis, position, "flip"))
    return found


def _check_roles(name: str, m: np.ndarray, image: np.ndarray) -> None:
    missing = _roles(m) - _roles(image)
    if missing:  # pragma: no cover - the images above are built to keep every role
        raise NotCliffordisable(f"the Clifford image of gate '{name}' loses its role {sorted(missing)[0]}")


def _check_multi_qubit_image(op: Instruction, decomposed: QuantumCircuit) -> None:
    """The gate-by-gate image of a decomposed three-qubit gate keeps the roles of the whole gate."""
    key = ("multi", cache_key(op), len(decomposed.data))
    if key in _IMAGES:
        return
    image = QuantumCircuit(op.num_qubits)
    for inner in decomposed.data:
        append_gate(image, inner.operation, [decomposed.find_bit(q).index for q in inner.qubits], True)
    _check_roles(op.name, Operator(op).data, Operator(image).data)
    _IMAGES[key] = image


def _pool_size(body, fixed: set[Qubit]) -> int:
    """How many comm qubits are in use at once (the simulation's pool)."""
    builder = _Builder(None, {q: q for q in fixed}, [], clifford=False)
    for instruction in body:
        for q in instruction.qubits:
            builder.qubit(q)
        if instruction.operation.name == "reset":
            builder.release(instruction.qubits)
    return builder.used


def _skeleton(body, initial, final, references: int, clifford: bool):
    """The simulation circuit: reference qubits, layout positions, the comm pool; check bits first."""
    positions = list(dict.fromkeys(list(initial) + list(final)))
    pool_size = _pool_size(body, set(positions))
    qregs = [QuantumRegister(references, "ref")] if references else []
    qregs += [QuantumRegister(len(positions), "data")]
    if pool_size:
        qregs.append(QuantumRegister(pool_size, "pool"))
    sim = QuantumCircuit(*qregs)
    clbits = list(dict.fromkeys(c for instruction in body for c in instruction.clbits))
    if clbits:  # a register of its own: Aer formats counts by register
        sim.add_register(ClassicalRegister(name="protocol", bits=clbits))
    data = sim.qregs[1 if references else 0]
    fixed = dict(zip(positions, data))
    pool = list(sim.qregs[-1]) if pool_size else []
    builder = _Builder(sim, fixed, pool, clifford)
    return sim, builder, [fixed[q] for q in initial], [fixed[q] for q in final]


def _all_zero_probability(sim: QuantumCircuit, method: str, shots: int, seed: int) -> float:
    """The smallest probability, over the sampled measurement branches, that every qubit reads 0.

    Aer saves the squared amplitude of |0...0> at the end of each shot (``pershot``), so each
    sampled branch is checked exactly, not by sampling its final state: an equivalent circuit gives
    1 to rounding in every branch, and a coherent error as small as a 0.01 rad angle shows as
    1 - 2.5e-5.
    """
    sim.append(SaveAmplitudesSquared(sim.num_qubits, [0], pershot=True), sim.qubits)
    backend = AerSimulator(method=method, seed_simulator=seed)
    data = backend.run(sim, shots=shots).result().data(0)
    return float(min(np.asarray(value).ravel()[0] for value in data["amplitudes_squared"]))


def _choi_check(unitary, body, initial, final, seed, clifford: bool) -> Check:
    start = time.perf_counter()
    n = unitary.num_qubits
    sim, builder, at_start, at_end = _skeleton(body, initial, final, references=n, clifford=clifford)
    references = sim.qregs[0] if n else []
    for i in range(n):
        sim.h(references[i])
        sim.cx(references[i], at_start[i])
    builder.copy(body)
    if clifford:  # Clifford-ise the original first, then invert: C(U)^-1, not C(U^-1)
        reference = QuantumCircuit(n)
        for instruction in unitary.data:
            append_gate(reference, instruction.operation, [unitary.find_bit(q).index for q in instruction.qubits], True)
        inverse = reference.inverse()
    else:
        inverse = unitary.inverse()
    for instruction in inverse.data:
        append_gate(sim, instruction.operation, [at_end[inverse.find_bit(q).index] for q in instruction.qubits], False)
    for i in range(n):
        sim.cx(references[i], at_end[i])
        sim.h(references[i])
    # an amplitude on the stabilizer method costs O(width^3) a shot: fewer (still 2^-32 for a missed Pauli) when wide
    shots = 4 * CHOI_SHOTS if clifford and sim.num_qubits <= 400 else CHOI_SHOTS
    method = "stabilizer" if clifford else "statevector"
    figure = _all_zero_probability(sim, method, shots, seed)
    name = "clifford/stabilizer" if clifford else "choi/statevector"
    return Check(name, figure >= 1 - TOLERANCE, figure, shots, sim.num_qubits, round(time.perf_counter() - start, 3))


def _product_state_check(unitary, body, initial, final, seed, trials: int, shots: int) -> Check:
    start = time.perf_counter()
    n = unitary.num_qubits
    rng = np.random.default_rng(seed)
    figure, width, method = 1.0, 0, "statevector"
    inverse = unitary.inverse()
    for trial in range(trials):
        sim, builder, at_start, at_end = _skeleton(body, initial, final, references=0, clifford=False)
        angles = rng.uniform(0, 2 * math.pi, size=(n, 3))
        for i in range(n):
            sim.append(UGate(*angles[i]), [at_start[i]])
        builder.copy(body)
        for instruction in inverse.data:
            append_gate(sim, instruction.operation, [at_end[inverse.find_bit(q).index] for q in instruction.qubits], False)
        for i in range(n):
            sim.append(UGate(*angles[i]).inverse(), [at_end[i]])
        width = sim.num_qubits
        method = "statevector" if width <= STATEVECTOR_MAX_QUBITS else "matrix_product_state"
        figure = min(figure, _all_zero_probability(sim, method, shots, seed + trial))
    return Check(f"product-states/{method}", figure >= 1 - TOLERANCE, figure, trials * shots, width,
                 round(time.perf_counter() - start, 3))
