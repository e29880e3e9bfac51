"""Classically conditioned gates as the compiler carries them: one gate in a single-bit ``if``."""

from __future__ import annotations

import numpy as np
from qiskit.circuit import Clbit, IfElseOp, Instruction, QuantumCircuit

from .errors import DQCError


def conditioned(gate: Instruction, qubits, bit: Clbit, value: int) -> tuple[IfElseOp, tuple, tuple]:
    """``if (bit == value) gate qubits;`` as an operation with its qargs and cargs."""
    body = QuantumCircuit(list(qubits), [bit])
    body.append(gate, list(qubits))
    return IfElseOp((bit, int(value)), body), tuple(qubits), (bit,)


def body_gate(op: IfElseOp) -> Instruction:
    """The one gate of a lowered ``if`` (see :func:`conditioned`); its qubits are the node's, in order."""
    inner = op.blocks[0].data
    if len(inner) != 1 or (len(op.blocks) > 1 and op.blocks[1] is not None and op.blocks[1].data):
        raise DQCError(f"an 'if' with {len(inner)} operations reached the burst model; it should have been lowered")
    return inner[0].operation


#: Most measured bits one condition may depend on (each more doubles the gates it costs).
MAX_CONDITION_BITS = 6
_ATOL = 1e-9


def on_all(gates: list, literals: list[tuple]) -> list[tuple]:
    """``gates`` (``(gate, qubits)``) applied only when every ``(bit, value)`` of ``literals`` holds,
    as single-bit ``if`` statements of one gate each (``(op, qargs, cargs)``).

    A gate runs under a conjunction through group commutators: if ``V = A B A^-1 B^-1`` then
    ``A^x B^y A^-x B^-y`` is ``V`` when ``x = y = 1`` and the identity otherwise, so ``V`` on
    ``l1 and rest`` is ``(B^-1 on rest); if (l1) A^-1; (B on rest); if (l1) A``, recursively.
    Every element of SU(2) is such a commutator (of two rotations by the same angle, conjugated
    to the right axis). A gate is first decomposed into one-qubit gates and gates controlled on
    one qubit (:class:`~dqc_compiler.passes.Normalise`); a controlled ``W`` is ``p(phi)`` on the
    control times a controlled element of SU(2), whose commutator is one of controlled gates.
    A phase of the whole register under a classical condition is not observable and is dropped.
    """
    out = []
    for gate, qubits in _basis_gates(gates):
        m = _unitary(gate)
        if gate.num_qubits == 1:
            out += _power(_special(m), literals, tuple(qubits), controlled=False)
            continue
        control = _control_position(m)
        target = 1 - control
        blocks = [np.array([[m[(b << control) | (i << target), (b << control) | (j << target)] for j in (0, 1)]
                            for i in (0, 1)]) for b in (0, 1)]
        c, t = qubits[control], qubits[target]
        out += _power(_special(blocks[0]), literals, (t,), controlled=False)
        w = blocks[0].conj().T @ blocks[1]
        v = _special(w)
        largest = np.unravel_index(np.argmax(np.abs(v)), v.shape)
        phase = np.angle(w[largest] / v[largest])  # w = e^(i phase) v: a phase on the control
        out += _power(_special(np.diag([1, np.exp(1j * phase)])), literals, (c,), controlled=False)
        out += _power(v, literals, (c, t), controlled=True)
    return out


def _basis_gates(gates: list) -> list:
    from qiskit.transpiler import PassManager  # noqa: PLC0415

    from .passes.normalise import Normalise  # noqa: PLC0415 - the passes import this module

    qubits = list(dict.fromkeys(q for _, qs in gates for q in qs))
    circuit = QuantumCircuit(qubits)
    for gate, qs in gates:
        circuit.append(gate, list(qs))
    normalised = PassManager([Normalise()]).run(circuit)
    return [(inner.operation, [qubits[normalised.find_bit(q).index] for q in inner.qubits]) for inner in normalised.data]


def _unitary(gate) -> np.ndarray:
    from qiskit.quantum_info import Operator  # noqa: PLC0415

    return Operator(gate).data


def _special(m: np.ndarray) -> np.ndarray:
    """``m`` times a phase, with determinant 1."""
    return m / np.sqrt(np.linalg.det(m))


def _control_position(m: np.ndarray) -> int:
    for position in (0, 1):
        bit = 1 << position
        rows, cols = np.nonzero(np.abs(m) > _ATOL)
        if np.all((rows & bit) == (cols & bit)):
            return position
    raise DQCError("a gate under a condition on several bits is controlled on neither qubit")  # pragma: no cover


def _power(v: np.ndarray, literals: list[tuple], qubits: tuple, controlled: bool) -> list[tuple]:
    """``v`` (in SU(2); on ``qubits[-1]``, controlled on ``qubits[0]`` if ``controlled``) under ``literals``."""
    if np.allclose(v, np.eye(2), atol=_ATOL) or (not controlled and np.allclose(v, -np.eye(2), atol=_ATOL)):
        return []
    if len(literals) == 1:
        bit, value = literals[0]
        return [conditioned(_gate(v, controlled), qubits, bit, value)]
    a, b = commutator(v)
    first, rest = literals[:1], literals[1:]
    # the operator a b a^-1 b^-1 applies b^-1 first
    return (_power(b.conj().T, rest, qubits, controlled) + _power(a.conj().T, first, qubits, controlled)
            + _power(b, rest, qubits, controlled) + _power(a, first, qubits, controlled))


def _gate(v: np.ndarray, controlled: bool):
    from qiskit.circuit.library import CUGate, UGate  # noqa: PLC0415
    from qiskit.synthesis import OneQubitEulerDecomposer  # noqa: PLC0415

    theta, phi, lam, phase = OneQubitEulerDecomposer("U").angles_and_phase(v)
    return CUGate(theta, phi, lam, phase) if controlled else UGate(theta, phi, lam)


def _rotation(axis: int, angle: float) -> np.ndarray:
    pauli = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])][axis]
    return np.cos(angle / 2) * np.eye(2) - 1j * np.sin(angle / 2) * pauli


def commutator(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` in SU(2) with ``a b a^-1 b^-1 = v`` (``v`` in SU(2))."""
    target = float(np.real(np.trace(v))) / 2

    def group(angle: float) -> np.ndarray:
        a, b = _rotation(0, angle), _rotation(1, angle)
        return a @ b @ a.conj().T @ b.conj().T

    low, high = 0.0, np.pi  # Re tr/2 of the commutator falls from 1 to -1 on [0, pi]
    for _ in range(200):
        middle = (low + high) / 2
        if np.real(np.trace(group(middle))) / 2 > target:
            low = middle
        else:
            high = middle
    angle = (low + high) / 2
    w = group(angle)
    s = _conjugator(w, v)
    a = s @ _rotation(0, angle) @ s.conj().T
    b = s @ _rotation(1, angle) @ s.conj().T
    if not np.allclose(a @ b @ a.conj().T @ b.conj().T, v, atol=1e-7):  # pragma: no cover - a numerical safety net
        raise DQCError("could not write a conditioned gate as a group commutator")
    return a, b


def _conjugator(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A unitary ``s`` with ``s w s^-1 = v`` (same eigenvalues)."""
    if np.allclose(v, v[0, 0] * np.eye(2), atol=1e-9):
        return np.eye(2)
    _, p = _sorted_eig(w)
    _, q = _sorted_eig(v)
    return q @ p.conj().T


def _sorted_eig(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eig(m)
    order = np.argsort(np.angle(values))
    vectors = vectors[:, order]
    q, _ = np.linalg.qr(vectors)  # orthonormal (the eigenvectors of a unitary with distinct eigenvalues are)
    return values[order], q
