import glob
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("AGC_DEBUG") == "1"
sanitize = os.environ.get("AGC_SANITIZE") == "1"
# the test build of tools/emu512.sh: the avx512 tier's vec.h kernels emulated on AVX2
emu512 = os.environ.get("AGC_EMU512") == "1"

compile_args = ["-std=c11", "-fopenmp", "-fno-math-errno", "-Wall", "-Wno-unused-function"]
link_args = ["-fopenmp"]
compile_args += ["-O0", "-g"] if debug else ["-O3"]
if sanitize:
    compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    link_args += ["-fsanitize=address,undefined"]
if sys.platform == "darwin":
    compile_args = [a for a in compile_args if a != "-fopenmp"]
    link_args = [a for a in link_args if a != "-fopenmp"]

ext = Extension(
    "autograd_core._core",
    sources=["autograd_core/_core.pyx"] + sorted(glob.glob("csrc/*.c")),
    include_dirs=["csrc/include", "csrc", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")] + ([("AGC_EMU512", "1")] if emu512 else []),
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    depends=glob.glob("csrc/*.h") + glob.glob("csrc/include/*.h") + glob.glob("autograd_core/*.pxi")
    + glob.glob("autograd_core/*.pxd"),
)

directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": debug,
    "initializedcheck": debug,
    "cdivision": True,
    "embedsignature": True,
}

setup(ext_modules=cythonize([ext], compiler_directives=directives))
