#!/usr/bin/env python3
"""Generate the OpenQASM 2.0 benchmark circuits of this directory.

Run from the repository root::

    python benchmarks/circuits/generate.py

The script is deterministic (no randomness, no transpiler passes): every
circuit is written gate by gate with Qiskit and serialised with
``qiskit.qasm2.dumps``.  The ``.qasm`` files are written next to this script.
Every written file is read back with ``qiskit.qasm2.loads`` (using
``LEGACY_CUSTOM_INSTRUCTIONS``) and checked against the in-memory circuit:
operator equality for circuits of at most 10 qubits, gate-by-gate equality
(names, qubits, parameters to 1e-12) for all circuits.

Families (see README.md for gate counts):

* ``qft_noswap_{n}``  QFT without the final swaps (``synth_qft_full``).
* ``qft_{n}``         QFT with the final swaps.
* ``grover_{n}``      Grover search with a phase oracle for one marked string,
                      ancilla-free multi-controlled Z gates, measured.
* ``shor_15_7``       Shor order finding for N = 15, a = 7 on 18 qubits
                      (Beauregard construction as in the former
                      ``qiskit.algorithms.Shor`` / MQT Bench ``shor``).
* ``ghz_{n}``         GHZ state preparation (CX chain), measured.
* ``bv_{n}``          Bernstein-Vazirani with a fixed secret, measured.
* ``random_cz_{n}``   random layered CZ circuit (seeded), see :func:`random_cz_circuit`.

All gates in the output are from ``qelib1.inc``: h, x, p, cx, cz, cp, swap, ccx.
No file contains a custom ``gate`` definition.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2
from qiskit.quantum_info import Operator
from qiskit.synthesis import synth_qft_full

OUT_DIR = Path(__file__).resolve().parent

QFT_NOSWAP_SIZES = (4, 8, 10, 12, 16, 32, 64)
QFT_SIZES = (4, 8, 12, 16, 32, 64)
GROVER_SIZES = (3, 5, 7)
GHZ_SIZES = (4, 8, 16)
BV_SIZES = (6, 10)

#: Marked basis state of each Grover benchmark, as a Qiskit counts key
#: (leftmost character = highest qubit index).
GROVER_MARKED = {3: "101", 5: "10110", 7: "1011001"}

#: Secret string of each Bernstein-Vazirani benchmark (n qubits incl. the
#: ancilla, so n - 1 secret bits), as a Qiskit counts key of the data register.
BV_SECRETS = {6: "10110", 10: "101100111"}
#: Random layered CZ circuits: (qubits, layers, CZ probability, seed).
RANDOM_CZ = {"random_cz_32": (32, 64, 0.5, 2026)}

#: Angles with |angle mod 2pi| below this are identity phases and are dropped.
_ZERO_ANGLE = 1e-12


# ---------------------------------------------------------------------------
# Small building blocks
# ---------------------------------------------------------------------------


def _is_zero_angle(theta: float) -> bool:
    """True if ``p(theta)`` is the identity (theta = 0 mod 2 pi)."""
    r = math.remainder(theta, 2 * math.pi)
    return abs(r) < _ZERO_ANGLE


def append_ccp(qc: QuantumCircuit, theta: float, c1, c2, target) -> None:
    """Append a doubly-controlled phase gate ``ccp(theta)`` without ancillas.

    Standard decomposition (identical to Qiskit's gray-code ``mcphase`` for two
    controls)::

        cp(theta/2) c2,t; cx c1,c2; cp(-theta/2) c2,t; cx c1,c2; cp(theta/2) c1,t

    Identity phases (theta = 0 mod 2 pi) are skipped entirely.
    """
    if _is_zero_angle(theta):
        return
    qc.cp(theta / 2, c2, target)
    qc.cx(c1, c2)
    qc.cp(-theta / 2, c2, target)
    qc.cx(c1, c2)
    qc.cp(theta / 2, c1, target)


def append_mcphase_graycode(qc: QuantumCircuit, theta: float, controls, target) -> None:
    """Append a multi-controlled phase gate using the ancilla-free gray code.

    Uses the identity ``x_1 x_2 ... x_k = 2^(1-k) * sum_{S != {}} (-1)^(|S|-1)
    parity_S(x)``: the controls are walked through all non-empty subsets ``S``
    in reflected Gray-code order, the parity of ``S`` is accumulated (with
    ``cx``) in the lowest-index control contained in ``S``, and a
    ``cp(+-theta / 2^(k-1))`` from that qubit onto ``target`` applies the
    corresponding term.  All controls are restored at the end.  This is the
    construction of Qiskit's ``mcu1``/``MCXGrayCode`` (2^k - 1 ``cp`` and
    2^k - 2 ``cx`` for k controls).
    """
    controls = list(controls)
    k = len(controls)
    if k == 0:
        qc.p(theta, target)
        return
    if k == 1:
        qc.cp(theta, controls[0], target)
        return
    lam = theta / 2 ** (k - 1)

    def subset(code: int) -> list[int]:
        # bit (k-1-i) of the Gray code <-> controls[i], so that the leading
        # (most significant) bit corresponds to controls[0] as in Qiskit.
        return [i for i in range(k) if (code >> (k - 1 - i)) & 1]

    previous = None
    for i in range(1, 2**k):
        code = i ^ (i >> 1)
        members = subset(code)
        lead = members[0]
        if previous is not None:
            changed = [j for j in range(k) if (j in members) != (j in subset(previous))][0]
            if changed != lead:
                qc.cx(controls[changed], controls[lead])
            else:
                for j in members[1:]:
                    qc.cx(controls[j], controls[lead])
        sign = 1 if len(members) % 2 == 1 else -1
        qc.cp(sign * lam, controls[lead], target)
        previous = code


def append_mcz(qc: QuantumCircuit, qubits) -> None:
    """Append a multi-controlled Z on ``qubits`` (symmetric; last one is target).

    One qubit: ``z`` as ``p(pi)``; two: ``cp(pi)``; three: ``h; ccx; h``;
    more: ancilla-free gray-code multi-controlled phase ``mcphase(pi)``.
    """
    qubits = list(qubits)
    if len(qubits) == 3:
        qc.h(qubits[2])
        qc.ccx(qubits[0], qubits[1], qubits[2])
        qc.h(qubits[2])
    else:
        append_mcphase_graycode(qc, math.pi, qubits[:-1], qubits[-1])


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------


def qft_circuit(n: int, do_swaps: bool) -> QuantumCircuit:
    """QFT on ``n`` qubits: ``synth_qft_full`` as is (h, cp and optionally swap)."""
    qc = synth_qft_full(n, do_swaps=do_swaps)
    qc.name = f"qft_{n}" if do_swaps else f"qft_noswap_{n}"
    return qc


def grover_circuit(n: int, marked: str) -> QuantumCircuit:
    """Grover search on ``n`` qubits for the basis state ``marked``.

    ``marked`` is a Qiskit counts key (character ``n-1-i`` is qubit ``i``).
    Oracle: X on the qubits that must be 0, multi-controlled Z, X again
    (a phase flip of exactly ``|marked>``).  Diffuser: H, X, MCZ, X, H on all
    qubits (2|s><s| - 1 up to a global phase).  ``floor(pi/4 sqrt(2^n))``
    iterations, then all qubits are measured into ``c``.
    """
    assert len(marked) == n
    q = QuantumRegister(n, "q")
    c = ClassicalRegister(n, "c")
    qc = QuantumCircuit(q, c, name=f"grover_{n}")
    zero_bits = [i for i in range(n) if marked[n - 1 - i] == "0"]
    iterations = math.floor(math.pi / 4 * math.sqrt(2**n))

    qc.h(q)
    for _ in range(iterations):
        # oracle
        for i in zero_bits:
            qc.x(q[i])
        append_mcz(qc, q)
        for i in zero_bits:
            qc.x(q[i])
        # diffuser
        qc.h(q)
        qc.x(q)
        append_mcz(qc, q)
        qc.x(q)
        qc.h(q)
    qc.measure(q, c)
    return qc


def ghz_circuit(n: int) -> QuantumCircuit:
    """GHZ state on ``n`` qubits: h q0, cx chain q0->q1->...; all measured."""
    q = QuantumRegister(n, "q")
    c = ClassicalRegister(n, "c")
    qc = QuantumCircuit(q, c, name=f"ghz_{n}")
    qc.h(q[0])
    for i in range(n - 1):
        qc.cx(q[i], q[i + 1])
    qc.measure(q, c)
    return qc


def random_cz_circuit(n: int, layers: int, p: float, seed: int) -> QuantumCircuit:
    """Random layered CZ circuit (the issue tracker's "random layered CZ" benchmark).

    Each layer: every qubit gets, with probability 1/2, one of ``h``, ``p(pi/4)``, ``x`` (uniform);
    then the qubits are paired by a uniformly random perfect matching and each pair gets a ``cz``
    with probability ``p``. A seeded ``numpy`` generator makes it reproducible.
    """
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, name=f"random_cz_{n}")
    for _ in range(layers):
        for q in range(n):
            if rng.random() < 0.5:
                choice = int(rng.integers(3))
                if choice == 0:
                    qc.h(q)
                elif choice == 1:
                    qc.p(math.pi / 4, q)
                else:
                    qc.x(q)
        order = rng.permutation(n)
        for a, b in zip(order[0::2], order[1::2]):
            if rng.random() < p:
                qc.cz(int(a), int(b))
    return qc


def bv_circuit(n: int, secret: str) -> QuantumCircuit:
    """Bernstein-Vazirani on ``n`` qubits: ``n-1`` data qubits + 1 ancilla.

    ``secret`` is a counts key of the data register (character ``n-2-i`` is
    data qubit ``i``).  The ancilla is the last qubit, prepared in ``|->``;
    the oracle is a CX from every data qubit whose secret bit is 1 to the
    ancilla.  Only the data qubits are measured (into ``c``), giving
    ``secret`` with certainty.
    """
    m = n - 1
    assert len(secret) == m
    q = QuantumRegister(n, "q")
    c = ClassicalRegister(m, "c")
    qc = QuantumCircuit(q, c, name=f"bv_{n}")
    anc = q[m]
    qc.x(anc)
    qc.h(anc)
    for i in range(m):
        qc.h(q[i])
    for i in range(m):
        if secret[m - 1 - i] == "1":
            qc.cx(q[i], anc)
    for i in range(m):
        qc.h(q[i])
    qc.measure(q[:m], c)
    return qc


# --- Shor (Beauregard, as in the former qiskit.algorithms.Shor) -------------


def _shor_angles(a: int, n: int) -> np.ndarray:
    """Phases of the Draper adder adding the constant ``a`` in Fourier space.

    Identical to ``Shor._get_angles`` of the former ``qiskit.algorithms``:
    ``angle[i] = pi * sum_{j <= i, bit_j(a) = 1} 2^{-(i-j)}`` on ``n`` qubits.
    """
    bits_little_endian = bin(int(a))[2:].zfill(n)[::-1]
    angles = np.zeros(n)
    for i in range(n):
        for j in range(i + 1):
            if bits_little_endian[j] == "1":
                angles[i] += 2.0 ** (-(i - j))
    return angles * np.pi


def _phi_add(angles) -> QuantumCircuit:
    """Addition of a constant in Fourier space: ``p(angle_i)`` on qubit ``i``."""
    qc = QuantumCircuit(len(angles), name="phi_add")
    for i, angle in enumerate(angles):
        if not _is_zero_angle(angle):
            qc.p(angle, i)
    return qc


def _c_phi_add(angles) -> QuantumCircuit:
    """Singly-controlled ``_phi_add``: qubit 0 is the control, 1.. the target."""
    qc = QuantumCircuit(1 + len(angles), name="c_phi_add")
    for i, angle in enumerate(angles):
        if not _is_zero_angle(angle):
            qc.cp(angle, 0, 1 + i)
    return qc


def _cc_phi_add(angles) -> QuantumCircuit:
    """Doubly-controlled ``_phi_add`` (qubits 0, 1 control), ``ccp`` decomposed."""
    qc = QuantumCircuit(2 + len(angles), name="cc_phi_add")
    for i, angle in enumerate(angles):
        append_ccp(qc, angle, 0, 1, 2 + i)
    return qc


def _cc_phi_add_mod_n(a: int, N: int, n: int) -> QuantumCircuit:
    """Doubly-controlled modular addition ``b -> b + a mod N`` in Fourier space.

    Qubits: ``[ctrl0, ctrl1, b_0 .. b_n, flag]`` (``b`` has ``n + 1`` qubits).
    Beauregard's construction, as ``Shor._double_controlled_phi_add_mod_N``:
    add ``a``, subtract ``N``, copy the sign bit into ``flag``, add ``N`` back
    controlled on ``flag``, subtract ``a``, restore ``flag``, add ``a``.
    """
    b_size = n + 1
    qc = QuantumCircuit(2 + b_size + 1, name="ccphi_add_a_mod_N")
    ctrl = [0, 1]
    b = list(range(2, 2 + b_size))
    flag = 2 + b_size

    angles_a = _shor_angles(a, b_size)
    angles_n = _shor_angles(N, b_size)
    qft = synth_qft_full(b_size, do_swaps=False)
    iqft = qft.inverse()
    cc_add_a = _cc_phi_add(angles_a)
    add_n = _phi_add(angles_n)
    c_add_n = _c_phi_add(angles_n)

    qc.compose(cc_add_a, ctrl + b, inplace=True)
    qc.compose(add_n.inverse(), b, inplace=True)
    qc.compose(iqft, b, inplace=True)
    qc.cx(b[-1], flag)
    qc.compose(qft, b, inplace=True)
    qc.compose(c_add_n, [flag] + b, inplace=True)
    qc.compose(cc_add_a.inverse(), ctrl + b, inplace=True)
    qc.compose(iqft, b, inplace=True)
    qc.x(b[-1])
    qc.cx(b[-1], flag)
    qc.x(b[-1])
    qc.compose(qft, b, inplace=True)
    qc.compose(cc_add_a, ctrl + b, inplace=True)
    return qc


def _c_mult_mod_n(a: int, N: int, n: int) -> QuantumCircuit:
    """Controlled in-place modular multiplication ``x -> a x mod N``.

    Qubits: ``[ctrl, x_0 .. x_{n-1}, b_0 .. b_n, flag]``.  As
    ``Shor._controlled_multiple_mod_N``: ``b += a x mod N`` by ``n``
    doubly-controlled modular adders (controls ``ctrl`` and ``x_i``, constant
    ``2^i a mod N``), controlled swap of ``x`` and ``b``, then
    ``b -= a^{-1} x mod N`` with the inverse adders.  The controlled swaps are
    written as ``cx; ccx; cx``.
    """
    qc = QuantumCircuit(1 + n + n + 2, name="cmult_a_mod_N")
    ctrl = 0
    x = list(range(1, 1 + n))
    b = list(range(1 + n, 1 + n + n + 1))
    flag = 1 + n + n + 1
    qft = synth_qft_full(n + 1, do_swaps=False)
    iqft = qft.inverse()

    qc.compose(qft, b, inplace=True)
    for i in range(n):
        adder = _cc_phi_add_mod_n((pow(2, i, N) * a) % N, N, n)
        qc.compose(adder, [ctrl, x[i]] + b + [flag], inplace=True)
    qc.compose(iqft, b, inplace=True)

    for i in range(n):  # cswap(ctrl; x_i, b_i) = cx b,x; ccx ctrl,x,b; cx b,x
        qc.cx(b[i], x[i])
        qc.ccx(ctrl, x[i], b[i])
        qc.cx(b[i], x[i])

    qc.compose(qft, b, inplace=True)
    a_inv = pow(a, -1, N)
    for i in reversed(range(n)):
        adder = _cc_phi_add_mod_n((pow(2, i, N) * a_inv) % N, N, n)
        qc.compose(adder.inverse(), [ctrl, x[i]] + b + [flag], inplace=True)
    qc.compose(iqft, b, inplace=True)
    return qc


def shor_circuit(N: int, a: int) -> QuantumCircuit:
    """Shor order finding for ``a`` modulo ``N`` (``4n + 2`` qubits, n = bits(N)).

    Reproduces ``qiskit.algorithms.Shor.construct_circuit(N, a, measurement=True)``
    (also the MQT Bench ``shor`` benchmark), flattened into qelib1 gates:

    * ``up``   (2n qubits): counting register, H on all, ``up[i]`` controls
      the multiplication by ``a^(2^i) mod N`` (``up[0]`` = least significant);
    * ``down`` (n qubits): work register, initialised to 1;
    * ``aux``  (n + 2 qubits): ``aux[0..n]`` Fourier-space accumulator ``b``
      of the Draper adder, ``aux[n+1]`` the modular-addition flag;
    * inverse QFT (with swaps) on ``up``; ``up`` measured into ``m``
      (``m`` read as an integer is the phase estimate ``y``, ``y/2^(2n) ~ s/r``).

    Every multiplier is built generically from the constant
    ``a^(2^i) mod N`` (even when it is 1); nothing uses the period.
    Doubly-controlled phases are decomposed with :func:`append_ccp`;
    identity phases (angle 0) are omitted.
    """
    n = N.bit_length()
    up = QuantumRegister(2 * n, "up")
    down = QuantumRegister(n, "down")
    aux = QuantumRegister(n + 2, "aux")
    m = ClassicalRegister(2 * n, "m")
    qc = QuantumCircuit(up, down, aux, m, name=f"shor_{N}_{a}")

    qc.h(up)
    qc.x(down[0])
    for i in range(2 * n):
        partial_a = pow(a, 2**i, N)
        qc.compose(_c_mult_mod_n(partial_a, N, n), [up[i], *down, *aux], inplace=True)
    qc.compose(synth_qft_full(2 * n, do_swaps=True).inverse(), up, inplace=True)
    qc.measure(up, m)
    return qc


# ---------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------


def all_circuits() -> dict[str, QuantumCircuit]:
    """All benchmark circuits, keyed by file stem, in a fixed order."""
    circuits: dict[str, QuantumCircuit] = {}
    for n in QFT_NOSWAP_SIZES:
        circuits[f"qft_noswap_{n}"] = qft_circuit(n, do_swaps=False)
    for n in QFT_SIZES:
        circuits[f"qft_{n}"] = qft_circuit(n, do_swaps=True)
    for n in GROVER_SIZES:
        circuits[f"grover_{n}"] = grover_circuit(n, GROVER_MARKED[n])
    circuits["shor_15_7"] = shor_circuit(15, 7)
    for n in GHZ_SIZES:
        circuits[f"ghz_{n}"] = ghz_circuit(n)
    for n in BV_SIZES:
        circuits[f"bv_{n}"] = bv_circuit(n, BV_SECRETS[n])
    for name, (n, layers, p, seed) in RANDOM_CZ.items():
        circuits[name] = random_cz_circuit(n, layers, p, seed)
    return circuits


def load_qasm(text: str) -> QuantumCircuit:
    """Parse OpenQASM 2 text the way the tests and the compiler do."""
    return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def check_roundtrip(original: QuantumCircuit, text: str) -> None:
    """Assert that ``text`` parses back to the same circuit as ``original``."""
    loaded = load_qasm(text)
    assert "\ngate " not in text, "unexpected custom gate definition"
    assert loaded.num_qubits == original.num_qubits
    assert loaded.num_clbits == original.num_clbits
    assert len(loaded.data) == len(original.data)
    for a, b in zip(original.data, loaded.data):
        assert a.operation.name == b.operation.name, (a, b)
        assert [original.find_bit(q).index for q in a.qubits] == [
            loaded.find_bit(q).index for q in b.qubits
        ]
        assert [original.find_bit(c).index for c in a.clbits] == [
            loaded.find_bit(c).index for c in b.clbits
        ]
        assert np.allclose(
            [float(p) for p in a.operation.params],
            [float(p) for p in b.operation.params],
            rtol=0,
            atol=1e-12,
        )
    if original.num_qubits <= 10:
        op_a = Operator(original.remove_final_measurements(inplace=False))
        op_b = Operator(loaded.remove_final_measurements(inplace=False))
        assert op_a.equiv(op_b), "operator changed in the QASM round trip"


def main() -> None:
    """Write every benchmark to ``<name>.qasm`` and verify the round trip."""
    for name, qc in all_circuits().items():
        text = qasm2.dumps(qc) + "\n"
        check_roundtrip(qc, text)
        path = OUT_DIR / f"{name}.qasm"
        path.write_text(text)
        ops = dict(qc.count_ops())
        two_q = sum(1 for inst in qc.data if inst.operation.num_qubits == 2)
        print(f"{path.name:22s} qubits={qc.num_qubits:3d} 2q={two_q:5d} ops={ops}")


if __name__ == "__main__":
    main()
