"""Deferred measurement for the verifier: a dynamic circuit as one unitary on extra qubits.

Each measurement into an input bit becomes a ``cx`` onto a fresh *event* qubit (one per
measurement, so a bit written twice keeps both values), each ``if`` on an input bit becomes its
gates controlled on the event qubit that last wrote the bit (a bit never written is 0), and each
reset of an input qubit becomes a ``swap`` with a fresh *environment* qubit. The rewrite is
applied alike to the original and to the distributed circuit (whose protocol measurements,
resets of comm qubits and ``if`` on protocol bits stay as they are); events are paired by bit
name and order (``c[0]``, second write), resets by input qubit and order. Measuring the event
qubits and discarding the environment turns either rewrite back into its circuit, so if the two
rewrites are the same channel on data, event and environment qubits — what the Choi and
product-state checks decide — the two circuits are the same channel with classical outputs.
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction, IfElseOp, Qubit
from qiskit.circuit.library import CXGate, GlobalPhaseGate, SwapGate, XGate


class Deferral:
    """The extra qubits of one verification and the rewrite of each circuit onto them."""

    def __init__(self):
        self.extra: list[Qubit] = []
        self.keys: dict[tuple, int] = {}  # event or reset key -> index in ``extra``
        self.problems: list[str] = []
        self.used: set[tuple] = set()  # keys the distributed circuit wrote or reset

    def _extra(self, key: tuple, create: bool) -> Qubit | None:
        if not create:
            self.used.add(key)
        if key not in self.keys:
            if not create:
                return None
            self.keys[key] = len(self.extra)
            self.extra.append(Qubit())
        return self.extra[self.keys[key]]

    def rewrite(self, instructions, name_of, input_bits: set, owner_of, create: bool, label: str,
                routed: bool = False) -> list:
        """``instructions`` rewritten as ``(op, qubits, clbits)``. ``name_of(clbit)`` names a bit,
        ``input_bits`` are the names of the input's bits, ``owner_of(qubit)`` is the input qubit a
        position holds (None for comm qubits). ``create``: the original (it makes the extra
        qubits); otherwise a write or reset the original lacks is a problem. ``routed``: the
        circuit moves qubits with local SWAPs (:mod:`dqc_compiler.passes.route_qpus`), so a
        position is not always its input qubit's: a reset the original lacks stays a reset (the
        channel checks then decide whether it harms)."""
        writes: dict[str, int] = {}
        latest: dict[str, Qubit] = {}
        resets: dict[int, int] = {}
        out = []
        for instruction in instructions:
            op, qubits, clbits = instruction.operation, list(instruction.qubits), list(instruction.clbits)
            if op.name == "measure" and name_of(clbits[0]) in input_bits:
                name = name_of(clbits[0])
                key = ("measure", name, writes.get(name, 0))
                writes[name] = key[2] + 1
                event = self._extra(key, create)
                if event is None:
                    self.problems.append(f"{label} writes {name} {key[2] + 1} times, the original fewer")
                    continue
                latest[name] = event
                out.append((CXGate(), [qubits[0], event], []))
            elif op.name == "reset" and owner_of(qubits[0]) is not None:
                qubit = owner_of(qubits[0])
                key = ("reset", qubit, resets.get(qubit, 0))
                if routed and key not in self.keys:
                    out.append((op, qubits, clbits))
                    continue
                resets[qubit] = key[2] + 1
                environment = self._extra(key, create)
                if environment is None:
                    self.problems.append(f"{label} resets input qubit {qubit} {key[2] + 1} times, the original fewer")
                    continue
                out.append((SwapGate(), [qubits[0], environment], []))
            elif isinstance(op, IfElseOp) and _condition_bits(op, name_of, input_bits) is not None:
                out += _controlled(op, qubits, _condition_bits(op, name_of, input_bits), latest)
            else:
                out.append((op, qubits, clbits))
        return out


def _condition_bits(op: IfElseOp, name_of, input_bits: set) -> list | None:
    """The names of the bits an ``if`` tests with the value each must have, when they are the input's."""
    target, value = op.condition
    bits = [target] if not hasattr(target, "size") else list(target)
    names = [name_of(bit) for bit in bits]
    if not all(name in input_bits for name in names):
        return None
    return [(name, (int(value) >> i) & 1) for i, name in enumerate(names)]


def _controlled(op: IfElseOp, qubits: list, tests: list, latest: dict) -> list:
    """The gates of ``op``'s branches controlled on the event qubits that hold the tested bits (a
    bit never written reads 0, so it needs no control; one that cannot match empties the branch)."""
    controls, possible = [], True
    for name, want in tests:
        event = latest.get(name)
        if event is None:
            possible = possible and want == 0
        else:
            controls.append((event, want))
    if len(tests) > 1 and int(op.condition[1]) >= 1 << len(tests):
        possible = False
    out = []
    for number, block in enumerate(op.blocks):
        if block is None:
            continue
        where = dict(zip(block.qubits, qubits))
        gates = [(inner.operation, [where[q] for q in inner.qubits]) for inner in block.data
                 if inner.operation.name not in ("barrier", "delay")]
        if block.global_phase:  # a body re-synthesised in native gates keeps its phase here: controlled, it counts
            gates.insert(0, (GlobalPhaseGate(float(block.global_phase)), []))
        if number == 0:
            out += _under(gates, controls) if possible else []
        elif not possible:
            out += [(gate, targets, []) for gate, targets in gates]
        elif len(controls) == 1:  # as the compiler writes it: ``if (!b)`` (the same gates, for the Clifford images)
            out += _under(gates, [(controls[0][0], 1 - controls[0][1])])
        else:  # always, then undone where the condition holds
            out += [(gate, targets, []) for gate, targets in gates]
            out += _under([(gate.inverse(), targets) for gate, targets in reversed(gates)], controls)
    return out


def _under(gates: list, controls: list) -> list:
    """``gates`` controlled on every ``(event qubit, value)`` of ``controls``."""
    out = []
    flips = [(XGate(), [event], []) for event, want in controls if not want]
    for gate, targets in gates:
        if controls:
            out += flips + [(_control(gate, len(controls)), [e for e, _ in controls] + targets, [])] + flips
        else:
            out.append((gate, targets, []))
    return out


def _control(gate, count: int = 1):
    """``gate`` controlled on ``count`` more qubits, as qiskit's own class where it has one (a gate
    ``control`` returns may lack a definition, which the simulator needs)."""
    controlled = gate.control(count, annotated=False)
    if getattr(controlled, "_standard_gate", None) is not None:
        controlled = controlled.base_class(*controlled.params)
    return controlled


def defer(original: QuantumCircuit, body: list, distributed: QuantumCircuit, initial: list[Qubit],
          name_of_original, name_of_distributed, routed: bool = False,
          ) -> tuple[QuantumCircuit, list, list[Qubit], list[str]]:
    """``(original as a unitary on n + extra qubits, the distributed body rewritten, the extra
    qubits, problems)``; the extra qubits follow the input qubits in both."""
    deferral = Deferral()
    index = {q: i for i, q in enumerate(original.qubits)}
    names = {name_of_original(c) for c in original.clbits}
    rewritten = deferral.rewrite(original.data, name_of_original, names, index.get, True, "the original")
    keys = set(deferral.keys)
    position = {q: i for i, q in enumerate(initial)}
    distributed_ops = deferral.rewrite(body, name_of_distributed, names, position.get, False,
                                       "the distributed circuit", routed=routed)
    problems = list(deferral.problems)
    problems += [f"the distributed circuit lacks the original's {k[0]} #{k[2] + 1} of "
                 f"{k[1] if k[0] == 'measure' else f'input qubit {k[1]}'}" for k in keys if k not in deferral.used]
    unitary = QuantumCircuit(list(original.qubits) + deferral.extra, global_phase=original.global_phase)
    for op, qubits, _ in rewritten:
        unitary.append(op, qubits)
    body = [CircuitInstruction(op, qubits, clbits) for op, qubits, clbits in distributed_ops]
    return unitary, body, deferral.extra, problems
