"""Card derivation: definitions, clozes and questions, their context, tags and stable identities."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.markup import html
from publisher.core import model as m
from publisher.cards.derive import cloze_count, derive_cards, key_slug
from publisher.pipeline import load
from publisher.core.text import blocks_text, plain_text

from conftest import make_book

TOML = 'title = "My Book"\nshort_name = "MB"\n[ids]\ndeck = 1\n'


def cards_of(tmp_path: Path, chapter: str, name: str = "01-intro.md", extra: dict | None = None) -> tuple[m.Card, ...]:
    folder = make_book(tmp_path, {"book.toml": TOML, name: chapter, **(extra or {})})
    return load(folder).cards


def front(card: m.Card) -> str:
    return html.render(card.front, html.Options(cloze=card.kind == "cloze"))


def back(card: m.Card) -> str:
    return html.render(card.back)


BASE = """\
# Intro

## Basics

- **Queue** - holds messages
    - nested a
    - nested b
- SQS keeps messages ==4 days== by default, up to ==14 days==
- plain item without a card

A paragraph with ==one== mark and ==two== marks.

### What is SNS?

A pub/sub service.

- with bullets

## More

Term from a list
: its definition
"""


def test_the_cards_of_a_chapter(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, BASE)
    assert [(c.kind, c.identity, c.loc.line) for c in cards] == [
        ("definition", "intro/queue", 5),
        ("cloze", "intro/cloze-4-days-14-days", 8),
        ("cloze", "intro/cloze-one-two", 11),
        ("question", "intro/q-what-is-sns", 13),
        ("definition", "intro/term-from-a-list", 21),
    ]
    assert all(c.chapter == "intro" and not c.pinned for c in cards)


def test_definition_card(tmp_path: Path) -> None:
    card = cards_of(tmp_path, BASE)[0]
    assert front(card) == "<p><strong>Queue</strong></p>"
    assert back(card) == "<p>holds messages</p>\n<ul>\n<li>nested a</li>\n<li>nested b</li>\n</ul>"


def test_definition_list_card(tmp_path: Path) -> None:
    card = cards_of(tmp_path, BASE)[-1]
    assert front(card) == "<p>Term from a list</p>" and back(card) == "<p>its definition</p>"


def test_cloze_cards_number_their_deletions_in_order(tmp_path: Path) -> None:
    _, item, para, *_ = cards_of(tmp_path, BASE)
    assert front(item) == "<p>SQS keeps messages {{c1::4 days}} by default, up to {{c2::14 days}}</p>"
    assert front(para) == "<p>A paragraph with {{c1::one}} mark and {{c2::two}} marks.</p>"
    assert (cloze_count(item), cloze_count(para)) == (2, 2)
    assert item.back == () and para.back == ()
    # without cloze=True the marks are highlights
    assert html.render(item.front) == "<p>SQS keeps messages <mark>4 days</mark> by default, up to <mark>14 days</mark></p>"


def test_one_cloze_card_per_paragraph_or_item(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# A\n\n- ==a== and ==b==\n- the ==c== letter\n    - ==d== nested\n\n==e== para\n")
    assert [(c.kind, cloze_count(c), c.loc.line) for c in cards] == [("cloze", 2, 3), ("cloze", 1, 4), ("cloze", 1, 5), ("cloze", 1, 7)]


def test_question_card(tmp_path: Path) -> None:
    card = cards_of(tmp_path, BASE)[3]
    assert front(card) == "<p>What is SNS?</p>"
    assert back(card) == "<p>A pub/sub service.</p>\n<ul>\n<li>with bullets</li>\n</ul>"


def test_question_back_includes_its_subsections(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# A\n\n## Why queues?\n\nBecause.\n\n### Detail\n\nMore.\n\n## Next\n\nOther.\n")
    (card,) = cards
    assert card.kind == "question"
    assert "Because." in back(card) and "More." in back(card) and "Other." not in back(card)


def test_question_back_leaves_out_the_questions_below_it(tmp_path: Path) -> None:
    """Course notes: "## Section 1: Why use C?" over "### Why is C fast?": each asks its own question;
    copied onto the first card's back, the second's answer made it a back of several facts. A heading
    question whose only content is questions below it is a group title, not a card."""
    cards = cards_of(tmp_path, "# Course\n\n## Section 1: Why use C?\n\nIt is close to the machine.\n\n"
                               "### Why is C fast?\n\nNo runtime.\n\n### Memory\n\nManual.\n\n"
                               "## Section 2: Quiz?\n\n### What is a pointer?\n\nAn address.\n")
    assert [c.kind for c in cards] == ["question", "question", "question"]
    first, fast, pointer = cards
    assert "close to the machine" in back(first) and "Manual." in back(first)  # a plain subsection stays
    assert "No runtime" not in back(first) and "No runtime" in back(fast)
    assert "An address" in back(pointer) and "Quiz" not in front(pointer)


def test_context_and_tags(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, BASE)
    assert cards[0].context[:2] == ("Intro", "Basics")
    assert cards[0].tags == ("mb::intro::basics",)
    question = cards[3]
    assert question.context == ("Intro", "Basics") and question.tags == ("mb::intro::basics",)
    assert cards[-1].context == ("Intro", "More") and cards[-1].tags == ("mb::intro::more",)


def test_context_and_tags_of_deeper_sections(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# Intro\n\n## Top Part\n\n### Inner Part\n\n- ==x== here\n")
    assert cards[0].context == ("Intro", "Top Part", "Inner Part")
    assert cards[0].tags == ("mb::intro::top-part::inner-part",)


def test_card_before_any_section(tmp_path: Path) -> None:
    (card,) = cards_of(tmp_path, "# Intro\n\nA ==fact== up front.\n")
    assert card.context == ("Intro",) and card.tags == ("mb::intro",)


def test_nested_card_names_its_parent_item(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# Intro\n\n## S\n\n- Lazy loading\n    - only ==requested data== is cached\n")
    (card,) = cards
    assert card.context == ("Intro", "S", "Lazy loading")
    assert card.tags == ("mb::intro::s",)  # the parent item is context, not a tag


def test_a_nested_card_sees_its_parents_subject_but_never_its_answer(tmp_path: Path) -> None:
    # issue 26: the parent's marked words are its answer: the nested card's context hides them (it showed them
    # before, and 17 AWS cards gave a sibling's answer away); a parent left with too few words is not shown
    long = "By default all S3 resources are ==private==, only the AWS account that created the resources can reach them"
    parent, child = cards_of(tmp_path, f"# Intro\n\n## S\n\n- {long}\n    - add a ==bucket policy== to open it\n")
    assert parent.kind == child.kind == "cloze"
    lead = child.context[-1]
    assert lead.startswith("By default all S3 resources are [\u2026], only") and "private" not in lead
    assert lead.endswith("\u2026") and len(lead) <= 90
    shown = long.replace("==private==", "[\u2026]")
    assert lead[:-1] == shown[: len(lead) - 1] and shown[len(lead) - 1] == " "  # cut between words
    bare = cards_of(tmp_path / "b", "# Intro\n\n## S\n\n- ==Versioning== enabled\n    - old versions ==accumulate==\n")[-1]
    assert bare.context == ("Intro", "S")  # "[…] enabled" names nothing: the section alone
    *_, cut = cards_of(tmp_path / "c", "# Intro\n\n## S\n\n- " + "word " * 14 + "uses envelope key (a data key "
                      "encrypted under a master key)\n    - the ==data key== encrypts the object\n")
    assert cut.context[-1].endswith("uses envelope key\u2026")  # not "key (a…": cut before the parenthesis


def test_numbered_step_with_a_term_makes_a_definition(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# A\n\n1. **Initiate** - start the upload\n2. plain step\n")
    assert [(c.kind, c.identity) for c in cards] == [("definition", "intro/initiate")]
    assert back(cards[0]) == "<p>start the upload</p>"


def test_no_cards_from_plain_text_code_tables_or_alerts_without_marks(tmp_path: Path) -> None:
    src = ("# A\n\nPlain text.\n\n- plain item\n\n```\nTerm - text ==x==\n```\n\n| a | b |\n|---|---|\n| x | y |\n\n"
           "> [!NOTE]\n> **Term** - text\n")
    assert cards_of(tmp_path, src) == ()


# --------------------------------------------------------------------------- pins


def test_pins(tmp_path: Path) -> None:
    src = ("# A\n\n- **Pinned** - body <!-- id: my-pin -->\n- text ==cloze== here <!-- id: cz -->\n\n"
           "## Why? <!-- id: q.why -->\n\nBecause.\n\n**Para term** - body <!-- id: para/term -->\n")
    cards = cards_of(tmp_path, src)
    assert [(c.kind, c.identity, c.pinned) for c in cards] == [
        ("definition", "my-pin", True), ("cloze", "cz", True), ("question", "q.why", True), ("definition", "para/term", True),
    ]
    assert "<!--" not in front(cards[0]) + back(cards[0]) + front(cards[1])


def test_derive_cards_is_pure_and_ordered(tmp_path: Path) -> None:
    loaded = load(make_book(tmp_path, {"book.toml": TOML, "01-a.md": BASE, "02-b.md": "# B\n\n- ==b== fact\n"}))
    assert derive_cards(loaded.book) == loaded.cards
    assert [c.chapter for c in loaded.cards][-1] == "b"


def test_key_slug() -> None:
    assert key_slug("Multipart Upload") == "multipart-upload"
    assert key_slug("  Multipart   upload ") == "multipart-upload"
    long = key_slug("a very long term " * 10)
    assert len(long) <= 48 and long != key_slug("a very long term " * 11)
    assert key_slug("???") != key_slug("!!!") and key_slug("???").startswith("x")
    assert key_slug("Caf\u00e9") == "cafe"
    # letters the slug drops (Hangul beside Latin) leave a hash of the whole text: two questions that differ
    # only there are two identities, neither numbered by the order they come in (a Korean repo's "q-pcb",
    # "q-pcb.2")
    why, how = key_slug("PCB가 왜 필요한가요?"), key_slug("PCB는 어떻게 관리되나요?")
    assert why.startswith("pcb-") and how.startswith("pcb-") and why != how


# --------------------------------------------------------------------------- identity stability

STABLE = """\
# Intro

## Basics

- **Queue** - holds messages
    - nested a
- SQS keeps messages ==4 days== by default
- **Topic** - fan out

### What is SNS?

A pub/sub service.
"""


def identities(tmp_path: Path, chapter: str, sub: str) -> dict[str, str]:
    """front text -> identity"""
    cards = cards_of(tmp_path / sub, chapter)
    return {plain_text(c.front[0].children): c.identity for c in cards}  # type: ignore[union-attr]


BASE_IDS = {
    "Queue": "intro/queue",
    "SQS keeps messages 4 days by default": "intro/cloze-4-days",
    "Topic": "intro/topic",
    "What is SNS?": "intro/q-what-is-sns",
}

EDITS = {
    "definition body edited": STABLE.replace("holds messages", "stores messages for consumers").replace("nested a", "nested b"),
    "question body edited": STABLE.replace("A pub/sub service.", "A managed pub/sub service.\n\n- with a list"),
    "words around the cloze edited": STABLE.replace("SQS keeps messages ==4 days== by default", "By default SQS keeps a message for ==4 days==."),
    "card inserted before": STABLE.replace("- **Queue**", "- **Stream** - ordered records\n- **Queue**"),
    "card removed": STABLE.replace("- **Topic** - fan out\n", ""),
    "cards reordered": STABLE.replace("- **Queue** - holds messages\n    - nested a\n", "").replace(
        "- **Topic** - fan out\n", "- **Topic** - fan out\n- **Queue** - holds messages\n    - nested a\n"),
    "section renamed": STABLE.replace("## Basics", "## The Basics"),
    "paragraph added in between": STABLE.replace("## Basics\n", "## Basics\n\nSome new introduction.\n"),
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_identity_survives_answer_edits_and_moves(tmp_path: Path, edit: str) -> None:
    assert identities(tmp_path, STABLE, "base") == BASE_IDS
    after = identities(tmp_path, EDITS[edit], "edited")
    for front_text, identity in after.items():
        key = "SQS keeps messages 4 days by default" if "4 days" in front_text else front_text
        if key in BASE_IDS:
            assert identity == BASE_IDS[key], (edit, front_text)
    assert len(set(after.values())) == len(after)


CHANGES = {
    "term changed": (STABLE.replace("**Queue**", "**Message queue**"), "Queue"),
    "marked text changed": (STABLE.replace("==4 days==", "==four days=="), "SQS keeps messages 4 days by default"),
    "question changed": (STABLE.replace("What is SNS?", "What is Amazon SNS?"), "What is SNS?"),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_identity_changes_with_what_the_card_asks(tmp_path: Path, change: str) -> None:
    src, old_front = CHANGES[change]
    after = identities(tmp_path, src, "changed")
    assert BASE_IDS[old_front] not in after.values()
    assert len(after) == len(BASE_IDS)


PINNED = (STABLE.replace("- **Queue** - holds messages", "- **Queue** - holds messages <!-- id: queue-pin -->")
          .replace("by default\n", "by default <!-- id: cloze-pin -->\n")
          .replace("### What is SNS?", "### What is SNS? <!-- id: q-pin -->"))


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_pinned_identity_survives_a_change_of_what_it_asks(tmp_path: Path, change: str) -> None:
    before = set(identities(tmp_path, PINNED, "pinned").values())
    assert {"queue-pin", "cloze-pin", "q-pin"} <= before
    src, _ = CHANGES[change]
    pinned_src = (src.replace("- **Queue** - holds messages", "- **Queue** - holds messages <!-- id: queue-pin -->")
                  .replace("- **Message queue** - holds messages", "- **Message queue** - holds messages <!-- id: queue-pin -->")
                  .replace("by default\n", "by default <!-- id: cloze-pin -->\n")
                  .replace("### What is SNS?", "### What is SNS? <!-- id: q-pin -->")
                  .replace("### What is Amazon SNS?", "### What is Amazon SNS? <!-- id: q-pin -->"))
    assert set(identities(tmp_path, pinned_src, "pinned-changed").values()) == before


def test_identity_survives_renumbering_the_chapter_file(tmp_path: Path) -> None:
    a = {c.identity for c in cards_of(tmp_path / "a", STABLE, name="01-intro.md")}
    b = {c.identity for c in cards_of(tmp_path / "b", STABLE, name="07-intro.md")}
    assert a == b


def test_same_term_in_two_chapters_gets_two_identities(tmp_path: Path) -> None:
    cards = cards_of(tmp_path, "# A\n\n- **Queue** - one\n", extra={"02-other.md": "# B\n\n- **Queue** - two\n"})
    assert [c.identity for c in cards] == ["intro/queue", "other/queue"]


def test_terms_on_consecutive_lines_share_one_definition_card(tmp_path: Path) -> None:
    folder = make_book(tmp_path, {"book.toml": TOML, "01-intro.md": "# Intro\n\nSQS\nSimple Queue Service\n: a hosted queue\n"})
    loaded = load(folder)
    assert [d.code for d in loaded.diagnostics if d.severity == "error"] == []
    (card,) = loaded.cards
    assert card.kind == "definition" and card.identity == "intro/sqs-simple-queue-service"
    assert front(card) == "<p>SQS<br>Simple Queue Service</p>" and back(card) == "<p>a hosted queue</p>"


def test_cards_that_share_an_identity_are_told_apart_in_order(tmp_path: Path) -> None:
    src = "# A\n\nThe ==cat== sat.\n\nA ==cat== ran.\n\nOne ==cat== slept.\n"
    ids = [c.identity for c in cards_of(tmp_path / "a", src)]
    assert ids == ["intro/cloze-cat", "intro/cloze-cat.2", "intro/cloze-cat.3"]
    # an unrelated card inserted before them changes none of them
    grown = "# A\n\nA ==dog== barked.\n\n" + src.split("\n\n", 1)[1]
    assert [c.identity for c in cards_of(tmp_path / "b", grown)] == ["intro/cloze-dog", *ids]
    loaded = load(make_book(tmp_path / "c", {"book.toml": TOML, "01-intro.md": src}))
    found = [(d.code, d.line, d.severity) for d in loaded.diagnostics if d.code == "P104"]
    assert found == [("P104", 5, "warning"), ("P104", 7, "warning")] and loaded.ok


def test_a_pin_claims_its_identity_first(tmp_path: Path) -> None:
    src = "# A\n\nThe ==cat== sat.\n\nA ==dog== ran. <!-- id: intro/cloze-cat -->\n"
    assert [c.identity for c in cards_of(tmp_path, src)] == ["intro/cloze-cat.2", "intro/cloze-cat"]


def test_front_matter_tags_and_no_cards(tmp_path: Path) -> None:
    tagged = "---\ntags: [aws/vpc, exam]\n---\n# A\n\n- **Subnet** - a range of addresses\n"
    (card,) = cards_of(tmp_path / "a", tagged)
    assert card.tags == ("mb::intro", "aws::vpc", "exam")
    assert cards_of(tmp_path / "b", "---\ncards: false\n---\n# A\n\n- **Subnet** - a range\n- a ==fact==\n") == ()


def test_a_definition_without_a_body_makes_no_card(tmp_path: Path) -> None:
    loaded = load(make_book(tmp_path, {"book.toml": TOML, "01-intro.md": "# A\n\nTerm\n: \n\n- **Other** - fine\n"}))
    assert [c.identity for c in loaded.cards] == ["intro/other"]


def test_cards_in_folders_start_with_the_path_slug(tmp_path: Path) -> None:
    folder = make_book(tmp_path, {"book.toml": TOML, "01-net/02-vpc.md": "# VPC\n\n## Basics\n\n- **Subnet** - a range\n",
                                  "details.md": "# D\n\n<details><summary>Answer</summary>\n\nA ==NAT== gateway\n\n</details>\n"})
    loaded = load(folder)
    assert [(c.identity, c.tags) for c in loaded.cards] == [
        ("net-vpc/subnet", ("mb::net-vpc::basics",)), ("details/cloze-nat", ("mb::details",))]


# --------------------------------------------------------------------------- issue 21: <details> as GitHub shows it


def _side(blocks: tuple[m.Block, ...]) -> str:
    return html.render(blocks, html.Options())


def test_a_summary_that_holds_a_list_or_code_asks_with_it_and_the_body_answers(tmp_path: Path) -> None:
    chapter = ("# Networking\n\n<details>\n<summary>For each of the following, name its OSI layer:\n\n"
               "  * MAC address\n  * IP address</summary><br><b>\n  * MAC address - Data link\n  * IP address - Network\n"
               "</b></details>\n\n<details>\n<summary>What's the result of the following code?\n\n"
               "```js\nconsole.log(1 + \"1\")\n```\n</summary><br><b>\n\n\"11\"\n</b></details>\n\n"
               "<details>\n<summary>What is a hub?</summary><br><b>\n\nA layer 1 device.\n\n"
               "<details>\n<summary>And a switch?</summary>\n\nA layer 2 device.\n</details>\n</b></details>\n\n"
               "<details>\n<summary>What is left unsaid?</summary>\n</details>\n\n## After\n\nStill here.\n")
    found = cards_of(tmp_path, chapter)
    by_q = {plain_text(c.front[0].children): c for c in found}
    assert list(by_q) == ["For each of the following, name its OSI layer:", "What's the result of the following code?",
                          "What is a hub?", "And a switch?"]
    osi = by_q["For each of the following, name its OSI layer:"]
    assert "<li>IP address</li>" in _side(osi.front) and "Data link" in _side(osi.back) and "Network" in _side(osi.back)
    assert "Data link" not in _side(osi.front)
    code = by_q["What's the result of the following code?"]
    assert "console" in _side(code.front) and "11" in _side(code.back)
    hub = by_q["What is a hub?"]
    assert "layer 1" in _side(hub.back) and "switch" not in _side(hub.back)  # the nested one is a card of its own
    assert "layer 2" in _side(by_q["And a switch?"].back)
    loaded = load(tmp_path / "content")
    assert [d.line for d in loaded.diagnostics if d.code == "P138"] == [loaded.book.chapters[0].blocks[3].loc.line]
    assert plain_text(loaded.book.chapters[0].blocks[-1].title) == "After"


def test_numbered_list_item_headings_are_questions_with_their_answers(tmp_path: Path) -> None:
    """Issue 21: ``1. ### What is a closure``, the answer indented under it: a heading (its anchor resolves,
    no level jump) and a question card, '?' or not; the contents list before them stays a list."""
    chapter = ("# JavaScript Interview\n\n## Table of Contents\n\n1. [What is a closure](#what-is-a-closure)\n"
               "2. [What is hoisting?](#what-is-hoisting)\n\n1. ### What is a closure\n\n"
               "   A closure is a function bundled with its lexical scope.\n\n   ```js\n   const f = () => x\n   ```\n\n"
               "2. ### What is hoisting?\n\n   Declarations move to the top of their scope.\n")
    found = cards_of(tmp_path, chapter)
    assert [(c.kind, plain_text(c.front[0].children)) for c in found] == [
        ("question", "What is a closure"), ("question", "What is hoisting?")]
    assert "lexical scope" in html.render(found[0].back, html.Options()) and "const" in html.render(found[0].back, html.Options())
    assert "hoisting" not in html.render(found[0].back, html.Options())
    loaded = load(tmp_path / "content")
    assert [d.code for d in loaded.diagnostics if d.code in ("P103", "P114", "P138")] == []


def test_a_heading_indented_short_of_its_numbered_question_stays_in_that_question(tmp_path: Path) -> None:
    """A learner's read of a 5,000-line interview README: ``3. ### Question``, its answer, then
    ``  ## Key Points`` indented two columns (short of the item's text, so GitHub shows an H2 after the
    list), then ``4. ### Next question``. The numbering goes on, so the author meant it inside question 3:
    it is on question 3's back, and the questions after it do not read 'Key Points' as their context
    (560 cards did)."""
    chapter = ("# JavaScript Interview\n\n### Table of Contents\n\n"
               "1. ### What is a closure\n\n   A function bundled with its lexical scope.\n\n"
               "  ## Key Points\n\n  - It keeps the outer variables alive.\n\n"
               "2. ### What is hoisting\n\n   Declarations move to the top of their scope.\n\n"
               "## Appendix\n\n1. ### What is a realm\n\n   A global environment.\n")
    found = cards_of(tmp_path, chapter)
    assert [(plain_text(c.front[0].children), c.context) for c in found] == [
        ("What is a closure", ("JavaScript Interview",)), ("What is hoisting", ("JavaScript Interview",)),
        ("What is a realm", ("JavaScript Interview", "Appendix"))]  # a new run (from 1) under its own heading
    assert "Key Points" in back(found[0]) and "outer variables" in back(found[0])
    assert "Key Points" not in back(found[1])
    loaded = load(tmp_path / "content")
    assert "key-points" in {s.anchor for c in loaded.book.chapters for s in _sections(c.blocks)}
    assert [d.code for d in loaded.diagnostics if d.code in ("P114", "P138", "P142")] == []
    assert ["Table of Contents" in d.message for d in loaded.diagnostics if d.code == "P103"] == [True]  # H1 to H3, as written


def _sections(blocks: tuple[m.Block, ...]) -> list[m.Section]:
    out = []
    for b in blocks:
        if isinstance(b, m.Section):
            out += [b, *_sections(b.blocks)]
    return out


def test_the_code_a_question_asks_about_is_on_its_front(tmp_path: Path) -> None:
    """A learner's read of an interview README: "What is the output of the following for loops", the loops
    in the code block under it, made a card whose front showed no loops (their output on the back). The
    code it asks about asks with it; not when the front shows code already (what follows then answers),
    nor when nothing would be left to answer with, nor on a card written as one."""
    chapter = ("# Output\n\n1. ### What is the output of the following loop\n\n   ```js\n   for (var i = 0; i < 2; i++) "
               "setTimeout(() => log(i))\n   ```\n\n   It logs 2 twice: var is function scoped.\n\n"
               "2. ### What does this code print\n\n   ```js\n   log(typeof null)\n   ```\n\n"
               "## Queries\n\n<details>\n<summary>Which of the following queries is faster?\n\n```sql\nSELECT a\n```\n\n```sql\nSELECT b\n```\n"
               "</summary><br><b>\n\n```sql\nSELECT b\n```\n\nThe second: it uses the index.\n</b></details>\n")
    written = "#flashcards\n\n# Written\n\nWhat prints the following?\n?\n```js\nlog(1)\n```\nIt prints 1.\n"
    found = cards_of(tmp_path, chapter, extra={"02-written.md": written})
    by_q = {plain_text(c.front[0].children): c for c in found if c.kind == "question"}
    loop = by_q["What is the output of the following loop"]
    assert "setTimeout" in front(loop) and "setTimeout" not in back(loop) and "twice" in back(loop)
    assert "typeof" in back(by_q["What does this code print"])  # (the code alone: nothing else answers)
    faster = by_q["Which of the following queries is faster?"]
    assert blocks_text(faster.front).count("SELECT") == 2 and "SELECT b" in blocks_text(faster.back)
    written = by_q["What prints the following?"]
    assert "log(1)" in blocks_text(written.back) and "log(1)" not in blocks_text(written.front)  # as written


def test_a_summary_that_only_folds_or_names_an_example_asks_nothing(tmp_path: Path) -> None:
    """A new user's Portuguese mdBook: 3 of its 4 cards were "Clique para Expandir/Retrair" and "Exemplo de
    ..." over code listings. A summary that only says to unfold, or names an example, is no question, and the
    listing under it answers no heading; after a question it is that question's answer, and an answer's
    summary in another language ("Resposta", "答案") is one too."""
    chapter = ("# C\n\n## Reading the terminal\n\nA robust line reader.\n\n<details>\n<summary>Clique para Expandir/Retrair"
               "</summary>\n\n```c\nint my_readline(void);\n```\n</details>\n\n## Arenas\n\n<details>\n"
               "<summary>Exemplo de alocador arena</summary>\n\n```c\nvoid *arena_alloc(size_t n);\n```\n</details>\n\n"
               "## Exercises\n\nWhat does `fgets` keep at the end of a line?\n\n<details>\n<summary>Click to expand</summary>\n\n"
               "The newline, when the buffer holds it.\n</details>\n\n### Reverse a string in place\n\n<details>\n"
               "<summary>Resposta</summary>\n\n```c\nvoid rev(char *s);\n```\n</details>\n\n### Sum of an array\n\n<details>\n"
               "<summary>答案</summary>\n\n```c\nint sum(int *a, int n);\n```\n</details>\n")
    found = cards_of(tmp_path, chapter)
    assert [(c.kind, plain_text(c.front[0].children)) for c in found] == [
        ("question", "What does fgets keep at the end of a line?"), ("question", "Reverse a string in place"),
        ("question", "Sum of an array")]
    assert "newline" in back(found[0]) and "rev" in back(found[1]) and "sum" in back(found[2])


def test_a_back_to_top_link_is_on_no_back_and_not_on_the_sheet(tmp_path: Path) -> None:
    """Long interview READMEs end each answer with "**[⬆ Back to Top](#table-of-contents)**": on a card
    (and on paper) it leads nowhere. The EPUB keeps it (there it goes back to the contents)."""
    from publisher.renderers.pdf import printable

    chapter = ("# Questions\n\n## Table of Contents\n\n1. [What is a closure](#what-is-a-closure)\n\n"
               "1. ### What is a closure\n\n    A function with the variables of the scope it was made in.\n\n"
               "    **[⬆ Back to Top](#table-of-contents)**\n\n"
               "2. ### What is hoisting\n\n    Declarations moved to the top of their scope.\n\n"
               "    [↑ top](#table-of-contents) | [Contents](#table-of-contents)\n\n"
               "See [the top](#table-of-contents) of this page, and [Back to Top](https://example.com/top).\n")
    folder = make_book(tmp_path, {"book.toml": TOML, "01-q.md": chapter})
    loaded = load(folder)
    questions = [c for c in loaded.cards if c.kind == "question"]
    assert [plain_text(c.front[0].children) for c in questions] == ["What is a closure", "What is hoisting"]
    assert all("⬆" not in back(c) and "↑" not in back(c) and "Contents" not in back(c) for c in questions)
    assert "function with the variables" in back(questions[0])
    sheet = html.render(printable(loaded.book).chapters[0].blocks)
    assert "⬆" not in sheet and "↑ top" not in sheet
    assert "the top" in sheet and "https://example.com/top" in sheet  # a sentence, and a link elsewhere, stay
    assert "⬆ Back to Top" in html.render(loaded.book.chapters[0].blocks)  # the book keeps it
