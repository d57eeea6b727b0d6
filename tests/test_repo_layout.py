"""Notes as repositories lay them out (issue 27): pages in ``docs/``, images in the repository's top-level
``images/``. A path may leave the content folder when it names a file Git tracks in the working tree that
holds the notes (as GitHub shows it); everything else outside stays refused (P112)."""

from __future__ import annotations

import anki.collection  # noqa: F401  (before the other anki modules)

import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from anki_helpers import import_apkg, new_collection
from conftest import run_publisher
from publisher.core.fsutil import tracked_outside, work_tree


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args], check=True,
                   capture_output=True)


def _repo(tmp_path: Path) -> Path:
    """A course repository: docs/week1/notes.md shows ../../images/cell.png (tracked) and, when asked,
    ../../images/draft.png (not tracked)."""
    repo = tmp_path / "course"
    (repo / "docs" / "week1").mkdir(parents=True)
    (repo / "images").mkdir()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(repo / "images" / "cell.png")
    Image.new("RGB", (60, 40), (30, 30, 200)).save(repo / "images" / "draft.png")
    (repo / "docs" / "week1" / "notes.md").write_text(
        "# Week 1\n\n## Cells\n\n**Cell** - the unit of life, drawn here:\n![a cell](../../images/cell.png)\n\n"
        "What does a ribosome make?\n\n: Proteins ![ribosome](../../images/cell.png)\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "docs", "images/cell.png")
    _git(repo, "commit", "-qm", "notes")
    return repo


def test_a_tracked_file_outside_the_content_folder_is_read_and_nothing_else(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert work_tree(repo / "docs") == repo.resolve()
    assert tracked_outside(repo / "docs", (repo / "images" / "cell.png").resolve())
    assert not tracked_outside(repo / "docs", (repo / "images" / "draft.png").resolve())  # not tracked
    (tmp_path / "secret.png").write_bytes((repo / "images" / "cell.png").read_bytes())
    assert not tracked_outside(repo / "docs", (tmp_path / "secret.png").resolve())  # outside the work tree
    (repo / "images" / "link.png").symlink_to(tmp_path / "secret.png")
    _git(repo, "add", "images/link.png")
    assert not tracked_outside(repo / "docs", (repo / "images" / "link.png").resolve())  # a tracked link out


def test_the_untracked_one_is_refused_quoting_the_path_as_written(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    notes = repo / "docs" / "week1" / "notes.md"
    notes.write_text(notes.read_text("utf-8") + "\nA draft: ![draft](../../images/draft.png)\n", encoding="utf-8")
    proc = run_publisher("check", "docs", cwd=repo)
    assert proc.returncode == 1
    assert "P112" in proc.stdout and "'../../images/draft.png' leaves the content folder" in proc.stdout
    assert "cell.png" not in proc.stdout


def test_a_tracked_file_missing_on_disk_is_missing_not_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "images" / "cell.png").unlink()  # tracked, but not in this checkout (a large file left behind)
    proc = run_publisher("check", "docs", cwd=repo)
    assert "P111" in proc.stdout and "P112" not in proc.stdout


def test_outside_a_git_repository_nothing_beyond_the_folder_is_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    proc = run_publisher("check", "docs", cwd=repo)
    assert proc.returncode == 1 and "outside a Git repository" in proc.stdout


@pytest.mark.slow
def test_every_output_shows_the_repository_image_and_a_change_to_it_rebuilds(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run_publisher("build", "docs", "--out", str(tmp_path / "out"), cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "out"
    with zipfile.ZipFile(out / "docs.epub") as z:
        assert any(n.startswith("EPUB/images/") and n.endswith(".png") for n in z.namelist())
        xhtml = next(z.read(n).decode() for n in z.namelist() if n.endswith("week1-notes.xhtml"))
        assert '<img src="images/' in xhtml and "image-missing" not in xhtml
    listed = subprocess.run(["pdfimages", "-list", str(out / "docs-cheatsheet.pdf")], capture_output=True, text=True,
                            check=True).stdout
    assert len(listed.strip().splitlines()) >= 3  # header, rule, the image
    col = new_collection(tmp_path / "col")
    try:
        import_apkg(col, out / "docs.apkg")
        assert len(list(Path(col.media.dir()).iterdir())) == 1
    finally:
        col.close()
    again = run_publisher("build", "docs", "--out", str(tmp_path / "out"), cwd=repo)
    assert again.stdout.count("up to date") == 3
    Image.new("RGB", (60, 40), (30, 200, 30)).save(repo / "images" / "cell.png")  # the picture is redrawn
    changed = run_publisher("build", "docs", "--out", str(tmp_path / "out"), cwd=repo)
    assert changed.returncode == 0 and changed.stdout.count("up to date") == 0


def _remote_repo(tmp_path: Path) -> Path:
    repo = _repo(tmp_path)
    for folder in ("images/a", "images/b", "docs/week1/pics", "images/dijkstra"):
        (repo / folder).mkdir(parents=True, exist_ok=True)
    for name in ("images/a/dup.png", "images/b/dup.png", "docs/week1/pics/mitochondrion.png", "images/dijkstra/4.jpeg"):
        Image.new("RGB", (20, 20), (90, 90, 90)).save(repo / name)
    _git(repo, "add", "images", "docs")
    _git(repo, "commit", "-qm", "pictures")
    (repo / "docs" / "week1" / "remote.md").write_text(
        "# Remote\n\n"
        "![gh](https://github.com/someone/course/raw/feature/x/images/cell.png)\n\n"
        "![raw](https://raw.githubusercontent.com/someone/course/main/docs/week1/pics/mitochondrion.png)\n\n"
        "![jsdelivr](https://cdn.jsdelivr.net/gh/someone/course@main/images/cell.png)\n\n"
        "![cdn](https://bucket.cos.ap-guangzhou.myqcloud.com/mitochondrion.png)\n\n"
        "![dup](https://cdn.example.com/dup.png)\n\n"
        "![other type](https://cdn.example.com/mitochondrion.jpg)\n\n"
        "![none](https://cdn.example.com/nothing.png)\n\n"
        "![generic](https://site.example/algo/images/permutation/4.jpeg)\n\n"
        "![generic here](https://site.example/algo/images/dijkstra/4.jpeg)\n", encoding="utf-8")
    return repo


def test_a_remote_image_is_shown_from_the_repository_copy_and_nothing_is_fetched(tmp_path: Path) -> None:
    repo = _remote_repo(tmp_path)
    from publisher import pipeline

    loaded = pipeline.load(repo / "docs")
    (chapter,) = [c for c in loaded.book.chapters if c.slug.endswith("remote")]
    from publisher.core import model as m
    from publisher.core.text import all_inlines

    images = [n for n in all_inlines(loaded.book) if isinstance(n, m.Image) and n.loc.file == chapter.file]
    assert [(i.alt, i.url) for i in images] == [
        ("gh", "../images/cell.png"), ("raw", "week1/pics/mitochondrion.png"), ("jsdelivr", "../images/cell.png"),
        ("cdn", "week1/pics/mitochondrion.png"),
        ("dup", "https://cdn.example.com/dup.png"), ("other type", "https://cdn.example.com/mitochondrion.jpg"),
        ("none", "https://cdn.example.com/nothing.png"),
        # a name that tells nothing apart ("4.jpeg") is the copy only in a folder of the URL's folder name
        ("generic", "https://site.example/algo/images/permutation/4.jpeg"), ("generic here", "../images/dijkstra/4.jpeg")]
    said = {(d.code, d.line) for d in loaded.diagnostics if d.file == chapter.file}
    assert said == {("P145", 3), ("P145", 5), ("P145", 7), ("P145", 9), ("P126", 11), ("P126", 13), ("P126", 15),
                    ("P126", 17), ("P145", 19)}
    note = next(d for d in loaded.diagnostics if d.code == "P145" and d.line == 9)
    assert note.message.endswith("from the local copy " + str(repo / "docs" / "week1" / "pics" / "mitochondrion.png"))


@pytest.mark.slow
def test_every_output_shows_the_local_copies(tmp_path: Path) -> None:
    repo = _remote_repo(tmp_path)
    proc = run_publisher("build", "docs", "--out", str(tmp_path / "out"), cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(tmp_path / "out" / "docs.epub") as z:
        xhtml = next(z.read(n).decode() for n in z.namelist() if n.endswith("week1-remote.xhtml"))
    assert xhtml.count('<img src="images/') == 5 and xhtml.count("image-missing") == 4
    assert "https://bucket" not in xhtml and "cdn.jsdelivr" not in xhtml  # nothing of a matched URL is left to load
    listed = subprocess.run(["pdfimages", "-list", str(tmp_path / "out" / "docs-cheatsheet.pdf")], capture_output=True,
                            text=True, check=True).stdout
    assert len(listed.strip().splitlines()) - 2 >= 5 + 2  # the five copies and the notes' own two
