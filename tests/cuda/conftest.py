"""Tests of the CUDA backend. They run where genesis.cuda.is_available(): on a GPU, or on
any machine under Triton's interpreter (TRITON_INTERPRET=1, small shapes); the README's
test command runs this folder a second time that way. tests/conftest.py leaves the folder
out of a run without CUDA."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))


INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
