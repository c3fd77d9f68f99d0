"""Helpers the test modules share: plain functions, classes and constants, one module per concern.

The fixtures are in the ``conftest.py`` files (the root one for those every folder uses). A test module imports
from here, never from another test module; ``tests/test_layout.py`` checks that.
"""
