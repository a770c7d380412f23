"""The README and docs/ name only things that exist: linked files and headings,
make targets, manage.py commands and repository paths. No database needed."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCED_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*$", re.MULTILINE)
MAKE_TARGET_RULE = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:(?!=)", re.MULTILINE)
MAKE_CALL = re.compile(r"\bmake[ \t]+([a-z][\w-]*)")
MANAGE_CALL = re.compile(r"\bmanage(?:\.py)?[ \t]+([a-z][a-z0-9_]*)")
REPO_PATH = re.compile(r"(?<![\w./-])((?:mesa247|processor|ledger|payouts|tests|events|bin|docs|bench|\.ci)/[\w./-]*)")


def doc_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCED_BLOCK.sub("", text)


def code(text: str) -> list[str]:
    """Every fenced code block and every inline code span."""
    return FENCED_BLOCK.findall(text) + INLINE_CODE.findall(prose(text))


def github_anchors(markdown_file: Path) -> set[str]:
    """The anchors GitHub gives the file's headings: lower-case, punctuation other than - and _
    dropped, spaces to -, and -1, -2, … on repeats."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(prose(markdown_file.read_text())):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def link_is_broken(doc: Path, target: str) -> bool:
    path, _, anchor = target.partition("#")
    linked = (doc.parent / path).resolve() if path else doc
    if not linked.exists() or ROOT not in [linked, *linked.parents]:
        return True
    return bool(anchor) and linked.suffix == ".md" and anchor not in github_anchors(linked)


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_relative_links_point_to_existing_files_and_headings(doc):
    links = LINK.findall(INLINE_CODE.sub("", prose(doc.read_text())))
    relative = [target for target in links if not re.match(r"[a-z][a-z0-9+.-]*:", target)]  # not http:, mailto:
    assert [target for target in relative if link_is_broken(doc, target)] == []


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_make_targets_exist_in_the_makefile(doc):
    targets = set(MAKE_TARGET_RULE.findall((ROOT / "Makefile").read_text()))
    named = {target for snippet in code(doc.read_text()) for target in MAKE_CALL.findall(snippet)}
    assert named - targets == set()


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_manage_py_commands_exist(doc):
    named = {command for snippet in code(doc.read_text()) for command in MANAGE_CALL.findall(snippet)}
    assert named - set(get_commands()) == set()


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_repository_paths_in_inline_code_exist(doc):
    """Every path a page names exists, or is one the project writes and git ignores (bench results)."""
    spans = INLINE_CODE.findall(prose(doc.read_text()))
    named = {path.rstrip(".") for span in spans for path in REPO_PATH.findall(span)}
    missing = [path for path in named if not (ROOT / path).exists()]
    assert sorted(path for path in missing if not git_ignored(path)) == []


def git_ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False).returncode == 0
