"""Comparing children's names as people type them: case, accents and letter variants ignored."""

from __future__ import annotations

import unicodedata

# Letters that are not a base letter plus an accent, so NFKD leaves them alone.
_PLAIN = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "\u0131": "i",  # dotless i
        "ŧ": "t",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
    }
)


def fold(text: str) -> str:
    """Lower case without accents, one to one per letter where it can be: 'Zoë', 'ZOE' and
    'zoe' fold alike, and so do 'Łukasz' and 'lukasz'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_PLAIN)
