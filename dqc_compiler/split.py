"""Per-QPU programs: split a distributed circuit into what each QPU's control system runs, and back.

A QPU's program holds its own register (data qubits, then comm qubits), every classical register
of the distributed circuit, and its operations in schedule order. Where the circuit has an
``epr``, each end's program has an ``epr_half`` on its comm qubit: "receive one half of the next
ebit shared with that QPU". ``messages.json`` lists every ebit request and every classical
message (a measured bit another QPU's ``if`` reads — a protocol's, or one of the input's own
mid-circuit measurements; one message per value of the bit): who, which qubits or bits, after
which operation of the sender's program, before which of the receiver's, and when.
:func:`assemble` runs the programs against the messages, like a network would, and rebuilds one
circuit: the test that the split is complete.
"""

from __future__ import annotations

import json
from pathlib import Path

from qiskit import qasm3
from qiskit.circuit import ClassicalRegister, Gate, QuantumCircuit

from .errors import DQCError
from .gates import EPRGate
from .io import commit_outputs
from .network import Network

MESSAGES_SCHEMA = 1


class EPRHalfGate(Gate):
    """One end of an ``epr``: this comm qubit receives half of the next ebit with the peer QPU."""

    def __init__(self):
        super().__init__("epr_half", 1, [])

    def _define(self):
        self.definition = QuantumCircuit(1, name="epr_half")


def split_programs(circuit: QuantumCircuit, timeline: list, network: Network) -> tuple[dict, dict]:
    """``({qpu name: QuantumCircuit}, messages)`` for a distributed circuit and its schedule
    (``property_set["dqc_timeline"]``, in start order)."""
    names = [q.name for q in network.qpus]
    registers = {r.name: r for r in circuit.qregs}
    programs = {}
    for name in names:
        program = QuantumCircuit(name=f"{circuit.name}_{name}")
        if name in registers:
            program.add_register(registers[name])
        for creg in circuit.cregs:
            program.add_register(creg)
        programs[name] = program
    owner = {q: circuit.find_bit(q).registers[0][0].name for q in circuit.qubits}
    measured: dict = {}  # clbit -> (QPU name, index of the measure in its program, time)
    ebits, messages, sent = [], [], set()
    for slot in timeline:
        if slot.name == "barrier":
            for name in {owner[q] for q in slot.qargs}:
                local = [q for q in slot.qargs if owner[q] == name]
                programs[name].append(slot.op.__class__(len(local)), local)
            continue
        if slot.name == "epr":
            ends = []
            for q in slot.qargs:
                program = programs[owner[q]]
                program.append(EPRHalfGate(), [q])
                ends.append({"qpu": owner[q], "qubit": _bit_name(circuit, q), "op": len(program.data) - 1})
            ebits.append({"id": len(ebits), "between": ends, "time": slot.start, "ready": slot.end})
            continue
        name = owner[slot.qargs[0]]
        program = programs[name]
        if slot.name != "measure":
            for bit in slot.cargs:
                source = measured.get(bit)
                if source is not None and source[0] != name and (bit, name, source[1]) not in sent:
                    sent.add((bit, name, source[1]))
                    messages.append({
                        "id": len(messages), "from": source[0], "to": name, "bit": _bit_name(circuit, bit),
                        "after": source[1], "before": len(program.data), "time": source[2],
                        "arrives": source[2] + network.classical_latency(network.index(source[0]), network.index(name)),
                    })
        program.append(slot.op, slot.qargs, slot.cargs, copy=False)
        if slot.name == "measure":
            measured[slot.cargs[0]] = (name, len(program.data) - 1, slot.end)
    return programs, {"schema": MESSAGES_SCHEMA, "qpus": names, "ebits": ebits, "messages": messages}


def _bit_name(circuit: QuantumCircuit, bit) -> str:
    located = circuit.find_bit(bit)
    if not located.registers:
        return f"${located.index}"
    register, index = located.registers[0]
    return f"{register.name}[{index}]"


def split_files(programs: dict, messages: dict) -> dict[str, str]:
    """The files of a split: ``<qpu>.qasm`` (OpenQASM 3) for every QPU, and ``messages.json``."""
    texts = {f"{name}.qasm": qasm3.dumps(program) for name, program in programs.items()}
    texts["messages.json"] = json.dumps(messages, indent=2) + "\n"
    return texts


def write_split(directory: str | Path, texts: dict[str, str]) -> list[Path]:
    """Write the :func:`split_files` into ``directory`` (created if missing): all of them or, on an
    error, none (see :func:`dqc_compiler.io.commit_outputs`)."""
    directory = Path(directory)
    files = [(directory / filename, text.encode()) for filename, text in texts.items()]
    commit_outputs(files, directories=[directory])
    return [path for path, _ in files]


def read_split(directory: str | Path) -> tuple[dict, dict]:
    """Load what :func:`write_split` wrote."""
    directory = Path(directory)
    try:
        messages = json.loads((directory / "messages.json").read_text())
        programs = {
            name: qasm3.loads((directory / f"{name}.qasm").read_text()) for name in messages["qpus"]
        }
    except (OSError, ValueError, KeyError) as exc:
        raise DQCError(f"{directory}: not a complete --split directory ({exc})") from None
    return programs, messages


def assemble(programs: dict, messages: dict) -> QuantumCircuit:
    """Run the per-QPU programs as a network would and record one circuit.

    Each program advances while it can: an ``if`` on a bit another QPU measured waits for that
    message (its sender past the ``after`` operation); an ``epr_half`` waits until the peer reaches
    the matching half of the same ebit, and the two become one ``epr``. Raises :class:`DQCError`
    when the programs stall (a missing message or ebit) or a message names no measurement.
    """
    return _Assembly(programs, messages).run()


class _Assembly:
    """The state of :func:`assemble`: where each program stands and the circuit recorded so far."""

    def __init__(self, programs: dict, messages: dict):
        self.programs, self.messages = programs, messages
        self.names = list(messages["qpus"])
        self.combined, self.qubit_of, self.clbit_of = _combined_registers(programs, self.names)
        # the bits a QPU may read only after a message, and the ebits in each QPU's order
        self.waits: dict = {}  # (receiver, bit) -> [(first op that reads the value, sender, sender's measure)]
        for m in messages["messages"]:
            self.waits.setdefault((m["to"], m["bit"]), []).append((m.get("before", 0), m["from"], m["after"]))
        self.expected = {name: [e["id"] for e in messages["ebits"] if name in {end["qpu"] for end in e["between"]}]
                         for name in self.names}
        self.pointer = {name: 0 for name in self.names}
        self.ebit_count = {name: 0 for name in self.names}
        self.measured_here: dict[str, set] = {name: set() for name in self.names}

    def run(self) -> QuantumCircuit:
        total = sum(len(self.programs[name].data) for name in self.names)
        done = 0
        while done < total:
            progress = 0
            for name in self.names:
                program = self.programs[name]
                while self.pointer[name] < len(program.data) and self.ready(name):
                    step = self.step(name)
                    if not step:
                        break
                    progress += step
            if not progress:
                stuck = {name: self.pointer[name] for name in self.names
                         if self.pointer[name] < len(self.programs[name].data)}
                raise DQCError(f"the per-QPU programs stall (waiting at operations {stuck}): a message or ebit is missing")
            done += progress
        return self.combined

    def bit_name(self, name: str, clbit) -> str:
        register, index = self.programs[name].find_bit(clbit).registers[0]
        return f"{register.name}[{index}]"

    def ready(self, name: str) -> bool:
        """True when the next operation of ``name`` has every message it reads."""
        instruction = self.programs[name].data[self.pointer[name]]
        if instruction.operation.name == "measure":
            self.measured_here[name].add(self.bit_name(name, instruction.clbits[0]))
            return True
        for clbit in instruction.clbits:
            bit = self.bit_name(name, clbit)
            sent_here = self.waits.get((name, bit), [])  # the latest value sent before this operation, else the first
            sender = next((w[1:] for w in reversed(sent_here) if w[0] <= self.pointer[name]),
                          sent_here[0][1:] if sent_here else None)
            if sender is None:
                if bit not in self.measured_here[name]:
                    raise DQCError(f"{name}: operation {self.pointer[name]} reads {bit}, which no message delivers")
            elif self.pointer[sender[0]] <= sender[1]:
                return False
        return True

    def step(self, name: str) -> int:
        """Record the next operation of ``name`` (an ``epr`` when both halves are ready); how many
        program operations that consumed (0: an ``epr_half`` whose peer is not there yet)."""
        instruction = self.programs[name].data[self.pointer[name]]
        if instruction.operation.name == "epr_half":
            return self.pair(name, instruction)
        operation = _rebind(instruction, name, self.clbit_of, self.qubit_of)
        self.combined.append(
            operation,
            [self.qubit_of[(name, q)] for q in instruction.qubits],
            [self.clbit_of[(name, c)] for c in instruction.clbits],
        )
        self.pointer[name] += 1
        return 1

    def pair(self, name: str, instruction) -> int:
        if self.ebit_count[name] >= len(self.expected[name]):
            raise DQCError(f"{name}: more epr_half operations than messages.json lists ebits for it")
        ebit = self.messages["ebits"][self.expected[name][self.ebit_count[name]]]
        peer = next(end["qpu"] for end in ebit["between"] if end["qpu"] != name)
        peer_program = self.programs[peer]
        if (self.pointer[peer] >= len(peer_program.data)
                or peer_program.data[self.pointer[peer]].operation.name != "epr_half"
                or self.expected[peer][self.ebit_count[peer]] != ebit["id"]):
            return 0
        here, there = (name, instruction.qubits[0]), (peer, peer_program.data[self.pointer[peer]].qubits[0])
        a, b = (here, there) if ebit["between"][0]["qpu"] == name else (there, here)
        self.combined.append(EPRGate(), [self.qubit_of[a], self.qubit_of[b]])
        for end in (name, peer):
            self.pointer[end] += 1
            self.ebit_count[end] += 1
        return 2


def _combined_registers(programs: dict, names: list[str]) -> tuple[QuantumCircuit, dict, dict]:
    """One circuit with every program's registers (by name) and each program bit's bit in it."""
    combined = QuantumCircuit(name="assembled")
    for name in names:
        for register in programs[name].qregs:
            if register.name not in {r.name for r in combined.qregs}:
                combined.add_register(register)
        for creg in programs[name].cregs:
            if creg.name not in {r.name for r in combined.cregs}:
                combined.add_register(ClassicalRegister(creg.size, creg.name))
    registers = {r.name: r for r in combined.qregs} | {r.name: r for r in combined.cregs}
    qubit_of, clbit_of = {}, {}
    for name in names:
        program = programs[name]
        for q in program.qubits:
            register, index = program.find_bit(q).registers[0]
            qubit_of[(name, q)] = registers[register.name][index]
        for c in program.clbits:
            register, index = program.find_bit(c).registers[0]
            clbit_of[(name, c)] = registers[register.name][index]
    return combined, qubit_of, clbit_of


def _rebind(instruction, name: str, clbit_of: dict, qubit_of: dict):
    """An ``if`` whose condition names the program's bits, renamed onto the combined circuit's (its
    body's bits stand, in order, for the instruction's)."""
    operation = instruction.operation
    if operation.name != "if_else":
        return operation
    (bit, value) = operation.condition
    body = operation.blocks[0]
    new_bit = clbit_of[(name, bit)]
    new_body = QuantumCircuit([qubit_of[(name, q)] for q in instruction.qubits],
                              [clbit_of[(name, c)] for c in instruction.clbits])
    for inner in body.data:
        new_body.append(inner.operation, [new_body.qubits[body.find_bit(q).index] for q in inner.qubits])
    from qiskit.circuit import IfElseOp  # noqa: PLC0415

    return IfElseOp((new_bit, value), new_body)
