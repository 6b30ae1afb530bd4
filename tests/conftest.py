"""Test-wide settings: Keras 2 for every test process, quiet TF logs."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

# Fixtures several test folders share (serving models, digit images).
pytest_plugins = ["tests.serving.fixtures"]

_HEAVY_FIRST = ("e2e", "slow")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    """Schedules the suite for `pytest -n 2 --dist loadgroup` (a no-op without xdist).

    - A module whose tests share a module-scoped fixture (a pipeline run, a trained model)
      becomes one xdist group, so the fixture runs once, not once per worker that gets
      one of its tests (the photos pipeline run was paid twice).
    - Modules with e2e tests first, then modules with slow tests, then the rest: xdist hands
      out groups (most tests first), then single tests in collection order, and a
      minutes-long test collected last would run alone while the other worker idles.
      Modules stay contiguous, so a module fixture is still set up once per worker.
    """
    del config
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info else ()
        if any(fixturedef[-1].scope == "module" for fixturedef in defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))

    def rank(item) -> int:
        return next((i for i, name in enumerate(_HEAVY_FIRST) if item.get_closest_marker(name)),
                    len(_HEAVY_FIRST))

    module_rank = {}
    for item in items:
        key = item.nodeid.split("::", 1)[0]
        module_rank[key] = min(module_rank.get(key, len(_HEAVY_FIRST)), rank(item))
    items.sort(key=lambda item: module_rank[item.nodeid.split("::", 1)[0]])


@pytest.fixture(autouse=True, scope="session")
def _download_manifest(tmp_path_factory):
    """Downloads record their sha256 in a manifest of the test session, never in ~/.cache
    (tests serve their own archives under the real URLs' names)."""
    name = "TFSLIM_DOWNLOAD_MANIFEST"  # schemas.download.MANIFEST_ENV, without importing it here
    before = os.environ.get(name)
    os.environ[name] = str(tmp_path_factory.mktemp("manifest") / "downloads.sha256.json")
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(scope="module")
def portable_beam(tmp_path_factory):
    """A Beam job service + SDK worker pool (runners.portable_beam) on free loopback ports,
    for the tests of one module; stopped by PID afterwards, also when a test fails."""
    from runners.portable_beam import portable_services  # pylint: disable=import-outside-toplevel

    with portable_services(str(tmp_path_factory.mktemp("beam-services"))) as services:
        yield services
