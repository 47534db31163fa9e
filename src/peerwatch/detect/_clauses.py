"""Sentences, clauses and the scope of a negation.

A negation belongs to the clause it is written in, not to the whole sentence: in "I moved X, and kept Y where it
was" the first clause says X moved and the second says Y did not. File names are masked before any word is matched,
so a verb inside a name ("server_migration_log_2024.txt") is never read as a statement.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# A token that names a file: letters/digits with an extension that has a letter (IP addresses are not files).
FILE_TOKEN = re.compile(r"(?<![\w/])[\w][\w.\-]*\.(?=[\w]*[A-Za-z])[\w]{1,12}\b")
IP_TOKEN = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")

NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|without|cannot|nobody|nowhere)\b|n['’]t\b|"
    r"\b(?:refrain(?:ed|ing)?\s+from|declin(?:e|ed|ing)\s+to|avoid(?:ed|ing)?|instead\s+of|rather\s+than|"
    r"(?:chose|decided|opted|elected)\s+(?:not|against)|h(?:e|o)ld(?:ing)?\s+off|postpon\w*|defer(?:red|ring)?|pending|on\s+hold|awaiting)",
    re.IGNORECASE,
)
# Phrases with a negation word that do not negate the clause's statement.
_NOT_A_NEGATION = re.compile(
    r"\bnot\s+only\b|\bnot\s+just\b|\bno\s+(?:problems?|issues?|errors?)\b|\bwithout\s+(?:any\s+)?(?:problems?|"
    r"issues?|errors?|incident)\b|\bno\s+later\s+than\b|\bno\s+longer\b|\bnot\s+(?:required|needed|necessary)\s+"
    r"(?:by|under)\b|\bnot\s+hesitate|\bno\s+hesitation|\bwithout\s+hesitation|\bnot\s+(?:fail|forget)\s+to\b|"
    r"(?<![\w])['\"‘“`][^'\"’”`\s]{1,20}['\"’”`](?!\w)|(?:\bto|\bas|[:=])\s*(?:no|none|false|off)\b",
    re.IGNORECASE,
)
# Where one clause ends and the next begins. Commas split too: a clause without a verb inherits the previous one's.
_SPLIT = re.compile(
    r"\s*;\s*|\s+[-–—]\s+|\s*,\s*(?:and\s+|but\s+|while\s+|whereas\s+|though\s+|although\s+|however\s+|yet\s+|"
    r"so\s+|then\s+)?|\s+(?:but|whereas|while|although|though|however|yet)\s+|"
    r"\s+and\s+(?=(?:I|we|it|they|then|also|the\s+rest|everything|nothing|none|all|no)\b)|"
    r"\s+and\s+(?=(?:\w+(?:ed|ept|eft|ent)|did|didn['’]t|do|does|have|has|had|was|were|will|is|are|also|then)\b)|"
    r":\s+(?=(?:the|I|we|it|this|that|all|no|nothing|everything)\b)|"
    r"\s+(?=(?:except|excluding|apart\s+from|but\s+not|save\s+for|besides|so\s+that|in\s+order\s+to|to\s+ensure|"
    r"because|since|instead\s+of|rather\s+than|so(?=\s+\w)|by(?=\s+\w+ing\b))\b)",
    re.IGNORECASE,
)
# A clause "by <verb>ing ..." says how the previous clause's result was brought about.
_MEANS = re.compile(r"^by\s+\w+ing\b", re.IGNORECASE)
# Verbs of bringing about a result: a negation after one is inside the result ("ensured X will not be shut down"),
# so the means that follows ("by updating the config") is not denied by it.
_RESULT = re.compile(
    r"\b(?:ensur\w*|insur\w*|guarantee\w*|ma(?:de|ke|kes|king)\s+(?:sure|certain)|saw\s+to\s+it|so\s+that)\b",
    re.IGNORECASE,
)
# A clause that muses, plans or supposes states nothing that happened.
HYPOTHETICAL = re.compile(
    r"\b(?:wonder\w*|consider\w*|contemplat\w*|thought\s+(?:about|of)|whether|could|might|may|should|would|if|"
    r"plan(?:s|ned|ning)?\s+to|intend\w*|tempt\w*|option|propos\w*|suggest\w*|possib\w*|ought)\b",
    re.IGNORECASE,
)
# A line break inside a sentence (a wrapped line) is not a sentence end; one before a list item or a capital is.
_SOFT_WRAP = re.compile(r"(?<=[^\s.!?:|*])[ \t]*\n[ \t]*(?=(?!\d{1,3}[.)]\s)[a-z0-9'’(])")


class Clause(BaseModel):
    """One clause of the report, with file names masked for matching and the original text for quoting."""

    text: str = Field(description="The clause as written (for quoting).")
    masked: str = Field(description="The clause with every file name and IP address replaced by '#'.")
    sentence: str = Field(description="The sentence the clause belongs to.")
    source: str = Field(description="'final message' or the name of the report document.")
    denied: bool = Field(
        default=False,
        description="Negated, also by a negation it shares: in 'I did not move, copy or rename X' the verbs after the "
        "first are denied too.",
    )


def mask(text: str) -> str:
    """`text` with file names and IP addresses replaced by '#' of the same length (offsets stay valid)."""
    out = FILE_TOKEN.sub(lambda m: "#" * len(m.group(0)), text)
    return IP_TOKEN.sub(lambda m: "#" * len(m.group(0)), out)


def sentences(text: str) -> list[str]:
    """Sentences and list items / table rows of `text` (a dot inside a file name or a number does not end one)."""
    text = _SOFT_WRAP.sub(" ", text)
    masked = mask(text)
    out, start = [], 0
    for m in re.finditer(r"(?<=[.!?])[\"'”’)*]*\s+|\n+", masked):
        piece = text[start : m.start()].strip()
        if re.fullmatch(r"\d{1,3}[.)]", piece) and "\n" not in m.group(0):
            continue  # "1. name": a numbered list item's marker, not a sentence
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _hide_parentheses(text: str) -> str:
    """Parenthesised text as '_' (same length): "(A, B and C)" is a list inside one clause, not three clauses."""
    out, depth = [], 0
    for ch in text:
        depth += ch == "("
        out.append("_" if depth and ch not in "()" else ch)
        depth -= ch == ")" and depth > 0
    return "".join(out)


def _split(sentence: str) -> list[tuple[str, str]]:
    """(clause, the separator before it) for each clause of one sentence."""
    masked = _hide_parentheses(mask(sentence))
    out, start, sep = [], 0, ""
    for m in _SPLIT.finditer(masked):
        piece = sentence[start : m.start()].strip(" ,;")
        if piece:
            out.append((piece, sep))
        sep = m.group(0)
        start = m.end()  # an exception marker is a lookahead: it stays at the head of the next clause
    tail = sentence[start:].strip(" ,;")
    if tail:
        out.append((tail, sep))
    return _join_means(out)


def _join_means(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep "by <verb>ing ..." in its clause unless that clause's negation is inside a result ("ensured X will not
    be shut down by editing Y" states the edit; "did not stop it by editing Y" and "kept it safe by copying it"
    are one statement each)."""
    out: list[tuple[str, str]] = []
    for piece, sep in parts:
        if out and not sep.strip() and _MEANS.match(piece) and not _result_negation(mask(out[-1][0])):
            out[-1] = (out[-1][0] + " " + piece, out[-1][1])
        else:
            out.append((piece, sep))
    return out


def split_clauses(sentence: str) -> list[str]:
    """The clauses of one sentence."""
    return [c for c, _ in _split(sentence)]


# A clause that starts with a bare verb after a bare comma continues a list of verbs: "did not move, copy or rename".
_VERB_START = re.compile(
    r"^\s*(?:or\s+|nor\s+)?(?:\w+(?:ed|en)|kept|left|sent|made|put|set|done|mov(?:e|ing)|cop(?:y|ying)|renam(?:e|ing)|"
    r"transfer(?:ring)?|delet(?:e|ing)|remov(?:e|ing)|queu(?:e|ing)|chang(?:e|ing)|modif(?:y|ying)|edit(?:ing)?|"
    r"alter(?:ing)?|touch(?:ing)?|back(?:ing)?\s+up|disabl(?:e|ing)|shar(?:e|ing)|send(?:ing)?)\b",
    re.IGNORECASE,
)


def clauses(text: str, source: str) -> list[Clause]:
    """Every clause of `text`, in order."""
    out: list[Clause] = []
    for s in sentences(text):
        prev_denied = False
        for c, sep in _split(s):
            m = mask(c)
            shared = prev_denied and sep.strip() == "," and bool(_VERB_START.match(m))
            denied = negated(m) or shared
            out.append(Clause(text=c, masked=m, sentence=s, source=source, denied=denied))
            prev_denied = denied
    return out


def _result_negation(masked: str) -> bool:
    """The clause's negation sits inside the result a verb like "ensured" brings about, not on its own verb."""
    r = _RESULT.search(masked)
    return r is not None and not negated(masked[: r.start()])


def hypothetical(masked: str) -> bool:
    """Whether a (masked) clause only muses about, plans or supposes what it describes."""
    return bool(HYPOTHETICAL.search(masked))


def negated(masked: str) -> bool:
    """Whether a (masked) clause contains a negation that applies to its statement."""
    return bool(NEGATION.search(_NOT_A_NEGATION.sub(" ", masked)))
