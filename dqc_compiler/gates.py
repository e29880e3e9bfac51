"""Gate facts decided from matrices, not names: diagonality and the basis a gate is controlled in."""

from __future__ import annotations

import functools

import numpy as np
from qiskit.circuit import Gate, Instruction, QuantumCircuit
from qiskit.quantum_info import Operator

_ATOL = 1e-9

#: One-qubit gates kept by normalisation (qiskit standard gates that Aer and OpenQASM 3 know).
BASIS_1Q = ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "rx", "ry", "rz", "p", "u", "r")
#: Two-qubit gates kept whole: each is controlled (block-diagonal) on at least one of its qubits,
#: so one cat-entangled copy of that qubit can implement it. Any other two-qubit gate that is
#: controlled, or of operator-Schmidt rank 2, is rewritten into one of these by its matrix (plus
#: one-qubit gates) by :class:`~dqc_compiler.passes.keep_whole.KeepGatesWhole`.
BASIS_2Q = ("cx", "cy", "cz", "ch", "cp", "crx", "cry", "crz", "cu", "csx", "cs", "csdg", "rzz")
BASIS = BASIS_1Q + BASIS_2Q
#: Gates on three qubits kept whole at optimisation level 2 and up: every qubit of each is
#: controlled in some basis (the controls in Z, a ``ccx`` target in X), so the QPU that applies it
#: needs one cat-entangled copy per remote qubit — 1 ebit for a Toffoli with both controls together.
#: A three-qubit gate of another name whose matrix is exactly one of them (``mcphase(pi)``) becomes it.
BASIS_3Q = ("ccx", "ccz")


def has_synthesis(op: Instruction) -> bool:
    """True when ``op`` has no definition but qiskit's high-level synthesis can build it
    (``PermutationGate``, ``Clifford``, ``LinearFunction``, ``PauliEvolutionGate``, ...)."""
    return bool(_synthesis_plugins().method_names(op.name)) and getattr(op, "definition", None) is None


@functools.cache
def _synthesis_plugins():
    """qiskit's high-level-synthesis plugin manager, built once (it reads the installed entry points)."""
    from qiskit.transpiler.passes.synthesis.plugin import HighLevelSynthesisPluginManager  # noqa: PLC0415

    return HighLevelSynthesisPluginManager()


class EPRGate(Gate):
    """Creates a Bell pair between two comm qubits: ``h a; cx a, b;`` — the only cross-QPU operation."""

    def __init__(self):
        super().__init__("epr", 2, [])

    def _define(self):
        qc = QuantumCircuit(2, name="epr")
        qc.h(0)
        qc.cx(0, 1)
        self.definition = qc


def op_key(op: Instruction) -> tuple:
    """A hashable key for an operation: name, width and parameters."""
    return (op.name, op.num_qubits, tuple(float(p) if _is_number(p) else repr(p) for p in op.params))


def cache_key(op: Instruction) -> tuple:
    """A hashable key for what ``op`` does, for caches shared across circuits.

    :func:`op_key` for qiskit's standard gate classes (their name and parameters fix the matrix).
    Any other operation is also keyed by its class and its definition, gate by gate: two
    user-defined gates that share a name and parameters but not a body (``gate g a, b { cx a, b; }``
    here, ``{ cz a, b; }`` in another circuit) get different keys. An array parameter (a
    ``unitary``'s matrix) is keyed by its bytes, not by its printed, rounded form.
    """
    key = op_key(op)
    reference = _standard().get(op.name)
    if reference is not None and type(op) is type(reference):
        return key
    params = tuple(p.tobytes() if isinstance(p, np.ndarray) else None for p in op.params)
    try:
        definition = op.definition
    except Exception:  # noqa: BLE001 - an operation whose body cannot be built is keyed without one
        definition = None
    body = None
    if definition is not None:
        body = (definition.num_qubits, float(definition.global_phase) if _is_number(definition.global_phase) else
                repr(definition.global_phase), tuple(
                    (cache_key(inner.operation), tuple(definition.find_bit(q).index for q in inner.qubits))
                    for inner in definition.data))
    return (*key, type(op).__qualname__, params, body)


@functools.cache
def _standard() -> dict:
    """qiskit's standard gates by name (built once; read-only)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping  # noqa: PLC0415

    return get_standard_gate_name_mapping()


def node_key(node) -> tuple:
    """:func:`op_key` of a DAG node's operation, read without building the operation object."""
    return (node.name, len(node.qargs), tuple(float(p) if _is_number(p) else repr(p) for p in node.params))


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def matrix(op: Instruction) -> np.ndarray:
    """The unitary of ``op`` (cached by :func:`cache_key`: a user gate's body is part of the key)."""
    return _matrix_cached(cache_key(op), op)


_MATRICES: dict[tuple, np.ndarray] = {}


def _matrix_cached(key: tuple, op: Instruction) -> np.ndarray:
    found = _MATRICES.get(key)
    if found is None:
        found = Operator(op).data
        if len(_MATRICES) < 65536:
            _MATRICES[key] = found
    return found


def is_diagonal(op: Instruction) -> bool:
    """True when ``op``'s matrix is diagonal in the computational basis."""
    m = matrix(op)
    return bool(np.allclose(m, np.diag(np.diag(m)), atol=_ATOL))


def controlled_on(op: Instruction, position: int) -> bool:
    """True when ``op`` is block-diagonal on its qubit ``position`` (Z basis).

    Such a gate commutes with Z on that qubit, so a cat-entangled copy of the qubit can stand in
    for it on another QPU. Qiskit orders matrix indices little-endian: qubit ``position`` is bit
    ``position`` of the index.
    """
    return block_diagonal_on(matrix(op), position)


def block_diagonal_on(m: np.ndarray, position: int) -> bool:
    """:func:`controlled_on` for a matrix ``m``: no entry couples the two states of qubit ``position``."""
    bit = 1 << position
    rows, cols = np.nonzero(np.abs(m) > _ATOL)
    return bool(np.all((rows & bit) == (cols & bit))) and m.shape[0] > bit
