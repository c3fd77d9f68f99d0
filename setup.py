"""Build step for the optional C accelerator of the strict DAG-CBOR codec (metadata lives in pyproject.toml).

``optional=True``: without a working C compiler the install still succeeds and ``dmg.core.codec`` falls back to its
pure-Python path.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("dmg.core._dagcbor", ["dmg/core/_dagcbor.c"], optional=True)])
