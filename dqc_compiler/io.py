"""Reading circuits (OpenQASM 2/3, QPY) and writing results atomically."""

from __future__ import annotations

import contextlib
import errno
import io as _io
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from qiskit import QuantumCircuit, qasm2, qasm3, qpy
from qiskit.circuit import ClassicalRegister, Clbit, ControlFlowOp, IfElseOp

from .errors import DQCError
from .network import read_limited

#: Prefix of the comment line that carries the layout inside an emitted OpenQASM 3 file.
LAYOUT_COMMENT = "// dqc-layout: "


#: Input limits (docs/index.md): a circuit file larger than this is refused before it is read ...
MAX_CIRCUIT_FILE_BYTES = 32 * 1024 * 1024
#: ... and a program that declares more qubits (or classical bits) than this, before it is parsed.
MAX_CIRCUIT_QUBITS = 10_000
#: Deepest chain of ``gate`` definitions calling one another (qiskit copies definitions recursively).
MAX_GATE_NESTING = 64
#: Includes an OpenQASM 2 program may always name (qiskit has them built in).
_BUILTIN_INCLUDES = {"qelib1.inc"}
_INCLUDE = re.compile(r'\binclude\s*"([^"]*)"\s*;')


def load_circuit(path: str | Path, include_path: Sequence[str | Path] = ()) -> QuantumCircuit:
    """Load ``path`` as OpenQASM 2, OpenQASM 3 or QPY (by extension and header).

    OpenQASM 2 uses qiskit's legacy custom instructions, so the usual ``qelib1.inc`` gates
    (``cp``, ``crz``, ``rzz``, ``u``, ``ccx``, ...) and user ``gate`` definitions load.
    An OpenQASM 2 ``include`` may name ``qelib1.inc`` or a file under the input's directory or
    one of ``include_path`` (resolved against those directories); anything else is refused
    with one message that does not tell whether the file exists.
    A distributed circuit written by ``dqc`` keeps its layout in ``circuit.metadata["dqc_layout"]``.
    Classical registers whose names do not survive an OpenQASM 3 round trip (``ß``) are renamed
    to a portable ``esc_...`` form, the same way on every load, so outputs verify against inputs.
    Every failure is a one-line :class:`DQCError` naming the file (and line, for a parse error);
    files over :data:`MAX_CIRCUIT_FILE_BYTES` and programs declaring over
    :data:`MAX_CIRCUIT_QUBITS` qubits are refused before any work.
    """
    path = Path(path)
    if not path.exists():
        raise DQCError(f"{path}: file not found")
    if path.is_dir():
        raise DQCError(f"{path}: is a directory, expected a circuit file")
    try:
        data = read_limited(path, MAX_CIRCUIT_FILE_BYTES)
    except OSError as exc:
        raise DQCError(f"{path}: cannot read ({exc.strerror})") from None
    if path.suffix.lower() == ".qpy":
        return _portable_names(_load_qpy(path, data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DQCError(f"{path}: not a text file (OpenQASM expected; use a .qpy extension for QPY)") from None
    if not _strip_comments(text).strip():
        raise DQCError(f"{path}: empty file, expected an OpenQASM program")
    roots = [path.resolve().parent, *(Path(p).resolve() for p in include_path)]
    circuit = loads_circuit(text, str(path), include_dirs=roots)
    circuit.name = path.stem
    return circuit


def loads_circuit(text: str, source: str = "<string>", include_dirs: Sequence[str | Path] = ()) -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 text; the version comes from the ``OPENQASM`` header (3 when absent).

    OpenQASM 2 ``include`` statements may name ``qelib1.inc`` or files under ``include_dirs``."""
    _check_declared_size(text, source)
    _check_gate_nesting(text, source)
    version = _qasm_version(text)
    try:
        if version == 2:
            roots = [Path(d).resolve() for d in include_dirs]
            _check_includes(text, source, roots, depth=0)
            try:
                circuit = qasm2.loads(text, include_path=[str(r) for r in roots] or (),
                                      custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
            except qasm2.QASM2Error as exc:
                raise DQCError(_qasm2_message(str(exc), source)) from None
        else:
            try:
                circuit = qasm3.loads(_unroll_for_loops(text, source))
            except (RecursionError, DQCError):
                raise
            except Exception as exc:  # the importer raises several unrelated exception types
                raise DQCError(_qasm3_message(exc, text, source)) from None
    except RecursionError:
        raise DQCError(f"{source}: definitions nested too deeply to load") from None
    layout = _layout_from_comment(text, source)
    if layout is not None:
        circuit.metadata = {**(circuit.metadata or {}), "dqc_layout": layout}
    return _portable_names(circuit)


def _check_declared_size(text: str, source: str) -> None:
    """Refuse a program that declares more than :data:`MAX_CIRCUIT_QUBITS` qubits or bits, unparsed."""
    body = _strip_comments(text)
    sizes = {"qubits": 0, "classical bits": 0}
    for kind, size in re.findall(r"\b(qreg|creg)\s+[^\s\[;]+\s*\[\s*(\d+)\s*\]", body):
        sizes["qubits" if kind == "qreg" else "classical bits"] += int(size)
    for kind, size in re.findall(r"\b(qubit|bit)\s*\[\s*(\d+)\s*\]", body):
        sizes["qubits" if kind == "qubit" else "classical bits"] += int(size)
    for what, total in sizes.items():
        if total > MAX_CIRCUIT_QUBITS:
            raise DQCError(f"{source}: declares {total} {what}; at most {MAX_CIRCUIT_QUBITS} are supported")


#: Statements that unrolling OpenQASM 3 ``for`` loops may write out, at most.
MAX_UNROLLED_STATEMENTS = 100_000
_FOR = re.compile(
    r"\bfor\s+(?:u?int(?:\s*\[\s*\d+\s*\])?\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+in\s+"
    r"(?:\[\s*(-?\d+)\s*:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?\]|\{([-\d\s,]+)\})\s*\{((?:[^{}]|\{[^{}]*\})*)\}")


def _unroll_for_loops(text: str, source: str) -> str:
    """``text`` with every ``for`` loop over a constant range or set (``[0:3]``, ``[0:2:8]``,
    ``{1, 4}``; ends inclusive, as OpenQASM 3 says) written out, innermost first; qiskit's importer
    cannot index with a loop variable. A body may hold blocks one level deep (``if (c) { x q[i]; }``).
    Loops over anything else are left for the importer."""
    written = 0
    for _ in range(16):  # nesting depth
        match = _FOR.search(text)
        if not match:
            return text
        parts = []
        while match:
            name, first, second, third, listed, body = match.groups()
            if listed is not None:
                values = [int(v) for v in listed.replace(",", " ").split()]
            else:
                start, step, stop = (int(first), int(second), int(third)) if third else (int(first), 1, int(second))
                if step == 0:
                    raise DQCError(f"{source}:{text.count(chr(10), 0, match.start()) + 1}: 'for' range with step 0")
                count = max(0, (stop - start) // step + 1)
                if written + count * max(1, body.count(";")) > MAX_UNROLLED_STATEMENTS:
                    raise DQCError(f"{source}:{text.count(chr(10), 0, match.start()) + 1}: 'for' loop too long to "
                                   f"unroll (more than {MAX_UNROLLED_STATEMENTS} statements)")
                values = list(range(start, stop + (1 if step > 0 else -1), step))
            written += len(values) * max(1, body.count(";"))
            if written > MAX_UNROLLED_STATEMENTS:
                raise DQCError(f"{source}:{text.count(chr(10), 0, match.start()) + 1}: 'for' loop too long to unroll "
                               f"(more than {MAX_UNROLLED_STATEMENTS} statements)")
            copies = [re.sub(rf"\b{name}\b", f"({v})", body) for v in values]
            # keep the line count, so that later messages still point at the right lines
            parts.append((match.start(), match.end(), " ".join(c.replace("\n", " ") for c in copies)
                          + "\n" * match.group(0).count("\n")))
            match = _FOR.search(text, match.end())
        for start, end, replacement in reversed(parts):
            text = text[:start] + replacement + text[end:]
    return text


def _check_gate_nesting(text: str, source: str) -> None:
    """Refuse ``gate`` definitions nested deeper than :data:`MAX_GATE_NESTING` (a RecursionError later)."""
    depth: dict[str, int] = {}
    body = _strip_comments(text)
    for match in re.finditer(r"\bgate\s+([A-Za-z_][A-Za-z0-9_]*)[^{]*\{([^}]*)\}", body):
        calls = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*[(\s]", match.group(2))
        depth[match.group(1)] = 1 + max((depth.get(c, 0) for c in calls), default=0)
        if depth[match.group(1)] > MAX_GATE_NESTING:
            line = body.count("\n", 0, match.start()) + 1
            raise DQCError(f"{source}:{line}: gate '{match.group(1)}' nests gate definitions "
                           f"{depth[match.group(1)]} deep; at most {MAX_GATE_NESTING} are supported")


def _check_includes(text: str, source: str, roots: list[Path], depth: int) -> None:
    """Refuse OpenQASM 2 includes other than ``qelib1.inc`` and files under ``roots``.

    Names resolve as qiskit resolves them (against each root in turn); a refused include gets the
    same message whether or not the file exists, and nothing of its content is read or shown.
    """
    for match in _INCLUDE.finditer(_strip_comments(text)):
        name = match.group(1)
        if name in _BUILTIN_INCLUDES:
            continue
        line = text.count("\n", 0, text.find(match.group(0))) + 1
        refused = DQCError(
            f"{source}:{line}: include \"{name}\" refused: only qelib1.inc and files under the input's directory "
            "(or under an --include-path directory) may be included")
        found = None
        for root in roots:
            candidate = (root / name).resolve()
            if not any(candidate == r or r in candidate.parents for r in roots):
                raise refused
            if candidate.is_file():
                found = candidate
                break
        if found is None:
            if not roots or Path(name).is_absolute():
                raise refused
            raise DQCError(f"{source}:{line}: include \"{name}\" not found under the input's directory")
        if depth > 8:
            raise DQCError(f"{source}:{line}: includes nested too deeply")
        try:
            inner = read_limited(found, MAX_CIRCUIT_FILE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise DQCError(f"{source}:{line}: include \"{name}\" is not a readable OpenQASM file") from None
        _check_includes(inner, f"{source}:{line}: in \"{name}\"", roots, depth + 1)


def _portable_names(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with every classical register named so that an OpenQASM 3 round trip keeps the name.

    qiskit's exporter and importer escape names outside ``[a-z][A-Za-z0-9_]*`` differently (``ß``
    loads as ``esc_ß``, is written ``_esc__`` and loads back as ``esc__esc__``), so such a name
    becomes ``esc_`` + its ASCII letters and digits with every other character as ``_<hex>_``.
    The mapping is fixed and idempotent, so an input and the compiler's output of it agree.
    Circuits with control flow are returned unchanged (their conditions name the registers).
    """
    bad = [r for r in circuit.cregs if not _PORTABLE.fullmatch(r.name)]
    if not bad or any(isinstance(i.operation, ControlFlowOp) for i in circuit.data):
        return circuit
    taken = {r.name for r in circuit.qregs} | {r.name for r in circuit.cregs}
    renamed: dict[ClassicalRegister, ClassicalRegister] = {}
    for register in bad:
        name = "esc_" + "".join(c if c.isascii() and (c.isalnum() or c == "_") else f"_{ord(c):x}_" for c in register.name)
        while name in taken:
            name += "_"
        taken.add(name)
        renamed[register] = ClassicalRegister(register.size, name)
    new_bit = {old: new for register, fresh in renamed.items() for old, new in zip(register, fresh)}
    out = QuantumCircuit(list(circuit.qubits), [new_bit.get(c, c) for c in circuit.clbits],
                         name=circuit.name, global_phase=circuit.global_phase, metadata=circuit.metadata)
    for register in circuit.qregs:
        out.add_register(register)
    for register in circuit.cregs:
        out.add_register(renamed.get(register, register))
    for instruction in circuit.data:
        out.append(instruction.operation, instruction.qubits, [new_bit.get(c, c) for c in instruction.clbits],
                   copy=False)
    return out


_PORTABLE = re.compile(r"[a-z][A-Za-z0-9_]*")


def _load_qpy(path: Path, data: bytes) -> QuantumCircuit:
    try:
        circuits = qpy.load(_io.BytesIO(data))
    except Exception as exc:  # qpy raises QpyError, struct.error, ValueError ... on corrupt input
        raise DQCError(f"{path}: not a readable QPY file ({_clean(_exception_line(exc))})") from None
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise DQCError(f"{path}: expected exactly one circuit in the QPY file, found {len(circuits)}")
    return circuits[0]


def _clean(message: str, limit: int = 200) -> str:
    """``message`` without control characters (ANSI escapes of a Rust backtrace), at most ``limit`` long."""
    message = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", message)
    message = "".join(c for c in message if c.isprintable())
    return message if len(message) <= limit else message[: limit - 3] + "..."


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
        return f"{source}:{match.group(1)}: {_clean(match.group(3))}"
    located = re.match(r"(.+?):(\d+),(\d+):", message)
    if located:  # in an included file: say where, but nothing of what it holds
        return f"{source}: included file '{Path(located.group(1)).name}' is not valid OpenQASM 2 (line {located.group(2)})"
    return f"{source}: {_clean(message)}"


def _qasm3_message(exc: Exception, text: str, source: str) -> str:
    message = _first_line(str(exc).strip().strip("\"'")) if str(exc) else ""  # QiskitError quotes its message
    loop = re.search(r"^[ \t]*(for|while)\b", _strip_comments(text), re.MULTILINE)
    if loop and not re.match(r"L?\d+[,:]", message):
        line = _strip_comments(text).count("\n", 0, loop.start()) + 1
        return (f"{source}:{line}: '{loop.group(1)}' loops cannot be loaded ({_clean(message) or type(exc).__name__}); "
                "unroll the loop: write its body once per iteration")
    match = re.match(r"L?(\d+)[,:]C?(\d+):\s*(.*)", message)
    if match:
        return f"{source}:{match.group(1)}: {_clean(match.group(3))}"
    located = _qasm3_syntax_error(text)
    if located:
        return f"{source}:{located[0]}: syntax error: {_clean(located[1])}"
    return f"{source}: cannot load OpenQASM 3: {_clean(message) or type(exc).__name__}"


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
    """OpenQASM 3 text of a distributed circuit, with its layout as a leading comment line.
    O(g') for g' operations (qiskit's exporter)."""
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

    layout = (circuit.metadata or {}).get("dqc_layout") or {}
    qpus = {entry.get("qpu") for entry in layout.get("initial", []) if isinstance(entry, dict)}
    for register in circuit.cregs:
        if register.size == 1 or not any(bit in tested for bit in register):
            registers.append(register)
            continue
        if qpus and register.name.rstrip("_") not in {f"{qpu}_m" for qpu in qpus}:
            raise DQCError(f"OpenQASM 2 output: an 'if' tests one bit of the input's register '{register.name}', "
                           "and OpenQASM 2 compares whole registers; write OpenQASM 3 or QPY instead")
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


def serialise_circuit(path: str | Path, circuit: QuantumCircuit, qasm_version: int = 3) -> bytes:
    """The bytes of ``circuit`` as ``path`` asks for: QPY for ``.qpy``, otherwise OpenQASM 3
    (or OpenQASM 2 with ``qasm_version=2``, see :func:`dumps_qasm2`)."""
    if Path(path).suffix.lower() == ".qpy":
        buffer = _io.BytesIO()
        qpy.dump(circuit, buffer)
        return buffer.getvalue()
    return (dumps_qasm2(circuit) if qasm_version == 2 else dumps_qasm3(circuit)).encode()


def circuit_writer(path: str | Path, circuit: QuantumCircuit, qasm_version: int = 3) -> Callable[[], None]:
    """A function that writes ``circuit`` to ``path`` (serialised now, see :func:`serialise_circuit`)."""
    data = serialise_circuit(path, circuit, qasm_version)
    return lambda: write_atomically(path, data)


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`commit_outputs`)."""
    commit_outputs([(path, data)])


# ---------------------------------------------------------------------- committing outputs
#: Why a path cannot be written, before anything is: raised as ``DQCError("PATH: reason")``.
_FILE_KINDS = {stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


@dataclass
class _Output:
    """One output on its way to disk: the user's path (for messages) and where the bytes land."""

    shown: str
    target: Path  # symlinks resolved: the file that is replaced
    data: bytes = b""
    mode: int = 0o644
    direct: bool = False  # a character device or FIFO: written in place, never replaced
    existed: bool = False
    owner: tuple[int, int] | None = None  # (uid, gid) of the file replaced
    tmp: Path | None = None
    backup: Path | None = None


def _identity(path: str | Path) -> tuple | None:
    """What makes two paths the same file: (device, inode) of an existing file (symlinks followed),
    (device, inode of the real parent directory, name) of one still to be created; ``None`` for a
    character device such as ``/dev/null`` (writing it twice loses nothing) or a path that cannot be
    examined."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        real = Path(os.path.realpath(path))
        try:
            parent = os.stat(real.parent)
        except OSError:
            return None
        return ("new", parent.st_dev, parent.st_ino, real.name)
    except OSError:
        return None
    if stat.S_ISCHR(info.st_mode):
        return None
    return (info.st_dev, info.st_ino)


def check_outputs(outputs: Sequence[str | Path], inputs: Sequence[str | Path | tuple[str | Path, str]] = (),
                  stdout_is_output: bool = False) -> None:
    """Refuse, with a one-line :class:`DQCError`, outputs that cannot be written or would lose a file.

    An output may not be one of ``inputs`` (the same file by inode: hard links and symlinks
    count), two outputs may not be the same file, an output's directory must exist, and an output
    may not be a directory, a block device or a socket. A character device (``/dev/null``) is
    written in place and exempt from the same-file rule. With ``stdout_is_output`` (``--json``),
    an output may not be where stdout goes either. An input may be a ``(path, description)`` pair,
    the description naming it in the message. Nothing is written.
    """
    seen: dict[tuple, tuple[str, str]] = {}
    for item in inputs:
        path, label = item if isinstance(item, tuple) else (item, f"the input {item}")
        key = _identity(path)
        if key is not None:
            seen.setdefault(key, ("input", label))
    if stdout_is_output:
        for key in _stdout_identities():
            seen.setdefault(key, ("stdout", ""))
    for path in outputs:
        _plan(path)  # directory exists; not a directory, block device or socket
        keys = [_identity(path)] + (_device_identity(path) if stdout_is_output else [])
        for key in filter(None, keys):
            if key in seen:
                raise DQCError(_clash(str(path), *seen[key]))
        if keys[0] is not None:
            seen[keys[0]] = ("output", str(path))


def _clash(path: str, kind: str, other: str) -> str:
    """The message for an output ``path`` that is the same file as an input, another output or stdout."""
    if kind == "input":
        return (f"{path}: is the input file; refusing to overwrite it" if other == f"the input {path}" else
                f"{path}: is the same file as {other}; refusing to overwrite it")
    if kind == "output":
        return (f"{path}: given for two outputs; give each output its own path" if path == other else
                f"{path}: is the same file as the output {other}; give each output its own path")
    return f"{path}: is standard output, where --json prints the report; refusing to mix them"


def _stdout_identities() -> list[tuple]:
    """Keys under which stdout (fd 1) would clash with an output path."""
    try:
        info = os.fstat(1)
    except OSError:
        return []
    if stat.S_ISCHR(info.st_mode):
        with contextlib.suppress(OSError):
            if info.st_rdev == os.stat(os.devnull).st_rdev:
                return []  # `> /dev/null` and `-o /dev/null` lose nothing
        return [("chr", info.st_rdev)]
    return [(info.st_dev, info.st_ino)]


def _device_identity(path: str | Path) -> list[tuple]:
    try:
        info = os.stat(path)
    except OSError:
        return []
    return [("chr", info.st_rdev)] if stat.S_ISCHR(info.st_mode) else []


def _plan(path: str | Path) -> _Output:
    """Where ``path``'s bytes will go, and with which mode; a :class:`DQCError` if they cannot."""
    shown = str(path)
    try:
        info = os.stat(path)  # follows symlinks: -o LINK writes through to the link's target
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise DQCError(f"{shown}: cannot write ({exc.strerror})") from None
    target = Path(os.path.realpath(path))
    if info is None:
        if not target.parent.is_dir():
            parent = Path(path).parent
            raise DQCError(f"{shown}: directory '{parent if str(parent) else '.'}' does not exist")
        return _Output(shown, target, mode=0o666 & ~_umask())
    kind = stat.S_IFMT(info.st_mode)
    if kind in _FILE_KINDS:
        expected = ", expected a file name" if kind == stat.S_IFDIR else "; refusing to write to it"
        raise DQCError(f"{shown}: is {_FILE_KINDS[kind]}{expected}")
    if not os.access(path, os.W_OK):
        raise DQCError(f"{shown}: cannot write ({os.strerror(errno.EACCES)})")
    direct = kind in (stat.S_IFCHR, stat.S_IFIFO)
    return _Output(shown, Path(shown) if direct else target, mode=stat.S_IMODE(info.st_mode), direct=direct,
                   existed=True, owner=(info.st_uid, info.st_gid))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def commit_outputs(files: Sequence[tuple[str | Path, bytes]],
                   inputs: Sequence[str | Path | tuple[str | Path, str]] = (),
                   directories: Sequence[str | Path] = ()) -> None:
    """Write every file or none: each ``(path, bytes)``, after :func:`check_outputs`.

    All files are first written to temporary files next to their targets (``directories`` are
    created first). Only then is each renamed over its target, the old file kept as a hard link
    until all succeed; if one fails (or Ctrl-C), those already replaced are restored and created
    ones removed, so every pre-existing file is left byte-identical. A symlink is written through
    (the link stays, its target gets the new content); an existing file keeps its permission bits,
    a new one gets ``0666 & ~umask``; a character device or FIFO (``/dev/null``, ``/dev/stdout``) is
    written in place, last. Errors are one-line :class:`DQCError` naming the user's path.
    """
    made: list[Path] = []
    outputs: list[_Output] = []
    try:
        for directory in directories:
            made += _make_directory(Path(directory))
        check_outputs([path for path, _ in files], inputs)
        for path, data in files:
            output = _plan(path)
            output.data = data
            outputs.append(output)
            if not output.direct:
                _prepare(output)
        _commit(outputs)
    except BaseException:
        for output in outputs:
            _discard(output.tmp)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _make_directory(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; the ones created, outermost first."""
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    created = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except OSError as exc:
            for done in reversed(created):
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise DQCError(f"{directory}: cannot create the directory ({exc.strerror})") from None
        created.append(candidate)
    if not directory.is_dir():
        raise DQCError(f"{directory}: is not a directory")
    return created


def _prepare(output: _Output) -> None:
    """Write ``output``'s bytes to a temporary file beside its target, with the target's mode."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.target.name}.", suffix=".dqc-tmp", dir=output.target.parent)
    except OSError as exc:
        raise DQCError(f"{output.shown}: cannot write ({exc.strerror})") from None
    output.tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(output.data)
            handle.flush()
            if output.owner is not None and output.owner != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # keep the owner where allowed (root, or a group of ours)
                    os.fchown(handle.fileno(), *output.owner)
            os.fchmod(handle.fileno(), output.mode)
            os.fsync(handle.fileno())
    except OSError as exc:
        raise DQCError(f"{output.shown}: cannot write ({exc.strerror})") from None


def _commit(outputs: list[_Output]) -> None:
    """Rename every prepared file over its target, then write devices; undo everything on failure."""
    done: list[_Output] = []
    current = outputs[0] if outputs else None
    try:
        for current in [o for o in outputs if not o.direct]:
            if current.existed:
                current.backup = _hard_link_backup(current)
            os.replace(current.tmp, current.target)
            current.tmp = None
            done.append(current)
        for current in [o for o in outputs if o.direct]:
            with open(current.shown, "wb") as handle:
                handle.write(current.data)
    except BaseException as exc:
        if (current is not None and current not in done and not current.direct and current.tmp is not None
                and not os.path.lexists(current.tmp)):
            done.append(current)  # interrupted just after its rename: undo that one too
        failed = _roll_back(done)
        if current is not None and current.backup is not None and current not in done:
            _discard(current.backup)
        if isinstance(exc, OSError):
            undo = "; no file was changed" if not failed else f"; could not restore {', '.join(failed)}"
            raise DQCError(f"{current.shown}: cannot write ({exc.strerror or exc}){undo}") from None
        raise
    for output in done:
        _discard(output.backup)


def _hard_link_backup(output: _Output) -> Path:
    """Keep the old file under a temporary name (a hard link, else a copy) until the commit is done."""
    for _ in range(100):
        backup = output.target.with_name(f".{output.target.name}.{os.urandom(4).hex()}.dqc-old")
        try:
            os.link(output.target, backup)
            return backup
        except FileExistsError:
            continue
        except OSError:
            shutil.copy2(output.target, backup)
            return backup
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(output.target))


def _roll_back(done: list[_Output]) -> list[str]:
    """Put back the files that ``done`` replaced (remove the ones it created); the paths that failed."""
    failed = []
    for output in reversed(done):
        try:
            if output.backup is not None:
                os.replace(output.backup, output.target)
                output.backup = None
            else:
                os.unlink(output.target)
        except OSError:
            failed.append(output.shown)
    return failed


def _discard(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


# ---------------------------------------------------------------------- messages quoted from libraries
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_DECORATION = re.compile(r"^[\s\u2500-\u257f\u2580-\u259f]*(?:Backtrace)?[\s\u2500-\u257f\u2580-\u259f]*$")


def _exception_line(exc: BaseException) -> str:
    """``exc`` as one clean line: ``Type: message`` without terminal escapes, backtrace frames or
    decoration (qiskit's Rust QPY reader embeds a coloured backtrace in its message)."""
    text = _ANSI.sub("", str(exc.args[0]) if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc))
    parts = []
    for line in text.splitlines():
        line = re.sub(r"^\s*\d+:\s*", "", line).strip()
        if not line or _DECORATION.match(line) or re.match(r"at \S+:\d+$", line):
            continue
        parts.append(line.removeprefix("Error: "))
    message = " ".join(parts).replace(": While", ", while").replace(" While", ", while")
    message = "".join(ch if ch.isprintable() else " " for ch in message)
    return f"{type(exc).__name__}: {message or 'no message'}"
