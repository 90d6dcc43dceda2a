"""Sphinx configuration for autograd_core's user guide and API reference.

Build (from the repository root; the `docs` extra brings Sphinx, MyST and the theme):
    python -m sphinx -W -b html docs docs/_build/html
    python -m sphinx -W -b doctest docs docs/_build/doctest

The API pages (docs/api/*.rst) are written at each build from tools/public_api.py, the list that
tests/test_docstrings.py checks, so a new public function appears in the reference without an edit
here. They are build output: git ignores them.
"""
import inspect
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import public_api

import autograd_core

project = "autograd_core"
author = "the autograd_core authors"
copyright = "the autograd_core authors"
release = version = autograd_core.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_custom_sections = ["Shape"]

doctest_global_setup = """
import numpy as np
import autograd_core as ag
from autograd_core import nn, optim
import autograd_core.nn.functional as F
ag.manual_seed(0)
"""

html_theme = "furo"
html_title = f"autograd_core {release}"


def _write_api_pages(app):
    """docs/api/<module>.rst for each public module, and docs/api/index.rst listing them."""
    out = pathlib.Path(app.srcdir) / "api"
    out.mkdir(exist_ok=True)
    listing = public_api.listing()
    pages = []
    for modname, found in listing.items():
        lines = [modname, "=" * len(modname), "", f".. automodule:: {modname}"]
        parent, _, leaf = modname.rpartition(".")
        if parent and not inspect.ismodule(getattr(sys.modules[parent], leaf, None)):
            # the package attribute is a class of the same name (ag.device): index that one
            lines.append("   :no-index:")
        lines.append("")
        if modname == "autograd_core":
            # the top-level namespace gathers many files: one section per file
            groups = {}
            for entry in found:
                groups.setdefault(entry[1].__module__, []).append(entry)
        else:
            groups = {None: found}
        for source, entries in groups.items():
            if source is not None:
                title = source
                lines += [title, "-" * len(title), ""]
            for name, obj, members in entries:
                target = f"{modname}.{name}"
                if inspect.isclass(obj):
                    lines.append(f".. autoclass:: {target}")
                    if members:
                        lines.append(f"   :members: {', '.join(members)}")
                else:
                    lines.append(f".. autofunction:: {target}")
                lines.append("")
        page = modname.replace(".", "_")
        text = "\n".join(lines)
        path = out / f"{page}.rst"
        if not path.exists() or path.read_text() != text:  # unchanged pages keep Sphinx's cache valid
            path.write_text(text)
        pages.append(page)
    index = ["API reference", "=============", "",
             ("Every public module; each function and class appears once, under the first module listed "
              "here that offers it (``ag.relu`` and ``ag.nn.functional.relu`` are one function)."), "",
             ".. toctree::", "   :maxdepth: 1", ""] + [f"   {p}" for p in pages]
    text = "\n".join(index) + "\n"
    path = out / "index.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _list_course_pages(app, docname, source):
    """Fill course.md's toctree with docs/course/*.md (a glob would warn, and -W fail, while there are
    none)."""
    if docname != "course":
        return
    pages = sorted(p.stem for p in (pathlib.Path(app.srcdir) / "course").glob("*.md"))
    entries = "".join(f"course/{p}\n" for p in pages)
    source[0] = source[0].replace(":maxdepth: 1\n\n```", f":maxdepth: 1\n\n{entries}```", 1)


_LITERAL_SPAN = re.compile(r"(``.+?``|:[\w:]+:`[^`]*`|`[^`]*`)")


def _escape_plain(text):
    parts = _LITERAL_SPAN.split(text)
    for j in range(0, len(parts), 2):  # even parts lie outside literal spans
        parts[j] = re.sub(r"(?<!\\)([|*])", r"\\\1", parts[j])
        parts[j] = re.sub(r"(?<=\w)_(?=\W|$)", r"\\_", parts[j])  # mean_, add_: not link targets
    return "".join(parts)


def _plain_text_markup(app, what, name, obj, options, lines):
    """Many docstrings here are plain text with code in backticks, read with help(): `|x|` is an
    absolute value, `*` a product or a wildcard shape (N, *), `mean_` an attribute; an indented
    block after a blank line is code, and an indented line right after a line continues it. Make
    that valid reST: escape `|`, `*` and a trailing `_` outside literals; make indented blocks after
    a blank line literal blocks, and set hanging continuations off with blank lines. Doctest
    examples, literal blocks (after `::`) and directives (`.. math::`) are left alone."""
    out = []
    literal_indent = None  # inside a literal block or directive body opened at this indent
    in_doctest = False
    prev_indent = 0
    prev_blank = True
    prev_text = ""
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            in_doctest = bool(stripped)
            out.append(line)
            prev_blank, prev_indent, prev_text = not stripped, indent, stripped
            continue
        if not stripped:
            out.append(line)
            prev_blank = True
            continue
        structural = prev_text.startswith((":", "- ", "* ", ".. ")) or prev_text.endswith("::")
        if indent > prev_indent and not structural:
            if prev_blank:
                out[-1:] = ["", "::", ""]  # an indented block after a blank line is code
                literal_indent = prev_indent
                out.append(line)
                prev_blank, prev_text = False, stripped
                continue
            out.append("")  # a hanging continuation: its own block, not a definition list
        elif indent < prev_indent and not prev_blank:
            out.append("")
        if stripped.startswith(".. ") or stripped.endswith("::"):
            literal_indent = indent
            out.append(line if stripped.startswith(".. ") else _escape_plain(line))
        else:
            out.append(_escape_plain(line))
        prev_blank, prev_indent, prev_text = False, indent, stripped
    lines[:] = out


def setup(app):
    app.connect("builder-inited", _write_api_pages)
    app.connect("source-read", _list_course_pages)
    # after napoleon (priority 500), which turns Google/NumPy sections into reST field lists
    app.connect("autodoc-process-docstring", _plain_text_markup, priority=600)
