"""Links and images across folders: resolved from their own file, GitHub's anchors as aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.core import model as m
from publisher.cards.links import from_root
from publisher.pipeline import load
from publisher.core.text import github_slugs, walk_blocks, walk_inlines

from conftest import make_book

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
       b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def links(loaded, slug: str) -> list[tuple[str, str]]:
    ch = next(c for c in loaded.book.chapters if c.slug == slug)
    out = []
    for b in walk_blocks(ch.blocks):
        if isinstance(b, m.Para):
            out += [(n.url, n.target) for n in walk_inlines(b.children) if isinstance(n, m.Link)]
    return out


def images(loaded, slug: str) -> list[str]:
    ch = next(c for c in loaded.book.chapters if c.slug == slug)
    return [n.url for b in walk_blocks(ch.blocks) if isinstance(b, m.Para) for n in walk_inlines(b.children) if isinstance(n, m.Image)]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    make_book(tmp_path, {
        "README.md": "# Intro\n\nSee [VPC](01-net/01-vpc.md#Subnets-and-Routing), [net](01-net/), [storage](02-storage)\n"
                     "and [the dup](01-net/01-vpc.md#notes-1) and [here](#intro).\n",
        "01-net/README.md": "# Networking\n\n![map](../images/map.png) ![root](/images/map.png)\n",
        "01-net/01-vpc.md": "# VPC\n\n## Subnets and Routing\n\ntext\n\n## Notes\n\na\n\n## Notes\n\nb\n\n"
                            "Back [home](../README.md), [dns](02-dns.md#a-records), [gone](../nope.md), "
                            "[bad anchor](02-dns.md#nowhere), [file](../images/map.png), [up](../../x.md).\n",
        "01-net/02-dns.md": "# DNS\n\n## A Records\n\nx\n",
        "02-storage/s3.md": "# S3\n\n![pic](pic.png) ![gone](missing.png) [html](../01-net/02-dns.html)\n",
        "02-storage/pic.png": PNG,
        "images/map.png": PNG,
    })
    return load("content")


def test_links_resolve_from_their_own_folder_with_github_anchors(book) -> None:
    assert links(book, "readme") == [
        ("01-net/01-vpc.md#Subnets-and-Routing", "net-vpc#subnets-and-routing"),  # GitHub's anchor, any case
        ("01-net/", "net-readme"),  # a folder: its opening page
        ("02-storage", "storage-s3"),  # a folder without one: its first chapter
        ("01-net/01-vpc.md#notes-1", "net-vpc#notes-2"),  # GitHub numbers a repeat -1, this tool -2
        ("#intro", "readme"),
    ]
    assert links(book, "net-vpc")[:2] == [("../README.md", "readme"), ("02-dns.md#a-records", "net-dns#a-records")]
    assert links(book, "storage-s3") == [("../01-net/02-dns.html", "net-dns")]  # a GitBook/mdBook output name


def test_what_does_not_resolve_is_reported_at_its_line(book) -> None:
    found = [(d.file, d.line, d.code, d.severity) for d in book.diagnostics if d.code in ("P111", "P112", "P114")]
    assert ("content/01-net/01-vpc.md", 15, "P114", "warning") in found  # ../nope.md
    assert sum(1 for f in found if f[2] == "P114" and f[0].endswith("01-vpc.md")) == 2  # and #nowhere
    assert ("content/01-net/01-vpc.md", 15, "P112", "error") in found  # ../../x.md leaves the folder
    assert not any(f[0].endswith("README.md") for f in found)  # '#intro' is the title's own anchor
    assert ("content/02-storage/s3.md", 3, "P111", "warning") in found  # missing.png
    assert not any(f[2] == "P111" and "map" in f[0] for f in found)


def test_images_are_paths_from_the_content_folder(book) -> None:
    assert images(book, "net-readme") == ["images/map.png", "images/map.png"]
    assert images(book, "storage-s3") == ["02-storage/pic.png", "02-storage/missing.png"]
    assert from_root("a/b/c.md", "../../x.png") == "x.png" and from_root("a/c.md", "../../x.png") == "../x.png"


def test_github_slugs() -> None:
    assert github_slugs(["Foo & Bar", "Step 1: Do X", "Foo & Bar", "Ünïcode Title", "C++ (v2)"]) == [
        "foo--bar", "step-1-do-x", "foo--bar-1", "ünïcode-title", "c-v2"]


def test_wiki_links_embeds_and_comments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_book(tmp_path, {
        "vault/08 Fragments.md": "# Fragments\n\n## Lifetimes\n\ntext\n",
        "vault/notes/Other note.md": "---\naliases: [Elsewhere]\n---\n# Other\n\nbody\n",
        "vault/notes/diagram.png": PNG,
        "vault/index.md": ("# Index\n\nSee [[08 Fragments]], [[08 fragments#Lifetimes|their lifetimes]] and [[Elsewhere]].\n"
                           "Missing: [[Nowhere]]. %%a private note\nover two lines%% After.\n\n"
                           "```\n%% not a comment in code %%\n```\n"),
        "vault/notes/pic.md": "# Pic\n\n![[diagram.png]]\n",
    })
    loaded = load("content/vault")
    links_of = links(loaded, "index")
    assert links_of == [("wiki:08 Fragments", "fragments"), ("wiki:08 fragments#Lifetimes", "fragments#lifetimes"),
                        ("wiki:Elsewhere", "notes-other-note"), ("wiki:Nowhere", "")]
    assert [(d.code, d.line) for d in loaded.diagnostics if d.code == "P114"] == [("P114", 4)]
    assert images(loaded, "notes-pic") == ["notes/diagram.png"]
    from publisher.core.text import block_text

    index = next(c for c in loaded.book.chapters if c.slug == "index")
    text = " ".join(block_text(b) for b in index.blocks)
    assert "private note" not in text and "After." in text and "%% not a comment in code %%" in text


def test_an_attachment_is_found_beside_the_note_then_from_the_root_then_by_name_anywhere() -> None:
    from publisher.cards.links import find_asset

    assets = ("Attachments/a.png", "Deep/er/a.png", "notes/b.png", "b.png", "notes/sub/c.png")
    assert find_asset(assets, "notes/page.md", "b.png") == "notes/b.png"  # beside the note first
    assert find_asset(assets, "other/page.md", "b.png") == "b.png"  # from the root
    assert find_asset(assets, "other/page.md", "a.png") == "Attachments/a.png"  # the shortest path of that name
    assert find_asset(assets, "x.md", "C.PNG") == "notes/sub/c.png"  # case aside
    assert find_asset(assets, "notes/page.md", "missing.png") == "notes/missing.png"  # reported as missing
