"""Build the optional C part of corpus.store.pairs (metadata is in pyproject.toml).

Without a C compiler the build of the extension fails quietly (``optional=True``) and the
pure-Python path, which makes the same pairs more slowly, is used instead.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("corpus.store._pairscan", ["corpus/store/_pairscan.c"], optional=True),
    ]
)
