"""Every backend implements every primitive named in backend/base.py."""
from genesis.backend import base, cpu


def test_cpu_backend_implements_every_primitive():
    missing = [name for name in base.PRIMITIVES if not callable(getattr(cpu, name, None))]
    assert not missing, f"cpu backend lacks primitives: {missing}"


def test_primitive_list_is_not_empty_and_documented():
    assert len(base.PRIMITIVES) > 80
    assert all(isinstance(v, str) for v in base.PRIMITIVES.values())
