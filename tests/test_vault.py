"""An Obsidian vault of course notes builds as written (tests/fixtures/vault): math in every delimiter,
wiki-links and embeds, attachments in a folder of their own, callouts with titles and fold markers, MkDocs
admonitions, inline and front-matter tags, a sound, %% comments %%. The three artifacts are read back:
the deck imported into Anki, the EPUB (EPUBCheck and Ace), the sheet (poppler and pypdf)."""

from __future__ import annotations

import anki.collection  # noqa: F401  (before the other anki modules)

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from lxml import etree

from anki_helpers import card_problems, import_apkg, new_collection
from conftest import build_and_check, run_publisher

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "vault"
NS = {"h": "http://www.w3.org/1999/xhtml", "mml": "http://www.w3.org/1998/Math/MathML",
      "opf": "http://www.idpf.org/2007/opf"}


run = run_publisher


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_and_check(FIXTURE, "vault", tmp_path_factory.mktemp("vault"))


def test_it_builds_on_the_first_run_with_one_warning_for_the_broken_formula(built: dict) -> None:
    assert built["build"].returncode == 0, built["build"].stdout + built["build"].stderr
    found = [(Path(d["file"]).name, d["line"], d["code"]) for d in built["check"]["diagnostics"] if d["severity"] != "note"]
    assert found == [("Limits.md", 29, "P139")]


# --------------------------------------------------------------------------- the deck, imported


@pytest.fixture(scope="module")
def collection(built: dict, tmp_path_factory: pytest.TempPathFactory):
    col = new_collection(tmp_path_factory.mktemp("anki"))
    import_apkg(col, built["out"] / "vault.apkg")
    yield col
    col.close()


def _note(col, text: str):
    found = [col.get_note(n) for n in col.find_notes("") if text in col.get_note(n).fields[0]]
    assert len(found) == 1, text
    return found[0]


def test_anki_gets_mathjax_delimiters_unchanged_even_inside_a_cloze(collection) -> None:
    note = _note(collection, "circle of radius")
    assert "\\(r\\)" in note.fields[0] and "{{c1::<span class=\"math\">\\(\\pi r^2\\)</span>}}" in note.fields[0]
    card = note.cards()[0]
    assert "\\(r\\)" in card.question() and "\\(\\pi r^2\\)" in card.answer()  # MathJax renders them in Anki
    assert card_problems(collection) == []


def test_anki_gets_front_matter_file_and_inline_tags_as_its_hierarchy(collection) -> None:
    tags = set(_note(collection, "make ATP").tags)
    assert {"biology::cells", "course::bio101", "exam", "energy"} <= tags
    assert "energy" not in " ".join(_note(collection, "make ATP").fields)  # a tag is never printed
    assert "energy" not in _note(collection, "Ribosomes").tags  # only the line that holds it
    assert "math" in _note(collection, "circle of radius").tags


def test_anki_plays_the_sound_and_the_package_carries_it(built: dict, collection) -> None:
    with zipfile.ZipFile(built["out"] / "vault.apkg") as z:
        media = json.loads(z.read("media"))
        assert any(name.endswith(".mp3") for name in media.values())
        number = next(k for k, v in media.items() if v.endswith(".mp3"))
        assert z.read(number) == (FIXTURE / "Attachments" / "pronunciation.mp3").read_bytes()
    card = _note(collection, "singular").cards()[0]
    assert [t.filename for t in card.question_av_tags()] == [v for v in media.values() if v.endswith(".mp3")]


def test_question_callouts_and_admonitions_make_question_cards(collection) -> None:
    assert "To grow" in _note(collection, "Why do cells divide?").fields[1]
    assert "sum to" in _note(collection, "Why normalise?").fields[1]


# --------------------------------------------------------------------------- the EPUB


@pytest.fixture(scope="module")
def epub(built: dict) -> dict[str, etree._Element]:
    with zipfile.ZipFile(built["out"] / "vault.epub") as z:
        docs = {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith((".xhtml", ".opf"))}
        docs["files"] = z.namelist()  # type: ignore[assignment]
    return docs


def _doc(epub: dict, stem: str) -> etree._Element:
    return next(v for k, v in epub.items() if k.endswith(f"{stem}.xhtml"))


def test_the_epub_holds_mathml_with_the_tex_as_alttext_and_says_so(epub: dict) -> None:
    limits = _doc(epub, "math-limits")
    maths = limits.xpath("//mml:math", namespaces=NS)
    assert len(maths) >= 8
    alts = [m.get("alttext") for m in maths]
    assert "\\pi r^2" in alts and "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}" in alts
    assert [m.get("display") for m in maths if m.get("alttext") == "\\lim_{x \\to a} f(x) = L"] == ["block"]
    text = "".join(limits.xpath("//h:body//text()", namespaces=NS))
    assert "$5 and the course $10" in text and "$\\frac{1}{2$" in text  # prices stay, the broken one as TeX
    opf = next(v for k, v in epub.items() if k.endswith(".opf"))
    props = {i.get("href"): i.get("properties") or "" for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    assert "mathml" in props[next(h for h in props if h.endswith("math-limits.xhtml"))]
    assert "mathml" not in props[next(h for h in props if h.endswith("biology-cells.xhtml"))]


def test_the_epub_resolves_wiki_links_shows_callout_titles_and_names_the_sound(epub: dict) -> None:
    cells = _doc(epub, "biology-cells")
    hrefs = {"".join(a.itertext()): a.get("href") for a in cells.xpath("//h:body//h:a", namespaces=NS)}
    assert hrefs["the squeeze theorem"].endswith("math-limits.xhtml#squeeze-theorem")
    assert hrefs["Probability"].endswith("math-probability.xhtml")
    assert hrefs["Limits"].endswith("math-limits.xhtml")  # ![[Limits]]: a page embed is a link
    text = " ".join(cells.xpath("//h:body//text()", namespaces=NS))
    assert "Remember this" in text and "(audio: pronunciation.mp3)" in text
    assert "#energy" not in text and "TODO" not in text and "%%" not in text
    assert any(src.startswith("images/") and "neuron" in src for src in cells.xpath("//h:img/@src", namespaces=NS))
    probability = " ".join(_doc(epub, "math-probability").xpath("//h:aside//text()", namespaces=NS))
    assert "Bayes\u2019 theorem" in probability and "Why normalise?" in probability  # typographic apostrophe


def test_epubcheck_and_ace_pass(built: dict, tmp_path: Path) -> None:
    from test_epub import _ace_command, _ace_failures, _epubcheck_all

    data = _epubcheck_all([built["out"] / "vault.epub"], tmp_path)[built["out"] / "vault.epub"]
    checker = data["checker"]
    assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), data["messages"]
    command, env = _ace_command()
    out = tmp_path / "ace"
    proc = subprocess.run([*command, "--force", "--silent", "--outdir", str(out), str(built["out"] / "vault.epub")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert _ace_failures(report["assertions"]) == [] and report["earl:result"]["earl:outcome"] == "pass"


# --------------------------------------------------------------------------- the sheet


def test_the_sheet_draws_formulas_as_vector_paths_with_no_raw_tex(built: dict) -> None:
    pdf = built["out"] / "vault-cheatsheet.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for raw in ("\\lim", "\\sum", "\\int", "\\pi", "$$", "\\(", "\\["):
        assert raw not in text, raw
    assert "$\\frac{1}{2$" in text and "$5 and the course $10" in text
    assert "[sound:" not in text and "#energy" not in text and "audio" not in text
    with pdfplumber.open(pdf) as doc:
        assert sum(len(p.curves) for p in doc.pages) >= 20  # glyph outlines, not text
    links = [a.get_object() for p in pypdf.PdfReader(pdf).pages for a in p.get("/Annots", [])]
    assert any(str(a.get("/Dest", "")).endswith("squeeze-theorem") for a in links)


def test_the_sheet_and_the_epub_show_the_attachment_found_elsewhere_in_the_vault(built: dict) -> None:
    images = subprocess.run(["pdfimages", "-list", str(built["out"] / "vault-cheatsheet.pdf")],
                            capture_output=True, text=True, check=True).stdout
    assert re.search(r"\b120\s+80\b", images)  # neuron.png, 120x80, from Attachments/
