"""Lower classical control to what the distribution handles: unrolled loops, one gate per single-bit ``if``."""

from __future__ import annotations

from qiskit.circuit import ClassicalRegister, Clbit, ForLoopOp, Gate, IfElseOp, QuantumCircuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass

from ..conditions import MAX_CONDITION_BITS, conditioned, on_all
from ..errors import DQCError
from ..gates import op_key

#: Most operations that unrolling the ``for`` loops of one circuit may produce.
MAX_UNROLLED = 100_000
_SKIPPED_IN_BODY = {"barrier", "delay", "id"}


class LowerControlFlow(TransformationPass):
    """Unroll ``for`` loops and rewrite every ``if`` as single-bit ``if`` statements of one gate each.

    Classical bits start at 0, so a bit that no measurement can have written yet is known: a
    register condition (``if (c == 5)``, as OpenQASM 2 and QASMBench's ``cc`` circuits write them)
    only depends on the bits some earlier measurement wrote. It becomes a condition on the one
    such bit, or the body runs always (or never). ``if (b) {A; B} else {C}`` becomes ``if (b) A;
    if (b) B; if (!b) C`` — gates cannot change the bit in between. A run of ``if (c == v) g`` on
    one register with one gate and distinct values is merged first (see :meth:`_Lowering.flush`).
    A condition that still tests several measured bits (the output contract allows single-bit
    conditions only) is rewritten with group commutators
    (:func:`~dqc_compiler.conditions.on_all`), up to
    :data:`~dqc_compiler.conditions.MAX_CONDITION_BITS` bits. Raises :class:`DQCError` beyond
    that and for loops that would unroll to more than :data:`MAX_UNROLLED` operations. Input
    without control flow is returned unchanged.

    ``conditions=False`` is the verifier's view of the original: loops unrolled, and conditions
    that test exactly one measured bit kept as written (the verifier then checks their rewrite);
    the others are lowered as the compiler does, since the commutator rewrite drops a phase under
    a classical condition, which no measurement can see but a check on deferred measurements would.
    """

    def __init__(self, conditions: bool = True):
        super().__init__()
        self.conditions = conditions

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        if not any(node.name in ("if_else", "for_loop") for node in dag.op_nodes()):
            return dag
        out = dag.copy_empty_like()
        lowering = _Lowering(out, self.conditions)
        for position, node in enumerate(dag.topological_op_nodes()):
            lowering.emit(node.op, tuple(node.qargs), tuple(node.cargs), f"operation {position} ('{node.op.name}')")
        lowering.flush()
        return out


class SplitConditionals(TransformationPass):
    """After :class:`~dqc_compiler.passes.Normalise`: one gate per ``if`` again (translating a
    conditioned gate can give a body of several gates); identities and empty bodies go."""

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        if not any(node.name == "if_else" and _needs_split(node.op) for node in dag.op_nodes()):
            return dag
        out = dag.copy_empty_like()
        for node in dag.topological_op_nodes():
            if node.name != "if_else":
                out.apply_operation_back(node.op, node.qargs, node.cargs, check=False)
                continue
            bit, value = node.op.condition
            body = node.op.blocks[0]
            where = dict(zip(body.qubits, node.qargs))
            for inner in body.data:
                if inner.operation.name not in _SKIPPED_IN_BODY:
                    out.apply_operation_back(*conditioned(inner.operation, [where[q] for q in inner.qubits], bit, value),
                                             check=False)
        return out


def _needs_split(op: IfElseOp) -> bool:
    body = op.blocks[0].data
    return len(body) != 1 or body[0].operation.name in _SKIPPED_IN_BODY


class _Lowering:
    """The state of one lowering walk: the output DAG, the bits a measurement may have written."""

    def __init__(self, out: DAGCircuit, conditions: bool = True):
        self.out = out
        self.conditions = conditions
        self.written: set[Clbit] = set()
        self.unrolled = 0
        self.pending: tuple | None = None  # ((register, gate, qubits), members, values) waiting to be merged

    def emit(self, op, qargs: tuple, cargs: tuple, where: str, cmap: dict | None = None) -> None:
        """Emit ``op`` lowered; ``cmap`` maps the bits a nested condition names onto the output's.
        Consecutive ``if (c == v) g`` on one register with the same gate and distinct values wait
        in ``pending`` to be lowered together (see :meth:`flush`)."""
        key = _group_key(op, qargs)
        if key is not None and self.pending and self.pending[0] == key and int(op.condition[1]) not in self.pending[2]:
            self.pending[1].append((op, qargs, cargs, where, cmap))
            self.pending[2].add(int(op.condition[1]))
            return
        self.flush()
        if key is not None:
            self.pending = (key, [(op, qargs, cargs, where, cmap)], {int(op.condition[1])})
            return
        self._emit(op, qargs, cargs, where, cmap)

    def flush(self) -> None:
        """Lower the pending group: ``g`` runs when ``c`` takes one of the values (they exclude one
        another), so when the values, on the bits a measurement may have written, are all settings
        of some bits with the others fixed, ``g`` needs only a condition on the fixed ones
        (``if(c==2) x; if(c==3) x`` after writing ``c[0]``, ``c[1]`` is ``if (c[1]) x``)."""
        if not self.pending:
            return
        (register, same, qubits), members, values = self.pending
        gate = same.gate
        self.pending = None
        literals, never = self._union(register, values) if len(members) > 1 else (None, False)
        if never:
            return
        if literals is None:
            for member in members:
                self._emit(*member)
        elif len(literals) == 1 and not self.conditions:  # the verifier reads them as written
            for op, qargs, cargs, _, cmap in members:
                self._keep(op, qargs, cargs, cmap)
        elif not literals:
            self._plain(gate, qubits, (), None)
        elif len(literals) == 1:
            self.out.apply_operation_back(*conditioned(gate, qubits, *literals[0]), check=False)
        else:
            self._conjunction([(gate, qubits)], literals, members[0][3])

    def _union(self, register: ClassicalRegister, values: set) -> tuple[list | None, bool]:
        """The literals on written bits whose settings are exactly ``values`` (None when no such
        literals exist), and whether no value can occur."""
        live = [i for i, bit in enumerate(register) if bit in self.written]
        settings = {tuple((v >> i) & 1 for i in live) for v in values
                    if v < 1 << register.size and not any((v >> i) & 1 for i in range(register.size) if i not in live)}
        if not settings:
            return None, True
        fixed = [j for j in range(len(live)) if len({s[j] for s in settings}) == 1]
        if len(settings) != 1 << (len(live) - len(fixed)):
            return None, False
        first = next(iter(settings))
        return [(register[live[j]], first[j]) for j in fixed], False

    def _emit(self, op, qargs: tuple, cargs: tuple, where: str, cmap: dict | None = None) -> None:
        if isinstance(op, ForLoopOp):
            self._unroll(op, qargs, cargs, where)
        elif isinstance(op, IfElseOp) and (self.conditions or self._constant_or_several(op, cmap or {})):
            self._lower_if(op, qargs, cargs, where, cmap or {})
        elif isinstance(op, IfElseOp):
            self._keep(op, qargs, cargs, cmap)
        else:
            if op.name == "measure":
                self.written.add(cargs[0])
            self.out.apply_operation_back(op, qargs, cargs, check=False)

    def _constant_or_several(self, op: IfElseOp, cmap: dict) -> bool:
        """Whether ``op``'s condition is known (no written bit) or tests several written bits: the
        two cases the verifier's view lowers as the compiler does (a known condition decides
        whether a later reset is the first operation on its qubit, which normalisation drops)."""
        live, never = self._live(op, cmap)
        return never or len(live) != 1

    def _keep(self, op: IfElseOp, qargs: tuple, cargs: tuple, cmap: dict | None) -> None:
        """``op`` as it is, its condition named in the output's bits."""
        target, value = op.condition
        op = op.replace_blocks(op.blocks)
        op.condition = ((cmap or {}).get(target, target), value)
        self.out.apply_operation_back(op, qargs, cargs, check=False)

    def _unroll(self, op: ForLoopOp, qargs: tuple, cargs: tuple, where: str) -> None:
        indexset, parameter, body = op.params
        self.unrolled += len(indexset) * len(body.data)
        if self.unrolled > MAX_UNROLLED:
            raise DQCError(f"{where}: unrolling the 'for' loops gives more than {MAX_UNROLLED} operations")
        for value in indexset:
            bound = body.assign_parameters({parameter: value}) if parameter is not None else body
            self.out.global_phase += bound.global_phase
            self._inline(bound, qargs, cargs, lambda inner, qubits, clbits, cmap: self.emit(inner, qubits, clbits, where, cmap))

    def _live(self, op: IfElseOp, cmap: dict) -> tuple[list, bool]:
        """The ``(bit, value)`` tests of ``op`` on bits a measurement may have written, and whether
        the condition can never hold (a bit no measurement has written is 0)."""
        target, value = op.condition
        bits = [cmap.get(b, b) for b in ([target] if isinstance(target, Clbit) else list(target))]
        value = int(value)
        never = isinstance(target, ClassicalRegister) and value >= 1 << len(bits)
        live = []
        for i, bit in enumerate(bits):
            want = (value >> i) & 1
            if bit in self.written:
                live.append((bit, want))
            elif want:
                never = True
        return live, never

    def _lower_if(self, op: IfElseOp, qargs: tuple, cargs: tuple, where: str, cmap: dict) -> None:
        live, always = self._live(op, cmap)
        true_body = op.blocks[0]
        false_body = op.blocks[1] if len(op.blocks) > 1 else None
        if always:  # the condition can never hold
            live, true_body, false_body = [], false_body, None
        if len(live) > 1:
            self._lower_conjunction(true_body, false_body, live, qargs, cargs, where)
            return
        for body, flip in ((true_body, 0), (false_body, 1)):
            if body is None:
                continue
            if not live:
                self._inline(body, qargs, cargs, self._plain)
                continue
            bit, want = live[0]
            self._inline(body, qargs, cargs,
                         lambda gate, qubits, _c, _m, b=bit, v=want ^ flip: self.out.apply_operation_back(
                             *conditioned(gate, qubits, b, v), check=False))

    def _lower_conjunction(self, true_body, false_body, live, qargs, cargs, where) -> None:
        """A condition on several measured bits: the true body under their conjunction (see
        :func:`~dqc_compiler.conditions.on_all`); the false body always, then undone under it."""
        for body, negated in ((true_body, False), (false_body, True)):
            if body is None:
                continue
            gates = []
            self._inline(body, qargs, cargs, lambda gate, qubits, _c, _m: gates.append((gate, qubits)))
            if negated:
                for gate, qubits in gates:
                    self._plain(gate, qubits, (), None)
                gates = [(gate.inverse(), qubits) for gate, qubits in reversed(gates)]
            self._conjunction(gates, live, where)

    def _conjunction(self, gates: list, live: list, where: str) -> None:
        if len(live) > MAX_CONDITION_BITS:
            names = ", ".join(_name(self.out, bit) for bit, _ in live)
            raise DQCError(f"{where}: the condition depends on {len(live)} measured bits ({names}); at most "
                           f"{MAX_CONDITION_BITS} are supported")
        for op, qubits, clbits in on_all(gates, live):
            self.out.apply_operation_back(op, qubits, clbits, check=False)

    def _plain(self, gate, qubits, clbits, _cmap) -> None:
        self.out.apply_operation_back(gate, qubits, clbits, check=False)

    @staticmethod
    def _inline(body: QuantumCircuit, qargs: tuple, cargs: tuple, action) -> None:
        qubits, clbits = dict(zip(body.qubits, qargs)), dict(zip(body.clbits, cargs))
        for inner in body.data:
            if inner.operation.name in _SKIPPED_IN_BODY:
                continue
            action(inner.operation, tuple(qubits[q] for q in inner.qubits), tuple(clbits[c] for c in inner.clbits),
                   clbits)


def _group_key(op, qargs: tuple) -> tuple | None:
    """``(register, gate, qubits)`` of ``if (register == value) gate`` with no else branch, else None."""
    if not isinstance(op, IfElseOp) or not isinstance(op.condition[0], ClassicalRegister):
        return None
    if len(op.blocks) > 1 and op.blocks[1] is not None and op.blocks[1].data:
        return None
    body = [inner for inner in op.blocks[0].data if inner.operation.name not in _SKIPPED_IN_BODY]
    if len(body) != 1 or not isinstance(body[0].operation, Gate):
        return None
    where = dict(zip(op.blocks[0].qubits, qargs))
    qubits = tuple(where[q] for q in body[0].qubits)
    return op.condition[0], _Same(body[0].operation), qubits


class _Same:
    """A gate compared by name and parameters (the key of a group of ``if`` statements)."""

    def __init__(self, gate: Gate):
        self.gate = gate
        self.key = op_key(gate)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Same) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def _name(dag: DAGCircuit, bit: Clbit) -> str:
    location = dag.find_bit(bit)
    return f"{location.registers[0][0].name}[{location.registers[0][1]}]" if location.registers else f"#{location.index}"
