"""Deterministic synthetic books in the content format, for the benchmark.

``write_book(folder, facts)`` writes about ``facts`` facts: definitions, clozes,
questions, nested lists, code, tables and alerts, spread over chapters of
about 150 facts each. The same arguments always give the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (
    "table index stream queue topic bucket object policy role user group key token cache node cluster shard "
    "partition replica region zone subnet route gateway endpoint function layer alias version stage deployment "
    "template stack resource output parameter metric alarm log event rule target trigger record domain "
    "certificate secret value limit quota throughput capacity latency request response header payload batch "
    "retry timeout backoff consistent durable encrypted private public regional global default maximum minimum"
).split()

FACTS_PER_CHAPTER = 150


def _phrase(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _chapter(rng: random.Random, number: int, facts: int) -> str:
    out = [f"# Chapter {number}: {_phrase(rng, 2).title()}", ""]
    made = 0
    section = 0
    while made < facts:
        section += 1
        out += [f"## Section {number}.{section} {_phrase(rng, 2)}", ""]
        if section % 4 == 0:
            out += [f"### What is the {_phrase(rng, 2)} of item {number}-{section}?", "",
                    f"It is the {_phrase(rng, 8)}.", ""]
            made += 1
        for i in range(rng.randint(4, 8)):
            kind = rng.random()
            tag = f"{number}-{section}-{i}"
            if kind < 0.40:
                out.append(f"- **Term {tag} {_phrase(rng, 1)}** - {_phrase(rng, rng.randint(6, 16))}")
                made += 1  # the term and its text are two facts
                if rng.random() < 0.3:
                    out.append(f"    - {_phrase(rng, rng.randint(4, 9))}")
                    made += 1
            elif kind < 0.75:
                out.append(f"- The {_phrase(rng, 3)} of {tag} is =={_phrase(rng, 2)} {tag}== by {_phrase(rng, 5)}")
            else:
                out.append(f"- {_phrase(rng, rng.randint(8, 18))} ({tag})")
            made += 1
        out.append("")
        if section % 5 == 1:
            out += ["| Setting | Default | Maximum |", "|---|---:|---:|"]
            made += 3
            for r in range(3):
                out.append(f"| {_phrase(rng, 2)} {number}-{section}-{r} | {rng.randint(1, 99)} | {rng.randint(100, 9999)} |")
                made += 3  # each cell is a fact
            out.append("")
        if section % 6 == 2:
            out += ["```python", f"client.put_item(TableName='t{number}{section}', Item={{'id': {section}}})", "```", ""]
            made += 1
        if section % 7 == 3:
            out += ["> [!NOTE]", f"> Since 2020 the {_phrase(rng, 6)} ({number}-{section}).", ""]
            made += 1
    return "\n".join(out) + "\n"


def write_book(folder: Path, facts: int, seed: int = 7) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    chapters = max(1, round(facts / FACTS_PER_CHAPTER))
    per = facts // chapters
    for n in range(1, chapters + 1):
        (folder / f"{n:03d}-chapter.md").write_text(_chapter(rng, n, per), encoding="utf-8")
    (folder / "book.toml").write_text(
        f'title = "Synthetic {facts}"\nshort_name = "Syn{facts}"\nauthor = "bench"\nlanguage = "en"\n'
        f'version = "1"\ndate = "2024-01-01"\npage_budget = 0\n'
        f'[ids]\ndeck = {1700000000000 + facts}\nbasic_model = {1700000000001 + facts}\n'
        f'cloze_model = {1700000000002 + facts}\nepub = "urn:uuid:00000000-0000-4000-8000-{facts:012d}"\n',
        encoding="utf-8",
    )
    (folder / "wordlist.txt").write_text("\n".join(sorted(set(WORDS))) + "\n", encoding="utf-8")
    return folder


def _jargon(rng: random.Random) -> str:
    """An invented technical word (unknown to any dictionary), sometimes one letter off a real word."""
    if rng.random() < 0.3:
        word = rng.choice(WORDS)
        i = rng.randrange(len(word))
        return word[:i] + rng.choice("aeioukxz") + word[i + 1:]
    return "".join(rng.choice("bcdfgklmnprstvxz") + rng.choice("aeiouy") for _ in range(rng.randint(2, 4)))


def write_notes_tree(folder: Path, files: int = 200, seed: int = 7) -> Path:
    """A notes repository the way people keep one: numbered nested folders with READMEs, front matter,
    HTML answers, curly apostrophes, links across folders and a lot of invented jargon."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    jargon = [_jargon(rng) for _ in range(3000)]
    (folder / "README.md").write_text("# Study notes\n\nStart with [part 1](01-part/README.md).\n", "utf-8")
    parts = max(1, files // 20)
    for n in range(files - 1):
        part = n % parts + 1
        sub = folder / f"{part:02d}-part" / (f"{n % 3 + 1}-topic" if n % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        if not (folder / f"{part:02d}-part" / "README.md").exists():
            (folder / f"{part:02d}-part" / "README.md").write_text(f"# Part {part}\n\nOverview of part {part}.\n", "utf-8")
        lines = ["---", f"tags: [notes/{part}, {rng.choice(WORDS)}]", "---", "", f"# {_phrase(rng, 2).title()} {n}", ""]
        for s in range(rng.randint(2, 4)):  # about 18 facts a file, as in the AWS notes
            lines += [f"## {_phrase(rng, 2).title()} {s}", ""]
            for _ in range(rng.randint(3, 6)):
                words = [rng.choice(jargon) if rng.random() < 0.25 else rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
                kind = rng.random()
                if kind < 0.3:
                    lines.append(f"- **{rng.choice(jargon).title()}** - {' '.join(words)}; it doesn\u2019t {rng.choice(WORDS)}")
                elif kind < 0.6:
                    lines.append(f"- {' '.join(words[:3])} ==${rng.choice(WORDS)}== {' '.join(words[3:])}".replace("$", ""))
                else:
                    lines.append(f"- {' '.join(words)} (see https://{rng.choice(jargon)}.example.com/{rng.choice(jargon)})")
            lines.append("")
            if s % 2:
                lines += ["<details>", "<summary>Answer</summary>", "", f"The {rng.choice(jargon)} <b>{rng.choice(WORDS)}</b>.", "",
                          "</details>", ""]
        (sub / f"{n + 1}-{rng.choice(WORDS)}.md").write_text("\n".join(lines), "utf-8")
    return folder
