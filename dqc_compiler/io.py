"""Reading circuits (OpenQASM 2/3, QPY) and writing results atomically."""

from __future__ import annotations

import io as _io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

from qiskit import QuantumCircuit, qasm2, qasm3, qpy
from qiskit.circuit import ClassicalRegister, Clbit, IfElseOp

from .errors import DQCError

#: Prefix of the comment line that carries the layout inside an emitted OpenQASM 3 file.
LAYOUT_COMMENT = "// dqc-layout: "


def load_circuit(path: str | Path) -> QuantumCircuit:
    """Load ``path`` as OpenQASM 2, OpenQASM 3 or QPY (by extension and header).

    OpenQASM 2 uses qiskit's legacy custom instructions, so the usual ``qelib1.inc`` gates
    (``cp``, ``crz``, ``rzz``, ``u``, ``ccx``, ...) and user ``gate`` definitions load.
    A distributed circuit written by ``dqc`` keeps its layout in ``circuit.metadata["dqc_layout"]``.
    Every failure is a one-line :class:`DQCError` naming the file (and line, for a parse error).
    """
    path = Path(path)
    if not path.exists():
        raise DQCError(f"{path}: file not found")
    if path.is_dir():
        raise DQCError(f"{path}: is a directory, expected a circuit file")
    if path.suffix.lower() == ".qpy":
        return _load_qpy(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise DQCError(f"{path}: not a text file (OpenQASM expected; use a .qpy extension for QPY)") from None
    except OSError as exc:
        raise DQCError(f"{path}: cannot read ({exc.strerror})") from None
    if not _strip_comments(text).strip():
        raise DQCError(f"{path}: empty file, expected an OpenQASM program")
    circuit = loads_circuit(text, str(path))
    circuit.name = path.stem
    return circuit


def loads_circuit(text: str, source: str = "<string>") -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 text; the version comes from the ``OPENQASM`` header (3 when absent)."""
    version = _qasm_version(text)
    if version == 2:
        try:
            circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        except qasm2.QASM2Error as exc:
            raise DQCError(_qasm2_message(str(exc), source)) from None
    else:
        try:
            circuit = qasm3.loads(text)
        except Exception as exc:  # the importer raises several unrelated exception types
            raise DQCError(_qasm3_message(exc, text, source)) from None
    layout = _layout_from_comment(text, source)
    if layout is not None:
        circuit.metadata = {**(circuit.metadata or {}), "dqc_layout": layout}
    return circuit


def _load_qpy(path: Path) -> QuantumCircuit:
    try:
        with path.open("rb") as handle:
            circuits = qpy.load(handle)
    except Exception as exc:  # qpy raises QpyError, struct.error, ValueError ... on corrupt input
        raise DQCError(f"{path}: not a readable QPY file ({type(exc).__name__}: {_first_line(str(exc))})") from None
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise DQCError(f"{path}: expected exactly one circuit in the QPY file, found {len(circuits)}")
    return circuits[0]


def _qasm_version(text: str) -> int:
    match = re.search(r"^\s*OPENQASM\s+([0-9]+)(\.[0-9]+)?\s*;", _strip_comments(text), re.MULTILINE)
    return int(match.group(1)) if match else 3


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def _qasm2_message(message: str, source: str) -> str:
    message = _first_line(message.strip("\"'"))
    match = re.match(r"<input>:(\d+),(\d+):\s*(.*)", message)
    if match:
        return f"{source}:{match.group(1)}: {match.group(3)}"
    return f"{source}: {message}"


def _qasm3_message(exc: Exception, text: str, source: str) -> str:
    message = _first_line(str(exc).strip().strip("\"'")) if str(exc) else ""  # QiskitError quotes its message
    match = re.match(r"L?(\d+)[,:]C?(\d+):\s*(.*)", message)
    if match:
        return f"{source}:{match.group(1)}: {match.group(3)}"
    located = _qasm3_syntax_error(text)
    if located:
        return f"{source}:{located[0]}: syntax error: {located[1]}"
    return f"{source}: cannot load OpenQASM 3: {message or type(exc).__name__}"


def _qasm3_syntax_error(text: str) -> tuple[int, str] | None:
    """Line and message of the first OpenQASM 3 syntax error (the importer does not say)."""
    try:
        from antlr4 import CommonTokenStream, InputStream
        from antlr4.error.ErrorListener import ErrorListener
        from openqasm3 import parser as oq3
    except ImportError:  # pragma: no cover - openqasm3 comes with qiskit-qasm3-import
        return None

    class _First(ErrorListener):
        first: tuple[int, str] | None = None

        def syntaxError(self, recognizer, offending, line, column, msg, exc):  # noqa: N802 (ANTLR API)
            if self.first is None:
                self.first = (line, msg)

    listener = _First()
    lexer = oq3.qasm3Lexer(InputStream(text))
    parser = oq3.qasm3Parser(CommonTokenStream(lexer))
    for recogniser in (lexer, parser):
        recogniser.removeErrorListeners()
        recogniser.addErrorListener(listener)
    try:
        parser.program()
    except Exception:  # noqa: BLE001 - only the listener's first error matters
        pass
    return listener.first


def _layout_from_comment(text: str, source: str) -> dict | None:
    for line in text.splitlines():
        if line.startswith(LAYOUT_COMMENT):
            try:
                return json.loads(line[len(LAYOUT_COMMENT):])
            except json.JSONDecodeError:
                raise DQCError(f"{source}: malformed '{LAYOUT_COMMENT.strip()}' comment") from None
    return None


# ---------------------------------------------------------------------- writing
def dumps_qasm3(circuit: QuantumCircuit) -> str:
    """OpenQASM 3 text of a distributed circuit, with its layout as a leading comment line."""
    return _with_layout_comment(qasm3.dumps(circuit), circuit)


def dumps_qasm2(circuit: QuantumCircuit) -> str:
    """OpenQASM 2 text of a distributed circuit, with its layout as a leading comment line.

    OpenQASM 2 conditions compare a whole register with an integer and guard one gate
    (``if(c==1) x q[0];``). So every classical bit that an ``if`` tests is given a one-bit register
    of its own (``qpu0_m`` bit 3 becomes ``creg qpu0_m3[1];``), each condition tests that register,
    and an ``if`` body of several gates becomes one ``if`` per gate (the tested bit cannot change in
    between). Registers whose bits no ``if`` tests (the input's, for the final measurements) are
    kept as they are. ``qiskit.qasm2.loads`` reads the file back with ``IfElseOp`` conditions on
    those one-bit registers; :func:`load_circuit` also restores the layout. Raises
    :class:`DQCError` for what OpenQASM 2 cannot say (an ``else`` branch, a condition on several
    bits, a measurement or reset inside an ``if``).
    """
    return _with_layout_comment(qasm2.dumps(_one_bit_conditions(circuit)).rstrip("\n") + "\n", circuit)


def _with_layout_comment(text: str, circuit: QuantumCircuit) -> str:
    """``text`` with the circuit's ``dqc_layout`` metadata as a comment after the header line."""
    layout = (circuit.metadata or {}).get("dqc_layout")
    if layout is None:
        return text
    header, _, rest = text.partition("\n")
    return f"{header}\n{LAYOUT_COMMENT}{json.dumps(layout, separators=(',', ':'))}\n{rest}"


def _one_bit_conditions(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with each tested bit in a one-bit register and one gate per ``if`` (see :func:`dumps_qasm2`)."""
    tested: set[Clbit] = set()
    for instruction in circuit.data:
        op = instruction.operation
        if isinstance(op, IfElseOp):
            target, value = op.condition
            if not isinstance(target, Clbit) and not (isinstance(target, ClassicalRegister) and target.size == 1):
                raise DQCError(f"OpenQASM 2 output: an 'if' tests {target.size} bits; only one-bit conditions are written")
            if len(op.blocks) > 1 and op.blocks[1] is not None:
                raise DQCError("OpenQASM 2 output: OpenQASM 2 has no 'else' branch")
            tested.add(target if isinstance(target, Clbit) else target[0])
    names = {r.name for r in circuit.qregs} | {r.name for r in circuit.cregs}
    new_bit: dict[Clbit, Clbit] = {}
    registers: list[ClassicalRegister] = []

    def own_register(bit: Clbit, name: str) -> None:
        while name in names:
            name += "_"
        names.add(name)
        single = ClassicalRegister(1, name)
        registers.append(single)
        new_bit[bit] = single[0]

    for register in circuit.cregs:
        if register.size == 1 or not any(bit in tested for bit in register):
            registers.append(register)
            continue
        for index, bit in enumerate(register):
            own_register(bit, f"{register.name}{index}")
    for bit in circuit.clbits:  # OpenQASM 2 has no loose bits: a register for each
        if not circuit.find_bit(bit).registers:
            own_register(bit, "c_loose")
    out = QuantumCircuit(*circuit.qregs, *registers, name=circuit.name, global_phase=circuit.global_phase)
    out.metadata = dict(circuit.metadata or {})
    register_of = {r[0]: r for r in registers if r.size == 1}
    for instruction in circuit.data:
        op = instruction.operation
        clbits = [new_bit.get(bit, bit) for bit in instruction.clbits]
        if not isinstance(op, IfElseOp):
            out.append(op, instruction.qubits, clbits, copy=False)
            continue
        target, value = op.condition
        bit = new_bit.get(target if isinstance(target, Clbit) else target[0], target if isinstance(target, Clbit) else target[0])
        register = register_of[bit]
        body = op.blocks[0]
        where = dict(zip(body.qubits, instruction.qubits))
        for inner in body.data:
            if inner.operation.name in ("measure", "reset") or isinstance(inner.operation, IfElseOp) or inner.clbits:
                raise DQCError(f"OpenQASM 2 output: '{inner.operation.name}' inside an 'if' cannot be written")
            qubits = [where[q] for q in inner.qubits]
            gate_body = QuantumCircuit(qubits, [bit])
            gate_body.append(inner.operation, qubits)
            out.append(IfElseOp((register, int(value)), gate_body), qubits, [bit])
    return out


def circuit_writer(path: str | Path, circuit: QuantumCircuit, qasm_version: int = 3) -> Callable[[], None]:
    """A function that writes ``circuit`` to ``path``: QPY for ``.qpy``, otherwise OpenQASM 3
    (or OpenQASM 2 with ``qasm_version=2``, see :func:`dumps_qasm2`)."""
    path = Path(path)
    if path.suffix.lower() == ".qpy":
        buffer = _io.BytesIO()
        qpy.dump(circuit, buffer)
        data = buffer.getvalue()
        return lambda: write_atomically(path, data)
    text = dumps_qasm2(circuit) if qasm_version == 2 else dumps_qasm3(circuit)
    return lambda: write_atomically(path, text.encode())


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a failure leaves no half-written file."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise DQCError(f"{path}: directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
