"""The tutorial-level PyTorch names in tests/torch_names.txt, resolved with `torch` replaced by
autograd_core (submodules imported as needed). Each line is a name and whether it was present
when last recorded; a name recorded as present must stay present (a floor). The count is printed
(pytest -s, or in the summary of `-rP`). To record newly added names, run this file with
AGC_UPDATE_TORCH_NAMES=1."""
import importlib
import os
from pathlib import Path

import autograd_core as ag

NAMES_FILE = Path(__file__).with_name("torch_names.txt")


def _read():
    entries = []
    for line in NAMES_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, status = line.split()
        entries.append((name, status == "present"))
    return entries


def resolve(name):
    """True when torch.<a>.<b>... exists as autograd_core.<a>.<b>..."""
    parts = name.split(".")
    if parts[0] != "torch":
        raise ValueError(f"{name}: names must start with 'torch.'")
    obj, path = ag, "autograd_core"
    for part in parts[1:]:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(f"{path}.{part}")
            except ImportError:
                return False
        path = f"{path}.{part}"
    return True


def test_torch_names_floor():
    entries = _read()
    assert len({n for n, _ in entries}) == len(entries), "duplicate names in torch_names.txt"
    found = {name: resolve(name) for name, _ in entries}
    lost = [name for name, present in entries if present and not found[name]]
    gained = [name for name, present in entries if not present and found[name]]
    count = sum(found.values())
    print(f"\ntorch names: {count} of {len(entries)} resolve in autograd_core"
          + (f"; {len(gained)} newly present, not yet recorded (AGC_UPDATE_TORCH_NAMES=1): "
             f"{', '.join(gained[:20])}{' ...' if len(gained) > 20 else ''}" if gained else ""))
    if os.environ.get("AGC_UPDATE_TORCH_NAMES"):
        NAMES_FILE.write_text("# name, and whether autograd_core has it (see tests/test_torch_names.py)\n"
                              + "".join(f"{n} {'present' if found[n] else 'missing'}\n" for n, _ in entries))
    assert not lost, f"names that used to resolve are gone: {lost}"
    assert len(entries) >= 600
