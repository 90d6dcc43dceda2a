"""Apple's MPS backend: not available in autograd_core."""


def is_available():
    return False


def is_built():
    return False
