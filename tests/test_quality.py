"""The card-quality check: each rule fires on the faults the rubric names, and is quiet on good cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.core import model as m
from publisher.pipeline import load
from publisher.core.text import plain_text

from conftest import make_book

TOML = 'title = "Q"\nshort_name = "Q"\n[ids]\ndeck = 1\n'


def loaded(tmp_path: Path, chapter: str):
    return load(make_book(tmp_path, {"book.toml": TOML, "01-a.md": chapter}))


def findings(tmp_path: Path, chapter: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in loaded(tmp_path, chapter).diagnostics if d.code.startswith("P13")]


# (id, chapter, expected findings, whether the card on the first finding's line is still made)
CASES = [
    ("P130-identical-fronts", "# A\n\n## Runtime\n\n- ==Node.js==\n- ==Python==\n", [("P130", 5), ("P131", 5), ("P130", 6), ("P131", 6)], False),
    ("P131-both-hidden", "# A\n\n- ==Route table== - ==rules for traffic==\n", [("P131", 3)], False),
    ("P132-cut-off", "# A\n\n- Layers let you ==share code== between functions and\n", [("P132", 3)], False),
    ("P132-list-subject", "# A\n\n- What you expect to see in ==SNS message body==:\n    - Type\n    - TopicArn\n",
     [("P132", 3)], False),
    ("P133-yes-no-definition", "# A\n\n- **PCI DSS certified** - yes it is\n", [("P133", 3)], True),
    ("P133-yes-no-cloze", "# A\n\n- Instances can be stopped: ==true==\n", [("P133", 3)], True),
    ("P134-giveaway-heading", "# A\n\n## Lifecycle policy\n\n- Old versions are deleted by a ==lifecycle policy== you set\n", [("P134", 5)], True),
    ("P134-giveaway-front", "# A\n\n- A ==queue== decouples producers: the queue holds messages\n", [("P134", 3)], True),
    ("P135-count-only", "# A\n\n- There are ==3== ways to deploy it safely today\n", [("P135", 3)], True),
    ("P136-little-around", "# A\n\n- DynamoDB is ==schemaless==\n", [("P136", 3)], True),
    ("P138-placeholder-answer", "# A\n\n<details>\n<summary>What is a pod?</summary><br><b>\n\nTODO\n</b></details>\n",
     [("P138", 3)], False),
    ("P138-placeholder-heading", "# A\n\n## What is a hub?\n\nTBD.\n", [("P138", 3)], False),
    # an answer that only sends the learner elsewhere (a DevOps repo's "What is a harvester?" → "Read here")
    ("P138-only-a-link", "# A\n\n<details>\n<summary>What is a harvester?</summary><br><b>\n\nRead [here](https://example.com/h)\n"
     "</b></details>\n", [("P138", 3)], False),
    ("P138-only-an-address", "# A\n\n## What is the C10K problem?\n\nhttps://example.com/c10k\n", [("P138", 3)], False),
    ("P138-a-link-in-an-answer-is-fine", "# A\n\n## What is an operator?\n\nA controller of a custom resource: see "
     "[the docs](https://example.com/op).\n", [], True),
    ("P137-context-repeats", "# A\n\n## Indexes\n\n- **Indexes** - fast lookups on columns\n", [("P137", 5)], True),
]


@pytest.mark.parametrize(("name", "chapter", "expected", "kept"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_at_its_line(tmp_path: Path, name: str, chapter: str, expected: list, kept: bool) -> None:
    result = loaded(tmp_path, chapter)
    assert [(d.code, d.line) for d in result.diagnostics if d.code.startswith("P13")] == expected
    assert all(d.severity == "warning" for d in result.diagnostics if d.code.startswith("P13"))
    line = expected[0][1] if expected else 3  # (no finding: the card of the chapter's first line, made)
    assert any(c.loc.line == line for c in result.cards) == kept


GOOD = """\
# Networking

## Subnets

- A subnet is tied to exactly one ==Availability Zone== of its region
- **Route table** - rules that decide where traffic from a subnet goes
- Private subnets reach the internet through a ==NAT gateway== in a public subnet
- SQS keeps a message for up to ==14 days== before it deletes it
- There are ==3== ways to deploy (all-at-once, rolling, blue/green) <!-- card: no -->

## What does a security group filter?

Traffic to and from one instance, by port and source.
"""


def test_good_cards_are_quiet(tmp_path: Path) -> None:
    result = loaded(tmp_path, GOOD)
    assert [d for d in result.diagnostics if d.code.startswith("P13")] == []
    assert [c.kind for c in result.cards] == ["cloze", "definition", "cloze", "cloze", "question"]


def test_the_same_front_in_another_file_is_named_with_its_file(tmp_path: Path) -> None:
    """A new user's Korean notes: two near copies of a note under other names asked the same question with
    answers a typo apart; P130 said "also the front of line 3" at each, naming no other file."""
    from conftest import make_book
    from publisher.pipeline import load

    folder = make_book(tmp_path, {"a.md": "# Processes\n\n## Why keep a PCB?\n\nTo switch contexts.\n",
                                  "b.md": "# Processes\n\n## Why keep a PCB?\n\nTo swtich contexts.\n"})
    found = sorted((Path(d.file).name, d.message) for d in load(folder).diagnostics if d.code == "P130")
    assert [(name, "b.md:3" in msg or "a.md:3" in msg) for name, msg in found] == [("a.md", True), ("b.md", True)]
    assert "/b.md:3" in found[0][1] and "/a.md:3" in found[1][1]


def test_card_no_leaves_a_line_out_and_the_text_stays(tmp_path: Path) -> None:
    result = loaded(tmp_path, "# A\n\n- DynamoDB is ==schemaless== <!-- card: no -->\n- a ==fact== that matters here\n")
    assert [c.loc.line for c in result.cards] == [4]
    assert not [d for d in result.diagnostics if d.code.startswith("P13")]
    assert "DynamoDB is schemaless" in " ".join(plain_text(b.children) for b in _paras(result.book))


def _paras(book: m.Book):
    from publisher.core.text import walk_blocks

    return [b for ch in book.chapters for b in walk_blocks(ch.blocks) if isinstance(b, m.Para)]


# --------------------------------------------------------------------------- idioms fire only on terms


@pytest.mark.parametrize("line", [
    "- Classic Load Balancer (v1 - older generation - 2009)",
    "- Memory: 128MB -  10GB",
    "- 10.00 - 11.30",
    "- v2 - the new one",
    "- Can create any time - at table creation or after",
    "- If large table - use queries",
    "- **Other output units**: the softmax and the Gaussian units, each for its own task",  # GitBook notes
    "**Disclaimer**: these are my own notes and may hold mistakes",
])
def test_not_a_term_makes_no_definition(tmp_path: Path, line: str) -> None:
    result = loaded(tmp_path, f"# A\n\n{line}\n")
    assert [c.kind for c in result.cards] == []


def test_a_repeated_bold_label_is_not_a_term(tmp_path: Path) -> None:
    chapter = "# A\n\n" + "".join(f"## Task {i}\n\n**Hint**: think about step {i}\n\n" for i in range(3))
    chapter += "## Terms\n\n**Subnet**: a range of addresses\n"
    result = loaded(tmp_path, chapter)
    assert [plain_text(c.front[0].children) for c in result.cards] == ["Subnet"]


# --------------------------------------------------------------------------- questions in the forms people write


@pytest.mark.parametrize(("chapter", "question", "answer"), [
    ("# A\n\n1. [E] What is a subnet?\n    - a range of IP addresses in one zone\n", "[E] What is a subnet?", "a range of IP addresses in one zone"),
    ("# A\n\n**What does NAT do?**\n\nIt lets private hosts reach out.\n", "What does NAT do?", "It lets private hosts reach out."),
    ("# A\n\nQ: What does NAT do?\nA: It lets private hosts reach out.\n", "What does NAT do?", "It lets private hosts reach out."),
    ("# A\n\nQ: What does NAT do?\n\nA: It lets private hosts reach out.\n", "What does NAT do?", "It lets private hosts reach out."),
    ("# A\n\n<details>\n<summary>What does NAT do?</summary>\n\nIt lets private hosts reach out.\n\n</details>\n",
     "What does NAT do?", "It lets private hosts reach out."),
    ("# A\n\n## Task 1: Reverse a list\n\nWrite it in one line.\n\n<details><summary>Answer</summary>\n\n```python\nxs[::-1]\n```\n\n</details>\n",
     "Task 1: Reverse a list Write it in one line.", "xs[::-1]"),
    ("# A\n\nWhich gateway lets a private subnet out?\n\n<details>\n<summary>Show answer</summary>\n\nA NAT gateway.\n\n</details>\n",
     "Which gateway lets a private subnet out?", "A NAT gateway."),
])
def test_each_question_form_makes_one_question_card(tmp_path: Path, chapter: str, question: str, answer: str) -> None:
    from publisher.core.text import block_text

    result = loaded(tmp_path, chapter)
    cards = [c for c in result.cards if c.kind == "question"]
    assert len(cards) == 1, [(c.kind, c.loc) for c in result.cards]
    (card,) = cards
    assert " ".join(block_text(b) for b in card.front) == question
    assert " ".join(block_text(b) for b in card.back).strip() == answer


# --------------------------------------------------------------------------- per-item control on cards


def test_reverse_adds_a_reversed_note_and_keeps_the_forward_one(tmp_path: Path) -> None:
    result = loaded(tmp_path, "# A\n\n- **NAT gateway** - lets private subnets reach the internet <!-- card: reverse -->\n")
    ids = [(c.identity, plain_text(c.front[0].children)) for c in result.cards]
    assert ids == [("a/nat-gateway", "NAT gateway"), ("a/nat-gateway/reverse", "lets private subnets reach the internet")]


def test_cloze_hints_and_grouping_reach_the_deck(tmp_path: Path) -> None:
    from publisher.markup import html

    result = loaded(tmp_path, "# A\n\n- SQS keeps messages for ==14 days== <!-- hint: how long? --> at most, default ==4 days==\n"
                              "- Ports ==80== and ==443== serve the web <!-- card: together -->\n")
    first, second = result.cards
    assert first.identity == "a/cloze-14-days-4-days"  # the hint is no part of what is asked
    text = html.render(first.front, html.Options(cloze=True))
    assert "{{c1::14 days::how long?}}" in text and "{{c2::4 days}}" in text
    assert "how long" not in html.render(first.front)  # the sheet and the book show the answer only
    # "::" inside an answer is no hint: written as character references (issue 26: no zero-width space)
    assert "{{c1::AWS&#58;&#58;CloudFormation&#58;&#58;Stack}}" in html.render(
        loaded(tmp_path / "b", "# A\n\n- Nest stacks with ==AWS::CloudFormation::Stack== resources\n").cards[0].front,
        html.Options(cloze=True))
    from publisher.renderers import anki

    plan = anki.plan(result, tmp_path / "content")
    fields = {e.id: e.fields for e in plan.notes}
    assert "{{c1::80}}" in fields[second.identity][0] and "{{c1::443}}" in fields[second.identity][0]
