"""Spelling correction against the content's own vocabulary ("spotfy" → "spotify").

Musicians type fast on phones: "playlistt", "royalites", "mastring". Neither backend corrects
that on its own (PostgreSQL's ``pg_trgm`` is an extension that may not be installed, SQLite has
nothing), so the correction happens here, in Python, the same way for both: a word the content
never uses is replaced by the content word within a small edit distance (optimal string
alignment: a swapped pair of letters counts once) that starts with the same letter, the most
frequent one when several tie.

Candidates are found the way SymSpell does: every vocabulary word is indexed by the strings
left after deleting up to two of its letters, and a typed word's own deletions are looked up
there — a few dictionary lookups instead of a distance to every word of the vocabulary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations

from core.knowledge.words import STOP_WORDS, stem, words

#: Shorter words are not corrected: "gig", "bake" are one letter from too many words.
MIN_LENGTH = 5
#: Longer "words" are not corrected either: no content word is that long, and the deletions
#: of a 4 000-letter string would take minutes.
MAX_LENGTH = 24


def max_distance(word: str) -> int:
    """How many edits a word of this length may be from its correction: 1, or 2 for words of
    eight letters or more ("distrubution", "managment" are one; "recomendation" two)."""
    return 2 if len(word) >= 8 else 1


def _deletions(word: str, most: int) -> set[str]:
    """Every string left after deleting up to ``most`` letters of ``word``."""
    out = {word}
    for n in range(1, min(most, len(word) - 1) + 1):
        for drop in combinations(range(len(word)), n):
            out.add("".join(ch for i, ch in enumerate(word) if i not in drop))
    return out


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters, each counting 1."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


class Vocabulary:
    """The words the indexed content uses, with their counts, ready to correct a typed word."""

    def __init__(self, texts: Iterable[str], extra: Iterable[str] = ()) -> None:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w for w in words(text) if not w.isdigit())
        for word in extra:  # the synonyms' words: "royalites" → "royalties" even if unused
            counts[word] += 0
        self.counts = counts
        self.stems = frozenset(stem(w) for w in counts)
        index: dict[str, list[str]] = {}
        for word in counts:
            if len(word) >= MIN_LENGTH and word not in STOP_WORDS:
                for key in _deletions(word, 2):
                    index.setdefault(key, []).append(word)
        self._index = index

    def __len__(self) -> int:
        return len(self.counts)

    def known(self, word: str) -> bool:
        """The content uses ``word``, or another word with the same stem."""
        return word in self.counts or stem(word) in self.stems

    def correct(self, word: str) -> str | None:
        """The closest content word, if one is within :func:`max_distance`; ``None`` for a
        short or very long word, a known word, or a word nothing is close to."""
        if not MIN_LENGTH <= len(word) <= MAX_LENGTH or word.isdigit() or self.known(word):
            return None
        most = max_distance(word)
        candidates = {c for key in _deletions(word, most) for c in self._index.get(key, ())}
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            # typos rarely hit the first letter, and a real word the content doesn't use
            # ("bread") is one first letter away from one it does ("read"): keep it
            if candidate[0] != word[0]:
                continue
            d = distance(word, candidate)
            if d > most:
                continue
            rank = (d, -self.counts[candidate], candidate)  # nearest, then the most used
            if best is None or rank < best:
                best = rank
        return None if best is None else best[2]
