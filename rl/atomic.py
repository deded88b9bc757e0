"""One way to write a file so that a crash never leaves half of it: write a temporary file beside it, then rename it
over the target (`os.replace` is atomic on one file system).

    from rl.atomic import write_atomic
    write_atomic(out / "summary.json", json.dumps(summary))          # text
    write_atomic(out / "calibration.npz", lambda f: np.savez(f, ...))  # or a writer given the open binary file
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomic(path: str | os.PathLike, data: str | bytes | Callable[[IO[bytes]], object]) -> None:
    """Replace `path` with `data` (text, bytes, or a function writing into the open binary file) in one step: a reader
    sees the old file or the new one, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            if isinstance(data, str):
                f.write(data.encode())
            elif isinstance(data, bytes):
                f.write(data)
            else:
                data(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
