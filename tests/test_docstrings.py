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
import inspect
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from public_api import walk

TODO_FILE = pathlib.Path(__file__).with_name("docstring_todo.txt")


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
    sys.path.insert(0, str(ROOT))  # this checkout's autograd_core, as pytest run from the root imports
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
