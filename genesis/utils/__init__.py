"""genesis.utils: data loading (genesis.utils.data)."""
from . import data  # noqa: F401
