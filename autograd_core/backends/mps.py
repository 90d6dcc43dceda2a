"""Apple's MPS backend: not available in autograd_core."""


def is_available():
    """False: there is no MPS (Apple GPU) device."""
    return False


def is_built():
    """False: autograd_core is not built with MPS."""
    return False
