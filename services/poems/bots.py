"""Lines for bot players: reproducible from a stored seed, exactly the words a round asks for.

A bot writes a seat's line when no human does. Its line is a pure function of the game's bot
seed, the round and the poem, so nothing but the seed needs storing: the same arguments give
the same line on every server and after every restart. The words follow a small pattern of
parts of speech (adjective, noun, verb, ...; see ``_PATTERNS``) drawn from
``services.poems.wordlist``, without repeating a word inside a line.

The generator is ``random.Random`` seeded with the string ``"{seed}:{round_}:{poem}"``: a str
seed is hashed with SHA-512 by ``random.seed``, stable across processes and Python versions,
unlike ``hash()``, which is salted per process.
"""

from __future__ import annotations

import random
import secrets

from services.poems.shapes import MAX_WORDS
from services.poems.wordlist import ADJECTIVES, NOUNS, VERBS

BOT_SEED_BITS = 63
"""A bot seed is in ``1 .. 2**63 - 1``: positive, and fits a PostgreSQL bigint."""

_PARTS = {"A": ADJECTIVES, "N": NOUNS, "V": VERBS}

# Parts of speech per line length: "quiet river", "quiet river remembers", ... Longer lines
# chain a five-word phrase with a shorter one.
_PATTERNS = {1: "N", 2: "AN", 3: "ANV", 4: "ANVN", 5: "ANVAN"}


def new_seed(rng: random.Random | None = None) -> int:
    """A fresh bot seed for a game (``secrets.SystemRandom`` unless ``rng`` is given)."""
    rand = rng if rng is not None else secrets.SystemRandom()
    return rand.randrange(1, 2**BOT_SEED_BITS)


def bot_line(seed: int, round_: int, poem: int, word_count: int) -> str:
    """The line a bot writes in ``round_`` of ``poem``: exactly ``word_count`` words.

    Deterministic in its arguments. ``word_count`` is 1 to ``MAX_WORDS``, so the line always
    passes ``services.poems.words.clean_line``; anything else is a ValueError.
    """
    if not 1 <= word_count <= MAX_WORDS:
        raise ValueError(f"word_count must be 1 to {MAX_WORDS}, got {word_count}")
    rng = random.Random(f"{seed}:{round_}:{poem}")
    used: set[str] = set()
    words: list[str] = []
    for part in _pattern(word_count):
        choices = [word for word in _PARTS[part] if word not in used]
        word = rng.choice(choices)
        used.add(word)
        words.append(word)
    return " ".join(words)


def _pattern(word_count: int) -> str:
    """The parts of speech of a line of ``word_count`` words, e.g. ``"ANV"`` for 3."""
    pattern = ""
    while word_count > 0:
        step = min(word_count, 5)
        pattern += _PATTERNS[step]
        word_count -= step
    return pattern
