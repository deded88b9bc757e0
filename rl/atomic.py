"""One way to write a file so that a crash never leaves half of it: write a temporary file beside it, then rename it
over the target (`os.replace` is atomic on one file system).

    from rl.atomic import write_atomic
    write_atomic(out / "summary.json", json.dumps(summary))          # text
    write_atomic(out / "calibration.npz", lambda f: np.savez(f, ...))  # or a writer given the open binary file
"""

from __future__ import annotations

from curriculum.statefile import write_atomic

__all__ = ["write_atomic"]  # framework-free: curriculum/statefile.py
