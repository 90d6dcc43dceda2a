"""`autograd-core run script.py [args...]`: run an unmodified PyTorch program on autograd_core.

An import hook on sys.meta_path makes `torch` and every `torch.<sub>` resolve to `autograd_core`
and `autograd_core.<sub>` (torch.nn.functional -> autograd_core.nn.functional, ...), and
`torchvision` to `autograd_core.vision`. The script then runs as `python script.py` would run it:
as __main__, with sys.argv = [script, *args] and the script's folder first on sys.path. A PyTorch
module or attribute this library does not provide fails with an ImportError or AttributeError
naming the PyTorch API (torch.compile, torch.fx, ...), not a wrong result.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

_ALIASES = (("torchvision", "autograd_core.vision"), ("torch", "autograd_core"))


def _target(fullname):
    for alias, real in _ALIASES:
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


def _torch_name(real_name):
    for alias, real in sorted(_ALIASES, key=lambda pair: -len(pair[1])):
        if real_name == real or real_name.startswith(real + "."):
            return alias + real_name[len(real):]
    return real_name


def _name_missing_attributes(module, alias):
    """Give an aliased module a __getattr__ whose AttributeError names the PyTorch API."""
    if "__getattr__" in module.__dict__:
        previous = module.__dict__["__getattr__"]
    else:
        previous = None

    def __getattr__(name):
        if previous is not None:  # the module's own lazy attributes (autograd_core.data) come first
            try:
                return previous(name)
            except AttributeError:
                pass
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {alias!r} has no attribute {name!r}")
        raise AttributeError(f"{alias}.{name} is not provided by autograd_core (module {alias!r} has no attribute "
                             f"{name!r}); see docs/pytorch_compat.md for what is supported")
    __getattr__._torch_alias = True
    if previous is None or not getattr(previous, "_torch_alias", False):
        module.__getattr__ = __getattr__


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real_name):
        self.real_name = real_name

    def create_module(self, spec):
        module = importlib.import_module(self.real_name)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the import system stamped the alias's spec on the real module: give it its own back
        module.__spec__ = self.real_spec
        _name_missing_attributes(module, _torch_name(module.__name__))


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves torch / torchvision imports to autograd_core's modules."""

    def find_spec(self, fullname, path=None, target=None):
        real = _target(fullname)
        if real is None:
            return None
        try:
            found = importlib.util.find_spec(real)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}: autograd_core does not provide the PyTorch "
                                      f"module {fullname} (see docs/pytorch_compat.md for what is supported)",
                                      name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real), is_package=found.submodule_search_locations
                                               is not None)


def install():
    """Put the torch/torchvision import hook first on sys.meta_path (idempotent)."""
    if not any(isinstance(finder, TorchAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, TorchAliasFinder())


def uninstall():
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, TorchAliasFinder)]
    for name in [n for n in sys.modules if _target(n) is not None]:
        del sys.modules[name]


def run(argv):
    """Run argv[0] (a script path) with argv[1:] as its arguments; returns the exit status."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: autograd-core run script.py [args...]\n\nRuns an unmodified PyTorch program with torch and "
              "torchvision resolving to autograd_core.", file=sys.stderr)
        return 0 if argv else 2
    script = argv[0]
    if not os.path.exists(script):
        print(f"autograd-core run: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    for name in ("torch", "torchvision"):
        loaded = sys.modules.get(name)
        if loaded is not None and not getattr(loaded, "__name__", "").startswith("autograd_core"):
            # the real PyTorch is already imported in this process: alias over it for the script
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
    install()
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0
