// MQT Bench 2.3.0: get_benchmark("dj", BenchmarkLevel.INDEP, 5), written with qiskit.qasm2.dumps
OPENQASM 2.0;
include "qelib1.inc";
gate gate_Oracle q0,q1,q2,q3,q4 { x q0; x q1; cx q0,q4; cx q1,q4; cx q2,q4; cx q3,q4; x q0; x q1; }
qreg q[5];
creg c[4];
h q[0];
h q[1];
h q[2];
h q[3];
u2(-pi,-pi) q[4];
gate_Oracle q[0],q[1],q[2],q[3],q[4];
h q[0];
h q[1];
h q[2];
h q[3];
barrier q[0],q[1],q[2],q[3],q[4];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure q[2] -> c[2];
measure q[3] -> c[3];