"""Test-wide settings: Keras 2 for every test process, quiet TF logs."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_HEAVY_FIRST = ("e2e", "slow")


def pytest_collection_modifyitems(config, items):
    """Modules with e2e tests first, then modules with slow tests, then the rest.

    Under `pytest -n 2 --dist loadgroup`, xdist hands out xdist_groups (largest first) and
    then single tests in collection order; a minutes-long test collected last (the
    trainer's accuracy tests) would run alone while the other worker idles. Modules stay
    contiguous, so a module-scoped fixture is still set up once per worker.
    """
    del config

    def rank(item) -> int:
        return next((i for i, name in enumerate(_HEAVY_FIRST) if item.get_closest_marker(name)),
                    len(_HEAVY_FIRST))

    module_rank = {}
    for item in items:
        key = item.nodeid.split("::", 1)[0]
        module_rank[key] = min(module_rank.get(key, len(_HEAVY_FIRST)), rank(item))
    items.sort(key=lambda item: module_rank[item.nodeid.split("::", 1)[0]])
