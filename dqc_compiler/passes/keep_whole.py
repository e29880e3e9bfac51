"""Keep two-qubit gates whole by their matrix: controlled or operator-Schmidt rank 2 -> one basis gate."""

from __future__ import annotations

import cmath
import math

import numpy as np
from qiskit.circuit import Gate, QuantumCircuit
from qiskit.circuit.library import (
    CCXGate,
    CCZGate,
    CPhaseGate,
    CRXGate,
    CUGate,
    CXGate,
    CZGate,
    PhaseGate,
    UGate,
    get_standard_gate_name_mapping,
)
from qiskit.converters import circuit_to_dag
from qiskit.dagcircuit import DAGCircuit
from qiskit.quantum_info import Operator
from qiskit.synthesis import OneQubitEulerDecomposer, TwoQubitWeylDecomposition
from qiskit.transpiler.basepasses import TransformationPass

from ..gates import BASIS, BASIS_3Q, block_diagonal_on, op_key

_ATOL = 1e-9
_EULER = OneQubitEulerDecomposer("U")
_H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
_STANDARD = get_standard_gate_name_mapping()

#: A gate's whole form: the gates that replace it (operation, qubit positions) and the global phase.
Form = tuple[tuple[tuple[Gate, tuple[int, ...]], ...], float]


class KeepGatesWhole(TransformationPass):
    """Replace each two-qubit gate outside :data:`~dqc_compiler.gates.BASIS` by its *whole form*.

    The decision is made from the gate's matrix, whatever its name (``cu1``, ``cu3``, ``mcphase``,
    ``ecr``, ``rzx``, a user ``gate``, a 4x4 ``unitary``):

    * **controlled** (block-diagonal on one qubit c in Z: ``|0><0| ⊗ A + |1><1| ⊗ B``): ``A`` on the
      other qubit, then one controlled gate ``C-(B A†)`` (``cp``/``cz`` when diagonal, ``cx``/``crx``
      when diagonal in X, else ``cu``), plus a ``p`` on c for a phase — nothing else touches c;
    * **operator-Schmidt rank 2** (Weyl coordinates b = c = 0, e.g. ``rxx``): one-qubit gates on the
      side whose local basis change is simplest, around the controlled form above;
    * **rank 1** (a product of one-qubit gates): those gates, no two-qubit gate at all;
    * anything else (``swap``, ``iswap``, generic SU(4)) is left to qiskit's decomposition.

    With ``keep_multi``, a three-qubit gate whose matrix is exactly ``ccz`` or a ``ccx`` (any target)
    becomes that gate. Every replacement is checked against the original matrix, global phase
    included (atol 1e-9), and the phase is added to the circuit's; a check that fails keeps the gate.
    Forms are cached by operation key for qiskit's standard gates and by matrix for the rest.
    """

    def __init__(self, keep_multi: bool = False):
        super().__init__()
        self.keep_multi = keep_multi

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        for node in list(dag.op_nodes()):
            if node.name in BASIS or node.name in BASIS_3Q or not isinstance(node.op, Gate):
                continue
            width = len(node.qargs)
            if width == 2 or (width == 3 and self.keep_multi):
                form = whole_form(node.op)
                if form is not None:
                    dag.substitute_node_with_dag(node, _form_dag(form, width))
        return dag


def whole_form(op: Gate) -> Form | None:
    """The gates that implement ``op`` kept whole, or None when it cannot be kept whole."""
    key = _cache_key(op)
    if key is not None and key in _FORMS:
        return _FORMS[key]
    try:
        m = Operator(op).data
    except Exception:  # noqa: BLE001 - no matrix (free parameters, opaque gate): leave it to Normalise
        return None
    if key is None:
        key = ("matrix", m.shape[0], np.round(m, 12).tobytes())
        if key in _FORMS:
            return _FORMS[key]
    form = form_of_matrix(m)
    if len(_FORMS) < 65536:
        _FORMS[key] = form
    return form


_FORMS: dict[tuple, Form | None] = {}


def _cache_key(op: Gate) -> tuple | None:
    reference = _STANDARD.get(op.name)
    if reference is not None and type(op) is type(reference):
        return ("standard", *op_key(op))
    return None


def form_of_matrix(m: np.ndarray) -> Form | None:
    """:func:`whole_form` of a 4x4 or 8x8 unitary (qiskit's little-endian qubit order)."""
    if m.shape == (8, 8):
        form = _three_qubit_form(m)
    else:
        form = _controlled_form(m) or _schmidt_rank_2_form(m)
    if form is None or not np.allclose(_form_matrix(form, int(math.log2(m.shape[0]))), m, atol=_ATOL):
        return None
    return form


def _controlled_form(m: np.ndarray, control: int | None = None) -> Form | None:
    """Block-diagonal on a qubit (``control``, else the first that is): locals on the other qubit only,
    one controlled gate, a phase on the control."""
    controls = [c for c in (0, 1) if block_diagonal_on(m, c) and control in (None, c)]
    if not controls:
        return None
    control = controls[0]
    target = 1 - control
    index = [0, 2] if control == 0 else [0, 1]  # the target's two states with the control at |0>
    a = m[np.ix_(index, index)]
    shifted = [i + (1 << control) for i in index]
    b = m[np.ix_(shifted, shifted)]
    gates, phase = _one_qubit(a, target)
    more, more_phase = _controlled(b @ a.conj().T, control, target)
    return gates + more, phase + more_phase


def _one_qubit(u: np.ndarray, qubit: int) -> Form:
    """``u`` as ``p`` (diagonal) or ``u`` on ``qubit``, nothing for a phase alone."""
    if abs(u[0, 1]) < _ATOL and abs(u[1, 0]) < _ATOL:
        phase = cmath.phase(u[0, 0])
        lam = cmath.phase(u[1, 1]) - phase
        return ((((PhaseGate(lam), (qubit,)),) if not _is_zero(lam) else ()), phase)
    theta, phi, lam, phase = _EULER.angles_and_phase(u)
    return (((UGate(theta, phi, lam), (qubit,)),), phase)


def _controlled(v: np.ndarray, control: int, target: int) -> Form:
    """``|0><0| ⊗ I + |1><1| ⊗ v``: ``cp``/``cz``, ``cx``/``crx`` or ``cu``, with ``p`` on the control for a phase."""
    pair = (control, target)
    rotated = _H @ v @ _H
    for w, x_basis in ((v, False), (rotated, True)):
        if abs(w[0, 1]) < _ATOL and abs(w[1, 0]) < _ATOL:
            alpha = cmath.phase(w[0, 0])
            angle = _wrap(cmath.phase(w[1, 1]) - alpha)
            if _is_zero(angle):
                gate = None
            elif x_basis and _is_zero(angle - math.pi):
                gate = CXGate()
            elif x_basis:  # w = e^{i alpha} diag(1, e^{i angle}) makes v = e^{i (alpha + angle / 2)} rx(angle)
                alpha += angle / 2
                if _is_zero(_wrap(alpha) - math.pi):  # rx(angle + 2 pi) = -rx(angle): no phase on the control
                    alpha, angle = 0.0, angle + 2 * math.pi
                gate = CRXGate(angle)
            else:
                gate = CZGate() if _is_zero(angle - math.pi) else CPhaseGate(angle)
            gates = ((gate, pair),) if gate is not None else ()
            if not _is_zero(_wrap(alpha)):
                gates = ((PhaseGate(_wrap(alpha)), (control,)),) + gates
            return gates, 0.0
    theta, phi, lam, gamma = _EULER.angles_and_phase(v)
    return (((CUGate(theta, phi, lam, gamma), pair),), 0.0)


def _schmidt_rank_2_form(m: np.ndarray) -> Form | None:
    """Weyl coordinates (a, 0, 0): ``exp(i a XX)`` is controlled in X on either qubit, so a basis change on
    one qubit makes the whole gate controlled on it; the qubit whose changes are simplest is chosen."""
    try:
        weyl = TwoQubitWeylDecomposition(m)
    except Exception:  # noqa: BLE001 - qiskit refuses the matrix (not unitary enough): keep the old path
        return None
    if not (_is_zero(weyl.b) and _is_zero(weyl.c)):
        return None
    best = None
    for control in (0, 1):
        k1 = weyl.K1r if control == 0 else weyl.K1l  # np.kron(K1l, K1r): K1r acts on qubit 0
        k2 = weyl.K2r if control == 0 else weyl.K2l
        after, before = k1 @ _H, _H @ k2
        lifted = [_lift(before.conj().T, control), _lift(after.conj().T, control)]
        core = lifted[1] @ m @ lifted[0]
        inner = _controlled_form(core, control)
        if inner is None:
            continue
        pre, pre_phase = _one_qubit(before, control)
        post, post_phase = _one_qubit(after, control)
        form = (pre + inner[0] + post, pre_phase + inner[1] + post_phase)
        score = sum(1 for gate, _ in form[0] if gate.num_qubits == 1 and gate.name != "p")
        if best is None or score < best[0]:
            best = (score, form)
    return best[1] if best is not None else None


def _lift(u: np.ndarray, qubit: int) -> np.ndarray:
    return np.kron(np.eye(2), u) if qubit == 0 else np.kron(u, np.eye(2))


def _three_qubit_form(m: np.ndarray) -> Form | None:
    """Exactly ``ccz``, or ``ccx`` with some target (up to a global phase): that gate."""
    candidates = [(CCZGate(), (0, 1, 2))] + [(CCXGate(), tuple(sorted({0, 1, 2} - {t})) + (t,)) for t in (0, 1, 2)]
    for gate, qubits in candidates:
        reference = _form_matrix((((gate, qubits),), 0.0), 3)
        ratio = m[0, 0] / reference[0, 0]
        if abs(abs(ratio) - 1) < _ATOL and np.allclose(m, ratio * reference, atol=_ATOL):
            return (((gate, qubits),), cmath.phase(ratio))
    return None


def _form_matrix(form: Form, width: int) -> np.ndarray:
    return Operator(_form_circuit(form, width)).data


def _form_circuit(form: Form, width: int) -> QuantumCircuit:
    gates, phase = form
    circuit = QuantumCircuit(width, global_phase=phase)
    for gate, qubits in gates:
        circuit.append(gate, qubits)
    return circuit


def _form_dag(form: Form, width: int) -> DAGCircuit:
    return circuit_to_dag(_form_circuit(form, width))


def _wrap(angle: float) -> float:
    """``angle`` in (-pi, pi]."""
    wrapped = math.remainder(angle, 2 * math.pi)
    return math.pi if _is_zero(wrapped + math.pi) else wrapped


def _is_zero(angle: float) -> bool:
    return abs(math.remainder(angle, 2 * math.pi)) < _ATOL
