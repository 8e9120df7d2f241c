"""Shared fixtures of the convlib unit tests.

Any test that takes a ``case`` argument (and does not parametrize it itself) runs once for
every layer shape of the one grid in ``cases.py``.
"""

from cases import CASE_IDS, CASES


def _parametrized_by_the_test(metafunc, name):
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames and not _parametrized_by_the_test(metafunc, "case"):
        metafunc.parametrize("case", CASES, ids=CASE_IDS)
