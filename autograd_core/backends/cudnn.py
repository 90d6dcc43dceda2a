"""cuDNN flags: accepted and ignored (no cuDNN here); is_available() is False."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: there is no cuDNN; the flags of this module are accepted and have no effect."""
    return False


def version():
    """None: there is no cuDNN."""
    return None
