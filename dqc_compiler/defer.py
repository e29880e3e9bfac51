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
from qiskit.circuit.library import CXGate, SwapGate, XGate


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

    def rewrite(self, instructions, name_of, input_bits: set, owner_of, create: bool, label: str) -> list:
        """``instructions`` rewritten as ``(op, qubits, clbits)``. ``name_of(clbit)`` names a bit,
        ``input_bits`` are the names of the input's bits, ``owner_of(qubit)`` is the input qubit a
        position holds (None for comm qubits). ``create``: the original (it makes the extra
        qubits); otherwise a write or reset the original lacks is a problem."""
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
                resets[qubit] = key[2] + 1
                environment = self._extra(key, create)
                if environment is None:
                    self.problems.append(f"{label} resets input qubit {qubit} {key[2] + 1} times, the original fewer")
                    continue
                out.append((SwapGate(), [qubits[0], environment], []))
            elif isinstance(op, IfElseOp) and _condition_name(op, name_of) in input_bits:
                out += _controlled(op, qubits, latest.get(_condition_name(op, name_of)))
            else:
                out.append((op, qubits, clbits))
        return out


def _condition_name(op: IfElseOp, name_of) -> str | None:
    target = op.condition[0] if isinstance(op.condition, tuple) else None
    if target is None:
        return None
    bits = [target] if not hasattr(target, "size") else list(target)
    return name_of(bits[0]) if len(bits) == 1 else None


def _controlled(op: IfElseOp, qubits: list, event: Qubit | None) -> list:
    """The gates of ``op``'s branches controlled on ``event`` (a bit never written reads 0)."""
    value = int(op.condition[1])
    out = []
    for block, wanted in zip(op.blocks, (value, 1 - value)):
        if block is None:
            continue
        where = dict(zip(block.qubits, qubits))
        for inner in block.data:
            targets = [where[q] for q in inner.qubits]
            if event is None:
                if wanted == 0:
                    out.append((inner.operation, targets, []))
                continue
            if not wanted:
                out.append((XGate(), [event], []))
            out.append((_control(inner.operation), [event, *targets], []))
            if not wanted:
                out.append((XGate(), [event], []))
    return out


def _control(gate):
    """``gate`` controlled on one more qubit, as qiskit's own class where it has one (a gate
    ``control`` returns may lack a definition, which the simulator needs)."""
    controlled = gate.control(1)
    if getattr(controlled, "_standard_gate", None) is not None:
        controlled = controlled.base_class(*controlled.params)
    return controlled


def defer(original: QuantumCircuit, body: list, distributed: QuantumCircuit, initial: list[Qubit],
          name_of_original, name_of_distributed) -> tuple[QuantumCircuit, list, list[Qubit], list[str]]:
    """``(original as a unitary on n + extra qubits, the distributed body rewritten, the extra
    qubits, problems)``; the extra qubits follow the input qubits in both."""
    deferral = Deferral()
    index = {q: i for i, q in enumerate(original.qubits)}
    names = {name_of_original(c) for c in original.clbits}
    rewritten = deferral.rewrite(original.data, name_of_original, names, index.get, True, "the original")
    keys = set(deferral.keys)
    position = {q: i for i, q in enumerate(initial)}
    distributed_ops = deferral.rewrite(body, name_of_distributed, names, position.get, False,
                                       "the distributed circuit")
    problems = list(deferral.problems)
    problems += [f"the distributed circuit lacks the original's {k[0]} #{k[2] + 1} of "
                 f"{k[1] if k[0] == 'measure' else f'input qubit {k[1]}'}" for k in keys if k not in deferral.used]
    unitary = QuantumCircuit(list(original.qubits) + deferral.extra, global_phase=original.global_phase)
    for op, qubits, _ in rewritten:
        unitary.append(op, qubits)
    body = [CircuitInstruction(op, qubits, clbits) for op, qubits, clbits in distributed_ops]
    return unitary, body, deferral.extra, problems
