"""The ``dqc`` console script: Ctrl-C is one line and exit 130 even while qiskit is still loading."""

from __future__ import annotations

import os
import signal
import sys

EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Load the command line (qiskit takes a second or two to import) and run it.

    After Ctrl-C the process ends at once with 130: CPython may otherwise turn a handled interrupt into
    death by SIGINT at exit (it remembers a KeyboardInterrupt that crossed some C code) and restores the
    default SIGINT handler while shutting down, so the exit status would depend on timing.
    """
    try:
        from .cli import main as run  # noqa: PLC0415 - the import is what may be interrupted
    except KeyboardInterrupt:
        print("dqc: interrupted", file=sys.stderr, flush=True)
        return _end_interrupted()
    status = run(argv)
    if status == EXIT_INTERRUPTED:
        return _end_interrupted()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the work is done and reported: a late Ctrl-C changes nothing
    return status


def _end_interrupted() -> int:
    """Flush what was printed and exit 130 now, skipping interpreter shutdown (outputs are already
    rolled back by the command that was interrupted)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, KeyboardInterrupt):
            pass
    os._exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
