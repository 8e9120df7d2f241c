"""Shared fixtures of the convlib unit tests.

Any test that takes a ``case`` argument runs once for every layer shape of the one grid in
``cases.py``; a test that parametrizes ``case`` itself overrides the fixture.
"""

import pytest
from cases import CASE_IDS, CASES


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request):
    return request.param
