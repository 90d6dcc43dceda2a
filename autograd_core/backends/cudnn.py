"""cuDNN flags: accepted and ignored (no cuDNN here); is_available() is False."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
