"""Which files make the book: folders, natural order, opening pages, SUMMARY.md, what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.read.sources import discover, glob_regex, humanize, natural_key
from publisher.core.text import block_text

from conftest import make_book


def rels(layout) -> list[str]:
    return [s.rel for s in layout.sources]


def test_natural_order_and_opening_pages_first(tmp_path: Path) -> None:
    root = make_book(tmp_path, {
        "10-last.md": "# L\n", "2-second.md": "# S\n", "1-first.md": "# F\n", "README.md": "# Intro\n",
        "03-part/README.md": "# Part\n", "03-part/10-b.md": "# B\n", "03-part/9-a.md": "# A\n",
        "03-part/sub/index.md": "# Sub\n", "03-part/sub/x.md": "# X\n",
    })
    layout = discover(root)
    assert rels(layout) == [
        "README.md", "1-first.md", "2-second.md", "03-part/README.md", "03-part/9-a.md", "03-part/10-b.md",
        "03-part/sub/index.md", "03-part/sub/x.md", "10-last.md",
    ]
    intro = {s.rel: s.intro for s in layout.sources}
    assert intro["README.md"] and intro["03-part/README.md"] and intro["03-part/sub/index.md"]
    assert not intro["03-part/9-a.md"]
    assert {s.rel: s.part for s in layout.sources}["03-part/sub/x.md"] == "03-part/sub"
    assert sorted(["item10", "item2", "Item1"], key=natural_key) == ["Item1", "item2", "item10"]


def test_index_is_the_opening_page_only_without_a_readme(tmp_path: Path) -> None:
    root = make_book(tmp_path, {"a/README.md": "# R\n", "a/index.md": "# I\n", "b/index.md": "# I\n"})
    intro = {s.rel: s.intro for s in discover(root).sources}
    assert intro == {"a/README.md": True, "a/index.md": False, "b/index.md": True}


def test_hidden_build_and_repository_files_are_left_out_and_counted(tmp_path: Path) -> None:
    root = make_book(tmp_path, {
        "01-a.md": "# A\n", ".obsidian/x.md": "# no\n", "_book/out.md": "# no\n", "node_modules/p/README.md": "# no\n",
        "LICENSE.md": "MIT\n", "CONTRIBUTING.md": "x\n", "CODE_OF_CONDUCT.md": "x\n", "templates/anki/x.md": "x\n",
        "notes.txt": "not markdown", "sub/.draft.md": "# no\n", "sub/b.markdown": "# B\n",
    })
    layout = discover(root)
    assert rels(layout) == ["01-a.md", "sub/b.markdown"]
    left = dict(layout.left_out)
    assert left["LICENSE.md"] == "a repository file" and left["CONTRIBUTING.md"] == "a repository file"
    assert left[".obsidian/"].startswith("hidden (1 Markdown file)")
    assert left["_book/"].startswith("build output") and left["node_modules/"].startswith("build output")
    assert left["sub/.draft.md"] == "hidden" and left["templates/"].startswith("the book's templates")
    assert "notes.txt" not in left  # only Markdown files are chapters, and only they are counted


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    root = make_book(tmp_path, {
        "01-a.md": "# A\n", "CHANGELOG.md": "# Changes\n", "drafts/x.md": "# X\n", "drafts/deep/y.md": "# Y\n",
        "b/c.todo.md": "# T\n", "b/d.md": "# D\n",
    })
    layout = discover(root, include=("CHANGELOG.md",), exclude=("drafts/**", "*.todo.md"))
    assert rels(layout) == ["01-a.md", "b/d.md", "CHANGELOG.md"]
    left = dict(layout.left_out)
    assert left["drafts/x.md"] == left["drafts/deep/y.md"] == left["b/c.todo.md"] == "excluded in book.toml"
    assert glob_regex("**/*.md").match("a/b/c.md") and glob_regex("*.md").match("a/b/c.md")
    assert not glob_regex("a/*.md").match("a/b/c.md") and glob_regex("a/**").match("a/b/c.md")


def test_summary_gives_order_and_titles_and_leaves_the_rest_out(tmp_path: Path) -> None:
    root = make_book(tmp_path, {
        "SUMMARY.md": (
            "# Summary\n\n"
            "[Introduction](README.md)\n\n"
            "## Part one\n\n"
            "* [Sorting algorithms](chapter1/sorting.md)\n"
            "    * [Heaps](chapter1/heaps.md#top)\n"
            "- [Draft, not written yet]()\n"
            "* [Gone](chapter9/missing.md)\n"
            "```\n* [In code](chapter1/unlisted.md)\n```\n"
        ),
        "README.md": "# Intro\n", "chapter1/sorting.md": "#### 5.1.1 Sorting\n", "chapter1/heaps.md": "# Heaps\n",
        "chapter1/unlisted.md": "# Unlisted\n",
    })
    layout = discover(root, shown="book")
    assert rels(layout) == ["README.md", "chapter1/sorting.md", "chapter1/heaps.md"]
    assert {s.rel: s.title for s in layout.sources}["chapter1/sorting.md"] == "Sorting algorithms"
    assert dict(layout.left_out) == {"chapter1/unlisted.md": "not in SUMMARY.md"}
    assert [(d.file, d.line, d.code) for d in layout.diagnostics] == [("book/SUMMARY.md", 10, "P114")]


def test_slugs_come_from_paths_not_reading_order(tmp_path: Path) -> None:
    flat = make_book(tmp_path, {"01-dynamodb.md": "# D\n", "02-s3.md": "# S\n", "03-s3.md": "# S again\n"}, "flat")
    assert [s.slug for s in discover(flat).sources] == ["dynamodb", "s3", "s3-2"]  # as flat books always had
    nested = {"01-net/01-vpc.md": "# V\n", "01-net/README.md": "# Net\n", "02-storage/s3.md": "# S\n"}
    before = {s.rel: s.slug for s in discover(make_book(tmp_path, nested, "a")).sources}
    assert before == {"01-net/README.md": "net-readme", "01-net/01-vpc.md": "net-vpc", "02-storage/s3.md": "storage-s3"}
    # a new folder, a second README and a SUMMARY.md that reorders everything change no slug
    grown = make_book(tmp_path, {**nested, "00-new/README.md": "# New\n", "00-new/vpc.md": "# V2\n",
                                  "SUMMARY.md": "* [S3](02-storage/s3.md)\n* [VPC](01-net/01-vpc.md)\n"
                                                "* [Net](01-net/README.md)\n"}, "b")
    after = {s.rel: s.slug for s in discover(grown).sources}
    assert {k: after[k] for k in before} == before
    # names in Hangul or Han, and dates, keep their slugs when a file is added beside them (a Korean repo:
    # every name was "chapter", "chapter-2"... in path order, so a new file moved another's cards)
    named = {"네트워크.md": "# 네트워크\n", "운영체제.md": "# 운영체제\n", "11-6-25.md": "# Day\n", "12-6-25.md": "# Day\n"}
    first = {s.rel: s.slug for s in discover(make_book(tmp_path, named, "ko")).sources}
    more = {s.rel: s.slug for s in discover(make_book(tmp_path, {**named, "데이터베이스.md": "# DB\n",
                                                                 "10-6-25.md": "# Day\n"}, "ko2")).sources}
    assert {k: more[k] for k in first} == first and len(set(more.values())) == len(more)
    assert first["11-6-25.md"] == "11-6-25" and "chapter" not in first.values()


@pytest.mark.parametrize(("name", "title"), [
    ("02-getting_started", "Getting started"), ("networking", "Networking"), ("10 - Misc notes", "Misc notes"),
    ("2019년 면접질문", "2019년 면접질문"), ("3d-printing", "3d printing"),  # a number that is part of the name stays
])
def test_humanized_names(name: str, title: str) -> None:
    assert humanize(name) == title


def test_a_glob_starting_with_a_slash_is_anchored_at_the_root(tmp_path: Path) -> None:
    root = make_book(tmp_path, {"README.md": "# R\n", "sub/README.md": "# S\n", "sub/x.md": "# X\n"})
    assert rels(discover(root, exclude=("/README.md",))) == ["sub/README.md", "sub/x.md"]
    assert rels(discover(root, exclude=("./README.md",))) == ["sub/README.md", "sub/x.md"]
    assert rels(discover(root, exclude=("README.md",))) == ["sub/x.md"]


def test_translations_beside_their_base_are_left_out_or_picked_by_language(tmp_path: Path) -> None:
    """Issue 27: README-ja.md beside README.md is a translation: left out (and said so), or read in its base's
    place when book.toml's language asks for it. A name that only looks like one is kept."""
    files = {
        "README.md": "# Primer\n\n## Caches\n\n- **Cache** - a fast store\n",
        "README-ja.md": "# 入門\n\n## キャッシュ\n\n- **キャッシュ** - 速い記憶\n",
        "README.zh-Hans.md": "# 入门\n\n## 缓存\n\n- **缓存** - 快速存储\n",
        "notes.md": "# Notes\n\n## One\n\n## Two\n\n## Three\n",
        "notes_es.md": "# Notas\n\n## Uno\n\n## Dos\n\n## Tres\n",
        "notes-ml.md": "# Machine learning\n\n- **Model** - a fitted function\n",  # 'ml' is a code: not this shape
        "aws.md": "# AWS\n\n## IAM\n",
        "aws-iam.md": "# IAM\n\n## Roles\n",  # 'iam' is no language
        "os/processes.md": "# Processes\n",  # a folder named like a language
    }
    root = make_book(tmp_path, files, "book")
    layout = discover(root)
    kept = sorted(s.rel for s in layout.sources)
    assert kept == ["README.md", "aws-iam.md", "aws.md", "notes-ml.md", "notes.md", "os/processes.md"]
    assert sorted(layout.left_out) == [("README-ja.md", "a translation of README.md (ja)"),
                                       ("README.zh-Hans.md", "a translation of README.md (zh-Hans)"),
                                       ("notes_es.md", "a translation of notes.md (es)")]
    picked = discover(root, language="ja")
    assert "README-ja.md" in [s.rel for s in picked.sources] and "README.md" not in [s.rel for s in picked.sources]
    assert ("README.md", "replaced by its translation README-ja.md (language = 'ja')") in picked.left_out
    # written in book.toml, language picks them for a build too
    (root / "book.toml").write_text('title = "Primer"\nlanguage = "zh-Hans"\n', "utf-8")
    from publisher.pipeline import load

    assert "README.zh-Hans.md" in [ch.path for ch in load(root).book.chapters]


def test_a_language_folder_is_a_translation_only_when_it_mirrors_another_folder(tmp_path: Path) -> None:
    """Issue 27: docs/ja/ mirroring docs/ (MkDocs' i18n layout) and fr/ beside en/ are translations: left out
    and said so, or picked by book.toml's language; os/ (operating-system notes) mirrors nothing and stays."""
    files = {
        "docs/index.md": "# Intro\n", "docs/guide/a.md": "# Guide\n",
        "docs/ja/index.md": "# 紹介\n", "docs/ja/guide/a.md": "# ガイド\n", "docs/ja/extra.md": "# 追加\n",
        "os/processes.md": "# Processes\n", "os/threads.md": "# Threads\n", "threads.md": "# Threads, again\n",
        "site/en/home.md": "# Home\n", "site/fr/home.md": "# Accueil\n",
    }
    root = make_book(tmp_path, files, "book")
    layout = discover(root)
    assert sorted(s.rel for s in layout.sources) == [
        "docs/guide/a.md", "docs/index.md", "os/processes.md", "os/threads.md", "site/en/home.md", "threads.md"]
    assert sorted(layout.left_out) == [
        ("docs/ja/extra.md", "a page of the ja translation (ja)"),
        ("docs/ja/guide/a.md", "a translation of docs/guide/a.md (ja)"),
        ("docs/ja/index.md", "a translation of docs/index.md (ja)"),
        ("site/fr/home.md", "a translation of site/en/home.md (fr)")]
    picked = discover(root, language="ja")
    assert {"docs/ja/index.md", "docs/ja/guide/a.md", "docs/ja/extra.md"} <= {s.rel for s in picked.sources}
    assert ("docs/index.md", "replaced by its translation docs/ja/index.md (language = 'ja')") in picked.left_out


def test_a_mkdocs_sites_nav_orders_the_book_and_titles_its_pages(tmp_path: Path) -> None:
    """MkDocs course notes: the nav's order (not the names'), its titles, its pages only (the repository's
    README is no page of the site); pages the nav does not list follow; Python tags in mkdocs.yml are read
    as nothing. Read from the repository or from its docs/ folder, the same."""
    site = make_book(tmp_path, {
        "mkdocs.yml": "site_name: Course\nnav:\n  - Home: index.md\n  - Week 1: intro.md\n  - Week 2:\n"
                      "    - Parsing: sub/parse.md\n  - Advanced: advanced.md\n  - Site: https://example.com\n"
                      "markdown_extensions:\n  - x:\n      format: !!python/name:pymdownx.superfences.fence_code_format\n",
        "README.md": "# Build\n\nrun mkdocs\n",
        **{f"docs/{n}.md": f"# {n}\n\ntext\n" for n in ("index", "intro", "advanced", "sub/parse", "extra")}}, "repo")
    layout = discover(site)
    assert [(s.rel, s.title) for s in layout.sources] == [
        ("docs/index.md", "Home"), ("docs/intro.md", "Week 1"), ("docs/sub/parse.md", "Parsing"),
        ("docs/advanced.md", "Advanced"), ("docs/extra.md", "")]
    assert layout.left_out == [("README.md", "outside the MkDocs site's docs/ folder")]
    assert [s.rel for s in discover(site / "docs").sources] == ["index.md", "intro.md", "sub/parse.md", "advanced.md",
                                                                 "extra.md"]


def test_an_mdbooks_book_toml_and_summary_are_read_from_the_repository(tmp_path: Path) -> None:
    """A new user's mdBook, built from its repository as they would first try: its book.toml is mdBook's
    ([book] title, authors, language, src; [output.html], [preprocessor.*]): read for the book's title, author
    and language, its other tables mdBook's (no P008); the pages are src/SUMMARY.md's, in its order, and the
    repository's README and the pages it does not list are left out, said so."""
    from publisher.read.reader import read_book

    repo = make_book(tmp_path, {
        "book.toml": '[book]\nauthors = ["Ana", "Rui"]\nlanguage = "pt-br"\nsrc = "src"\ntitle = "Linguagem C"\n\n'
                     '[preprocessor.tabs]\n\n[output.html]\nmathjax-support = true\n',
        "README.md": "# Build it with mdbook\n",
        "src/SUMMARY.md": "# Sumário\n\n- [Ponteiros](./2-ponteiros.md)\n- [Comentários](1-comentarios.md)\n",
        "src/1-comentarios.md": "# Comentários\n\nTexto.\n\n{{#tabs }}\n{{#tab name=\"C\" }}\n\n```c\n"
                                "{{#include ex/main.c:2:5}}\n```\n\n{{#endtab }}\n{{#endtabs }}\n",
        "src/2-ponteiros.md": "# Ponteiros\n\nTexto.\n",
        "src/rascunho.md": "# Rascunho\n"}, "mdbook")
    layout = discover(repo)
    assert [s.rel for s in layout.sources] == ["src/2-ponteiros.md", "src/1-comentarios.md"]
    assert ("README.md", "not in src/SUMMARY.md") in layout.left_out and ("src/rascunho.md", "not in src/SUMMARY.md") in layout.left_out
    book, diags = read_book(repo)
    assert (book.meta.title, book.meta.author, book.meta.language) == ("Linguagem C", "Ana, Rui", "pt-br")
    assert not [d for d in diags if d.code == "P008"]
    # mdbook-tabs' lines are syntax; an include is not pulled in, said at its line (and no text is lost)
    from publisher.pipeline import load

    loaded = load(repo)
    shown = " ".join(block_text(b) for ch in loaded.book.chapters for b in ch.blocks)
    assert "#tab" not in shown and "{{#include ex/main.c:2:5}}" in shown
    assert [(Path(d.file).name, d.line) for d in loaded.diagnostics if d.code == "P147"] == [("1-comentarios.md", 9)]
    assert not [d for d in loaded.diagnostics if d.code == "P142"]
