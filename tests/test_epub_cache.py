"""The EPUB's chapter parts kept between builds (issue 24): an unchanged chapter is not rendered again, and
an edit in one chapter changes another chapter's part only where that chapter reads from it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from publisher import build as b

from test_build import write

BOOK = {
    "book.toml": 'title = "Cache"\n',
    "01-a.md": "# Alpha\n\n## Tools\n\n- We reach for a Widget first.\n- **Anvil** - a heavy iron block to shape metal on.\n",
    "02-b.md": "# Beta\n\n## Parts\n\n- **Widget** - a small gadget that holds two parts together.\n- A Widget is cheap.\n",
}


def parts(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (out / ".cache" / "epub").glob("*.part")}


def docs(out: Path) -> dict[str, str]:
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        return {Path(n).name: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")}


def epub(src: Path, out: Path) -> None:
    result = b.build(src, ["epub"], out, jobs=1)
    assert [o.status for o in result.outcomes] == ["built"], result.outcomes


def test_an_edit_remakes_its_chapter_only_and_the_first_use_moves(tmp_path: Path) -> None:
    src, out = write(tmp_path / "src", BOOK), tmp_path / "out"
    epub(src, out)
    first, before = parts(out), docs(out)
    assert len(first) == 2
    assert 'id="gloss_widget_use"' in before["01-a.xhtml"] and 'id="gloss_widget_use"' not in before["02-b.xhtml"]

    # chapter A no longer uses the term: its first use moves to B, whose part is reused as it was
    (src / "01-a.md").write_text(BOOK["01-a.md"].replace("a Widget", "a hammer"), "utf-8")
    epub(src, out)
    second, after = parts(out), docs(out)
    kept = set(first) & set(second)
    assert len(second) == 2 and len(kept) == 1  # A's part is new, B's is the one made before
    assert all(first[k] == second[k] for k in kept)
    assert 'id="gloss_widget_use"' in after["02-b.xhtml"] and 'id="gloss_widget_use"' not in after["01-a.xhtml"]
    assert "02-b.xhtml#gloss_widget_use" in after["glossary.xhtml"]  # the entry links back to the new first use

    # made of kept parts, the same bytes as a build from nothing
    kept_epub = next(out.glob("*.epub")).read_bytes()
    fresh = tmp_path / "fresh"
    epub(src, fresh)
    assert next(fresh.glob("*.epub")).read_bytes() == kept_epub


def test_a_chapter_that_links_to_another_is_remade_when_its_target_changes(tmp_path: Path) -> None:
    """A reads B's anchors (its link to a section of B): renaming that section remakes A's part too; an edit
    elsewhere in B that leaves its anchors alone does not."""
    book = dict(BOOK)
    book["01-a.md"] += "\nSee [the parts](02-b.md#parts).\n"
    src, out = write(tmp_path / "src", book), tmp_path / "out"
    epub(src, out)
    first = parts(out)

    (src / "02-b.md").write_text(book["02-b.md"] + "- A second fact about parts.\n", "utf-8")
    epub(src, out)
    second = parts(out)
    assert len(set(first) & set(second)) == 1  # B remade, A kept

    (src / "02-b.md").write_text(book["02-b.md"].replace("## Parts", "## Pieces"), "utf-8")
    epub(src, out)
    third = parts(out)
    assert not set(second) & set(third)  # both remade: A's link target is gone
    assert 'href="02-b.xhtml#parts"' not in docs(out)["01-a.xhtml"]


def test_a_part_damaged_on_disk_is_made_again_never_trusted(tmp_path: Path) -> None:
    """A part whose bytes changed on disk (here a letter of a word, which still unpickles) is a miss: the
    EPUB made from the cache shows the chapter as written."""
    src, out = write(tmp_path / "src", BOOK), tmp_path / "out"
    epub(src, out)
    before = docs(out)
    victim = next(p for p in (out / ".cache" / "epub").glob("*.part") if b"Anvil" in p.read_bytes())
    victim.write_bytes(victim.read_bytes().replace(b"Anvil", b"Anvjl"))
    next(out.glob("*.epub")).unlink()
    epub(src, out)
    assert docs(out) == before and "Anvjl" not in "".join(docs(out).values())


def test_the_cover_is_drawn_once_and_again_when_its_title_changes(tmp_path: Path, monkeypatch) -> None:
    from publisher.renderers.epub import cover

    drawn: list[list[str]] = []
    real = cover._draw
    monkeypatch.setattr(cover, "_draw", lambda layout, *fonts: drawn.append(layout["title_lines"]) or real(layout, *fonts))
    src, out = write(tmp_path / "src", BOOK), tmp_path / "out"
    epub(src, out)
    png = zipfile.ZipFile(next(out.glob("*.epub"))).read("EPUB/cover.png")
    (src / "01-a.md").write_text((src / "01-a.md").read_text() + "\n- One more line.\n")
    epub(src, out)  # a rebuild: its cover comes from the cache
    assert drawn == [["Cache"]]
    assert zipfile.ZipFile(next(out.glob("*.epub"))).read("EPUB/cover.png") == png
    (src / "book.toml").write_text('title = "Cache Two"\n')
    epub(src, out)
    assert drawn == [["Cache"], ["Cache Two"]]
    assert [p.name.startswith("cover-") for p in (out / ".cache" / "epub").glob("cover-*.png")] == [True]
