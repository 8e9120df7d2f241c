"""The classroom test is slow (it runs nbgrader on a copy of the course): marked ``slow``."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end tests that take minutes (nbgrader)")
