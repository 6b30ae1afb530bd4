"""Every relative link in README.md, the top-level guides and docs/*.md names a file that exists."""
import glob
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = [os.path.join(REPO, name) for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")] + \
    sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: os.path.relpath(p, REPO))
def test_relative_links_resolve(page):
    text = open(page, encoding="utf-8").read()
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in targets if not os.path.exists(os.path.join(os.path.dirname(page), t))]
    assert not missing, missing


def test_readme_is_short_and_has_a_table_of_contents():
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    assert len(text.encode("utf-8")) <= 15 * 1024
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    anchors = re.findall(r"\]\(#([\w-]+)\)", contents)
    headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^## (.+)$", text, re.M)}
    assert anchors and set(anchors) <= headings, (anchors, headings)
