"""The package's layering, checked by parsing the imports of its source files (no import is run).

DESIGN.md's layers: ops/ and autograd/ under nn/ and train/; inside ops/, the base modules under the
op families, which differentiate through Tensor methods rather than by importing one another; nothing
imports the package facade (`import autograd_core as ag`) to reach a name, and no import is placed
inside a function to dodge a cycle: the only function-level imports are of optional dependencies
(LAZY_OK), each saying why."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "autograd_core"

# ops/: which op modules each may import (the rest of the package below ops/ is free: _core, autograd,
# dtypes, device). base: _registry (op, tensor_method), _grad (sum_to and friends), creation (constructors).
OPS_BASE = {"_registry", "_grad", "creation"}
OPS_ALLOWED = {
    "_registry": set(),
    "_grad": set(),
    "creation": {"_registry"},  # (op: how a constructor is published as ag.<name>)
    "unary": OPS_BASE,
    "binary": OPS_BASE,
    "index": OPS_BASE,
    "linalg": OPS_BASE,
    "shape": OPS_BASE,
    "conv": OPS_BASE,
    # prod's backward joins exclusive products with cat, which Tensor has no method for
    "reduce": OPS_BASE | {"shape"},
    # composite ops, built from the families above
    "arrange": OPS_BASE | {"index", "shape", "unary"},
    "sorting": OPS_BASE | {"index", "reduce", "shape"},
    "special": OPS_BASE,
    "trig": OPS_BASE,
    "out": OPS_BASE,
}
# top-level packages and modules of autograd_core that sit above ops/ and autograd/
UPPER = {"nn", "optim", "train", "preprocessing", "data", "datasets", "viz", "utils", "vision", "distributed",
         "serialization", "metrics", "envs", "distributions"}


def _module_name(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """(node, absolute module imported, names, inside_function) for each import in the file."""
    tree = ast.parse(path.read_text())
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    in_function.add(id(sub))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((node, alias.name, [], id(node) in in_function))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            out.append((node, module, [a.name for a in node.names], id(node) in in_function))
    return out


def _is_submodule(module, name):
    target = PKG.parent.joinpath(*module.split("."), name)
    return target.with_suffix(".py").exists() or (target / "__init__.py").exists() or \
        any(target.parent.glob(name + ".*.so"))


def _files(sub):
    return sorted((PKG / sub).rglob("*.py"))


def test_ops_has_no_function_level_imports():
    found = [f"{p.relative_to(PKG)}:{node.lineno} {module}" for p in _files("ops")
             for node, module, _, inside in _imports(p) if inside]
    assert not found, "imports inside functions in ops/ (a cycle being dodged?):\n" + "\n".join(found)


# The only imports allowed inside functions anywhere in the package: optional or heavy third-party
# modules that most programs never need, each with a comment on its line saying why it is lazy.
LAZY_OK = {"matplotlib", "torch", "mpi4py", "gymnasium", "PIL", "graphviz", "tqdm", "urllib"}


def test_function_level_imports_are_only_lazy_optional_dependencies():
    wrong = []
    for p in sorted(PKG.rglob("*.py")):
        lines = p.read_text().split("\n")
        for node, module, _, inside in _imports(p):
            if not inside:
                continue
            where = f"{p.relative_to(PKG)}:{node.lineno} {module}"
            if isinstance(node, ast.ImportFrom) and node.level:
                wrong.append(f"{where}: a package module imported inside a function (a cycle being dodged?)")
            elif module.split(".")[0] not in LAZY_OK:
                wrong.append(f"{where}: import it at module level (LAZY_OK lists the optional dependencies)")
            elif "#" not in lines[node.lineno - 1]:
                wrong.append(f"{where}: say on its line why it is imported lazily")
    assert not wrong, "\n".join(wrong)


def test_ops_modules_import_only_the_layers_below():
    wrong = []
    for p in _files("ops"):
        me = p.stem
        if me == "__init__":
            continue
        assert me in OPS_ALLOWED, f"ops/{p.name} is new: give it its place in OPS_ALLOWED"
        for node, module, names, _ in _imports(p):
            targets = []
            if module == "autograd_core.ops":
                targets = names
            elif module.startswith("autograd_core.ops."):
                targets = [module.split(".")[2]]
            for t in targets:
                if t != me and t not in OPS_ALLOWED[me]:
                    wrong.append(f"ops/{p.name}:{node.lineno} imports ops.{t}")
    assert not wrong, "\n".join(wrong)


def test_ops_import_graph_is_acyclic():
    seen, done = set(), set()

    def visit(name, path):
        assert name not in seen or name in done, f"import cycle in ops/: {' -> '.join(path + [name])}"
        if name in done:
            return
        seen.add(name)
        for dep in OPS_ALLOWED[name]:
            visit(dep, path + [name])
        done.add(name)

    for name in OPS_ALLOWED:
        visit(name, [])


@pytest.mark.parametrize("sub", ["ops", "autograd"])
def test_lower_layers_do_not_import_upward(sub):
    wrong = []
    for p in _files(sub):
        for node, module, names, _ in _imports(p):
            parts = module.split(".")
            top = parts[1] if len(parts) > 1 and parts[0] == "autograd_core" else None
            if module == "autograd_core":
                top = next((n for n in names if n in UPPER), None)
            if top in UPPER:
                wrong.append(f"{p.relative_to(PKG)}:{node.lineno} imports autograd_core.{top}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("sub", ["ops", "autograd", "nn", "train"])
def test_no_facade_imports(sub):
    """`import autograd_core as ag` or `from .. import name` (a name of the facade, not a submodule)
    reaches a name through the package's __init__, which only works because of the import order there."""
    wrong = []
    for p in _files(sub):
        for node, module, names, _ in _imports(p):
            if isinstance(node, ast.Import) and module == "autograd_core":
                wrong.append(f"{p.relative_to(PKG)}:{node.lineno} import autograd_core")
            elif isinstance(node, ast.ImportFrom) and module == "autograd_core":
                facade = [n for n in names if not _is_submodule("autograd_core", n)]
                if facade:
                    wrong.append(f"{p.relative_to(PKG)}:{node.lineno} from autograd_core import {facade}")
    assert not wrong, "\n".join(wrong)


def test_diagnostics_imports_neither_nn_nor_train():
    modules = {module for _, module, _, _ in _imports(PKG / "autograd" / "diagnostics.py")}
    assert not {m for m in modules if m.startswith(("autograd_core.nn", "autograd_core.train"))}
