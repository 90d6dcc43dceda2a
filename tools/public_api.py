"""The public API of autograd_core: its public modules and, in each, the functions and classes it
offers and the methods those classes define. tests/test_docstrings.py checks that each has a
docstring; docs/conf.py writes the API reference pages from the same list.
"""
import importlib
import inspect

PUBLIC_MODULES = [
    "autograd_core",
    "autograd_core.nn",
    "autograd_core.nn.functional",
    "autograd_core.nn.init",
    "autograd_core.nn.utils",
    "autograd_core.nn.utils.rnn",
    "autograd_core.nn.parallel",
    "autograd_core.optim",
    "autograd_core.optim.lr_scheduler",
    "autograd_core.utils.data",
    "autograd_core.utils.data.distributed",
    "autograd_core.autograd",
    "autograd_core.distributions",
    "autograd_core.train",
    "autograd_core.preprocessing",
    "autograd_core.datasets",
    "autograd_core.viz",
    "autograd_core.vision",
    "autograd_core.vision.datasets",
    "autograd_core.vision.transforms",
    "autograd_core.vision.transforms.functional",
    "autograd_core.vision.models",
    "autograd_core.vision.utils",
    "autograd_core.distributed",
    "autograd_core.serialization",
    "autograd_core.device",
    "autograd_core.cuda",
    "autograd_core.accelerator",
    "autograd_core.backends.cudnn",
    "autograd_core.backends.mps",
    "autograd_core.onnx",
]

def _ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith("autograd_core")


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return sorted(names)


def _member_doc(cls, name, attr):
    """The member's own docstring, or that of the base-class member it overrides."""
    if isinstance(attr, (staticmethod, classmethod)):
        attr = attr.__func__
    if isinstance(attr, property):
        doc = attr.__doc__ or (attr.fget.__doc__ if attr.fget else None)
    else:
        doc = getattr(attr, "__doc__", None)
    if doc and doc.strip():
        return doc
    for base in cls.__mro__[1:]:
        if name in base.__dict__ and _ours(base):
            return _member_doc(base, name, base.__dict__[name])
    return None


def _is_member(attr):
    if isinstance(attr, (staticmethod, classmethod, property)):
        return True
    return inspect.isroutine(attr)


def listing():
    """{module name: [(name, object, [public member names of a class it documents])]}: each function
    and class once, under the first public module (in PUBLIC_MODULES order) that offers it; a class's
    members are the public methods and properties it defines itself, less those that are also
    module-level functions (Tensor methods made by ag.ops' tensor_method are ag.<name>)."""
    seen = set()
    modules = {}
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        found = modules.setdefault(modname, [])
        for name in _public_names(module):
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)) or not _ours(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            found.append((name, obj, []))
    for found in modules.values():
        for _name, obj, members in found:
            if not inspect.isclass(obj):
                continue
            for name, attr in sorted(obj.__dict__.items()):
                if name.startswith("_") or not _is_member(attr):
                    continue
                target = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
                if id(target) not in seen:
                    seen.add(id(target))
                    members.append(name)
    return modules


def walk_objects():
    """[(public name, has its own docstring, object)] for every function, class and class member."""
    entries = []
    for modname, found in listing().items():
        for name, obj, members in found:
            doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
            entries.append((f"{modname}.{name}", bool(doc and doc.strip()), obj))
    for modname, found in listing().items():
        for name, obj, members in found:
            for member in members:
                attr = obj.__dict__[member]
                target = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
                entries.append((f"{modname}.{name}.{member}", bool(_member_doc(obj, member, attr)), target))
    return entries


def walk():
    """[(public name, has its own docstring)] (see walk_objects)."""
    return [(name, ok) for name, ok, _ in walk_objects()]
