"""publisher: one set of Markdown notes in; an Anki deck, a cheat sheet and an EPUB out."""

__version__ = "0.1.0"
