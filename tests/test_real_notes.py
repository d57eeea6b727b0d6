"""Notes written the way people write them build on the first run (tests/fixtures/notes).

The fixture holds numbered nested folders, a root README that links to pages (with GitHub
anchors and README badges), a sibling images/ folder, a file that starts at '####', level
jumps, <details> answers, HTML, YAML and TOML front matter with tags, curly apostrophes,
jargon, a LICENSE and a hidden .obsidian folder. A second tree is a GitBook book with SUMMARY.md.
"""

from __future__ import annotations

import anki.collection  # noqa: F401  (before the other anki modules)

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pypdf
import pytest

from anki_helpers import card_problems, import_apkg, new_collection
from conftest import build_and_check, make_book, run_publisher

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "notes"
NS = {"h": "http://www.w3.org/1999/xhtml"}


run = run_publisher


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_and_check(FIXTURE, "notes", tmp_path_factory.mktemp("notes"))


def test_the_first_build_succeeds_with_only_warnings(built: dict) -> None:
    assert built["build"].returncode == 0, built["build"].stdout + built["build"].stderr
    assert re.search(r"^0 errors, \d+ warnings", built["build"].stdout, re.M), built["build"].stdout
    summary = built["check"]["summary"]
    assert summary["errors"] == 0 and 0 < summary["warnings"] <= 10
    assert sorted(p.name for p in built["out"].iterdir() if not p.name.startswith(".")) == [
        "notes-cheatsheet.pdf", "notes.apkg", "notes.epub"]


def test_every_markdown_file_is_read_or_reported_as_left_out(built: dict) -> None:
    every = {p.relative_to(FIXTURE).as_posix() for p in FIXTURE.rglob("*.md")}
    stats = json.loads(run("stats", "notes", "--format", "json", cwd=built["base"]).stdout)
    read = {row["file"].split("notes/", 1)[1] for row in stats["chapters"]}
    left = {d["file"].split("notes/", 1)[1] for d in built["check"]["diagnostics"] if d["code"] == "P012"}
    assert left == {"LICENSE.md", ".obsidian/"}  # a repository file; a hidden folder (counted as one entry)
    assert read | {f for f in every if any(f == x or f.startswith(x) for x in left if x.endswith("/") or f == x)} == every
    assert not read & {f for f in every if f.startswith(".obsidian/") or f == "LICENSE.md"}
    assert built["check"]["summary"]["left_out"] == 2


def test_the_warnings_are_the_style_findings_people_can_act_on(built: dict) -> None:
    codes = sorted({d["code"] for d in built["check"]["diagnostics"] if d["severity"] == "warning"})
    assert codes == ["P103", "P105", "P126"]  # level jumps, an empty 'Todo', the README badges


def test_parts_in_the_epub_contents(built: dict) -> None:
    from lxml import etree

    with zipfile.ZipFile(built["out"] / "notes.epub") as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
        names = z.namelist()
    top = [a.text for a in nav.xpath("//h:nav[@id='toc']/h:ol/h:li/h:a", namespaces=NS)]
    assert top == ["Cloud Study Notes", "Networking", "Storage", "Practice", "Glossary"]
    storage = nav.xpath("//h:nav[@id='toc']/h:ol/h:li[3]/h:ol/h:li/h:a/text()", namespaces=NS)
    assert storage == ["S3", "EBS", "Glacier"]  # natural order: 1, 2, 10
    networking = nav.xpath("//h:nav[@id='toc']/h:ol/h:li[2]/h:ol/h:li/h:a/text()", namespaces=NS)
    assert networking == ["VPC", "1.2.1 DNS records"]  # the README opens the part; a '####' file keeps its title
    images = sorted(n for n in names if n.startswith("EPUB/images/"))
    assert len(images) == 3  # network, vpc, s3-console: each once, from any folder


def test_every_image_is_on_the_sheet(built: dict) -> None:
    reader = pypdf.PdfReader(built["out"] / "notes-cheatsheet.pdf")
    names = {name for page in reader.pages for name in (page.images.keys() if hasattr(page.images, "keys") else [i.name for i in page.images])}
    assert len(reader.pages) >= 1
    xobjects = set()
    for page in reader.pages:
        res = page.get("/Resources") or {}
        for key, obj in (res.get("/XObject") or {}).items():
            if obj.get_object().get("/Subtype") == "/Image":
                xobjects.add(obj.get_object().indirect_reference.idnum if obj.indirect_reference else key)
    assert len(xobjects) >= 3 or len(names) >= 3
    text = "".join(page.extract_text() for page in reader.pages)
    for words in ("Networking", "Glacier", "NAT gateway", "1.2.1 DNS records", "H2O"):
        assert words.replace(" ", "") in text.replace(" ", "").replace("\n", ""), words


def test_the_deck_imports_into_anki_with_parts_tags_and_images(built: dict, tmp_path: Path) -> None:
    col = new_collection(tmp_path / "col")
    try:
        import_apkg(col, built["out"] / "notes.apkg")
        assert card_problems(col) == []
        decks = sorted(d.name for d in col.decks.all_names_and_ids())
        assert "Notes::3 Storage::2 EBS" in decks and "Notes::2 Networking::1 VPC" in decks  # book order, numbered
        tags = set(col.tags.all())
        assert {"aws::vpc", "networking", "archive"} <= tags
        assert not any("scratch" in t.lower() for t in tags)  # cards: false made no card
        media = set(Path(col.media.dir()).iterdir())
        assert len(media) == 1  # the image on the EBS card
        notes = [col.get_note(n) for n in col.find_notes("")]
        assert any("<img" in f for n in notes for f in n.fields)
    finally:
        col.close()


def test_a_gitbook_book_follows_its_summary(tmp_path: Path) -> None:
    make_book(tmp_path, {
        "SUMMARY.md": "# Summary\n\n* [Introduction](README.md)\n* [Algorithms](chapter1/README.md)\n"
                      "    * [Sorting](chapter1/sorting.md)\n* [Math](chapter2/math.md)\n",
        "README.md": "# Interview notes\n\nStart [here](chapter1/README.md).\n",
        "chapter1/README.md": "# Algorithms\n\nThe classics.\n",
        "chapter1/sorting.md": "#### 5.1.1 Sorting\n\n- **Quicksort** - average O(n log n)\n\n##### Stability\n\nMerge sort is stable.\n",
        "chapter2/math.md": "## Some math\n\nSee [sorting](../chapter1/sorting.html#stability).\n",
        "drafts.md": "# Draft\n\nnot ready\n",
        "assets/x.png": b"",
    }, "book")
    proc = run("check", "book", "--format", "json", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["summary"]["chapters"] == 4
    assert [(d["file"], d["code"]) for d in data["diagnostics"] if d["code"] == "P012"] == [("book/drafts.md", "P012")]
    build = run("build", "book", "--out", "out", "--format", "epub", cwd=tmp_path)
    assert build.returncode == 0, build.stdout
    with zipfile.ZipFile(tmp_path / "out" / "book.epub") as z:
        nav = z.read("EPUB/nav.xhtml").decode()
        math = next(z.read(n).decode() for n in z.namelist() if n.endswith("chapter2-math.xhtml"))
    # a heading that says what SUMMARY.md calls the page ("Some math" for "Math") is its title
    assert nav.index("Interview notes") < nav.index("Algorithms") < nav.index("5.1.1 Sorting") < nav.index("Some math")
    assert 'href="03-chapter1-sorting.xhtml#stability"' in math  # a link to the .html GitBook would publish


def test_the_epub_passes_epubcheck(built: dict, tmp_path: Path) -> None:
    from test_epub import _epubcheck_all

    for path, data in _epubcheck_all([built["out"] / "notes.epub"], tmp_path).items():
        checker = data["checker"]
        problems = [f"{x['severity']} {x['ID']}: {x['message']} {x.get('locations', [])[:1]}" for x in data["messages"]]
        assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), problems
