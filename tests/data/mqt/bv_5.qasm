// MQT Bench 2.3.0: get_benchmark("bv", BenchmarkLevel.INDEP, 5), written with qiskit.qasm2.dumps
OPENQASM 2.0;
include "qelib1.inc";
qreg q[5];
creg c[4];
x q[0];
h q[2];
cz q[2],q[0];
h q[2];
h q[4];
cz q[4],q[0];
h q[4];
measure q[1] -> c[0];
measure q[2] -> c[1];
measure q[3] -> c[2];
measure q[4] -> c[3];