OPENQASM 2.0;
include "qelib1.inc";
// Two-qubit Grover search for |11>: one iteration finds it with certainty.
// The shape of the distributed Grover of Main et al., Nature 638, 383 (2025): both CZ gates are nonlocal.
qreg q[2];
creg c[2];
h q[0];
h q[1];
cz q[0], q[1];
h q[0];
h q[1];
x q[0];
x q[1];
cz q[0], q[1];
x q[0];
x q[1];
h q[0];
h q[1];
measure q[0] -> c[0];
measure q[1] -> c[1];
