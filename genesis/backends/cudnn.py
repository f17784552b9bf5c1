"""genesis.backends.cudnn: PyTorch's cuDNN switches, accepted and kept (Genesis has no
cuDNN: they change nothing)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
