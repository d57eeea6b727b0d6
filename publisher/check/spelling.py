"""The spelling dictionary: which words are known, and the nearest known word to a slip.

The word lists are pyspellchecker's (word frequencies). Reading its gzipped JSON
takes ~0.4 s; a pickled copy in the user's cache folder loads in a tenth of that.
Suggestions are searched at edit distance 1 only, and only for words that are
reported: a search at distance 2 costs ~0.5 s a word, and typos are mostly one
edit away while jargon is not.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import pickle
from pathlib import Path

from ..core.fsutil import cache_dir

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "ru", "nl", "ar", "eu", "lv", "fa")
LETTERS = "abcdefghijklmnopqrstuvwxyz'"
COMMON = 1_000  # how often (in the word list's corpus) a hint must occur to be offered ...
COMMON_SHORT = 10_000  # ... and for a word of four letters or fewer (about the 5,000 commonest words)


class Dictionary:
    def __init__(self, frequency: dict[str, int]) -> None:
        self.frequency = frequency

    def known(self, word: str) -> bool:
        return word in self.frequency

    def unknown(self, words: list[str]) -> list[str]:
        return [w for w in words if w not in self.frequency]

    def hint(self, word: str) -> str | None:
        """The most frequent known word one edit away, if it is a common word (None: nothing close).

        A slip of the keyboard turns a common word into a rare string; jargon sits one edit from some
        rare word only by chance, and short strings most of all."""
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in LETTERS}
        edits |= {a + c + b for a, b in splits for c in LETTERS}
        edits.discard(word)
        found = [w for w in edits if w in self.frequency]
        if not found:
            return None
        best = max(found, key=lambda w: (self.frequency[w], w))
        return best if self.frequency[best] >= (COMMON_SHORT if len(word) <= 4 else COMMON) else None


@functools.lru_cache(maxsize=4)
def dictionary(language: str) -> Dictionary:
    """The dictionary of ``language`` ('en' when there is none for it): once per process."""
    import spellchecker

    lang = language if language in LANGUAGES else "en"
    cached = cache_dir() / f"spelling-{lang}-{getattr(spellchecker, '__version__', '0')}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        data = pickle.loads(cached.read_bytes())
        if isinstance(data, dict):
            return Dictionary(data)
    source = Path(spellchecker.__file__).parent / "resources" / f"{lang}.json.gz"
    with gzip.open(source, "rt", encoding="utf-8") as f:
        frequency = {str(k).lower(): int(v) for k, v in json.load(f).items()}
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        from ..core.fsutil import atomic_path

        with atomic_path(cached) as tmp:
            tmp.write_bytes(pickle.dumps(frequency, protocol=pickle.HIGHEST_PROTOCOL))
    return Dictionary(frequency)
