"""Every public function, class and method has its own docstring.

The walk covers the public modules below: the names in each module's `__all__` (or, without one, its
names not starting with an underscore) that are functions or classes defined in autograd_core, then
the public methods and properties each such class defines itself (Tensor's and Module's included).
A class must carry its own docstring: `help(nn.CrossEntropyLoss)` must not show Module's text. A
method that overrides a documented method of a base class (`forward`, `step`, `__len__`) may share
that text, as `inspect.getdoc` and `help()` do.

tests/docstring_todo.txt lists the names still without one. The test fails on an undocumented name not
in that list, and on a listed name that now has a docstring, so the list only shrinks. Print the
coverage and the current missing names with `python tests/test_docstrings.py`; rewrite the list with
`python tests/test_docstrings.py --write-todo`.
"""
import importlib
import inspect
import pathlib
import sys

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
    "autograd_core.data",
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

TODO_FILE = pathlib.Path(__file__).with_name("docstring_todo.txt")


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


def walk():
    """[(public name, has a docstring)], each object once, under the first public name found."""
    return [(name, ok) for name, ok, _ in walk_objects()]


def walk_objects():
    """[(public name, has a docstring, object)] (see walk)."""
    seen = set()
    entries = []
    classes = []
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        for name in _public_names(module):
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)) or not _ours(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            qualname = f"{modname}.{name}"
            if inspect.isclass(obj):
                doc = obj.__dict__.get("__doc__")
                classes.append((qualname, obj))
            else:
                doc = obj.__doc__
            entries.append((qualname, bool(doc and doc.strip()), obj))
    for qualname, cls in classes:
        for name, attr in sorted(cls.__dict__.items()):
            if name.startswith("_") or not _is_member(attr):
                continue
            target = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
            if id(target) in seen:
                continue
            seen.add(id(target))
            entries.append((f"{qualname}.{name}", bool(_member_doc(cls, name, attr)), target))
    return entries


def read_todo():
    if not TODO_FILE.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in TODO_FILE.read_text().splitlines())
    return {line for line in lines if line}


def coverage_line(entries):
    documented = sum(ok for _, ok in entries)
    return f"docstring coverage: {documented}/{len(entries)} public names ({100.0 * documented / len(entries):.1f}%)"


def test_every_public_name_has_its_own_docstring():
    entries = walk()
    print(coverage_line(entries))
    todo = read_todo()
    missing = sorted(name for name, ok in entries if not ok and name not in todo)
    assert not missing, (f"{len(missing)} public names have no docstring of their own (write one; "
                         f"tests/docstring_todo.txt is only for names still being written):\n  "
                         + "\n  ".join(missing))


def test_docstring_todo_list_only_shrinks():
    entries = dict(walk())
    todo = read_todo()
    documented = sorted(name for name in todo if entries.get(name))
    assert not documented, ("these names now have a docstring: remove them from tests/docstring_todo.txt:\n  "
                            + "\n  ".join(documented))
    gone = sorted(name for name in todo if name not in entries)
    assert not gone, ("tests/docstring_todo.txt lists names that are not public (renamed or removed): "
                      "remove them:\n  " + "\n  ".join(gone))


def test_classes_do_not_show_module_generic_text():
    import autograd_core as ag

    for cls in (ag.nn.CrossEntropyLoss, ag.nn.Dropout, ag.nn.MaxPool2d, ag.nn.Linear):
        assert inspect.getdoc(cls) != inspect.getdoc(ag.nn.Module), cls


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    entries = walk()
    print(coverage_line(entries))
    missing = [name for name, ok in entries if not ok]
    if "--write-todo" in sys.argv:
        TODO_FILE.write_text("# Public names still without a docstring; tests/test_docstrings.py keeps this list\n"
                             "# shrinking. Document a name, then delete its line.\n"
                             + "".join(f"{name}\n" for name in missing))
        print(f"wrote {len(missing)} names to {TODO_FILE}")
    else:
        print("\n".join(missing))
