"""The glibc malloc thresholds set at import (genesis/backend/malloc.py)."""
import platform
import subprocess
import sys

import pytest

import genesis.backend.malloc as malloc


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt thresholds are glibc's")
def test_thresholds_applied_on_glibc():
    assert malloc.TUNED is True


def test_opt_out_with_environment_variable():
    code = "import genesis.backend.malloc as m; print(m.TUNED)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"GENESIS_MALLOPT": "0", "PATH": ""}, check=True)
    assert out.stdout.strip() == "False"
