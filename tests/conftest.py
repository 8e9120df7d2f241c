"""Shared fixtures of the convlib unit tests.

Any test that takes a ``case`` argument runs once for every layer shape of the one grid in
``cases.py``.
"""

from cases import CASE_IDS, CASES


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", CASES, ids=CASE_IDS)
