"""Phrase rules for the offline summary: commitments, due phrases, next steps, objections.

The rules read lowercase, unpunctuated ASR text as well as punctuated text: apostrophes are
optional (``ill send`` = ``I'll send``), sentence punctuation only shortens clauses, never
decides a match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Commitment", "find_commitments", "find_due", "find_next_steps", "find_objections"]

_APOS = "['’]?"

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_ORDINAL = (
    r"(?:\d{1,2}(?:st|nd|rd|th)?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
    r"|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth"
    r"|twentieth|twenty[\s-]\w+|thirtieth|thirty[\s-]first)"
)
# A day of the month on its own: "the 5th", "the 21st". A bare number after "the" is a quantity
# ("pick the 50 coils"), a day only after by/on/before/until (:data:`_DUE`) or with a month.
_DAY_OF_MONTH = r"(?:(?:[12]?\d|3[01])(?:st|nd|rd|th)\b)"
# What may follow a day said without its month: the end, punctuation, "of the month", or a joining
# word; a noun after it makes it a rank or a quantity ("the first option", "the 3 contracts").
_DAY_ENDS = (
    r"(?:\s+of\s+(?:the|this|next)\s+month)?"
    r"(?=\s*(?:$|[^\w\s]|(?:at|and|or|to|so|please|then|if|when|latest|okay|ok|because|as|for|with)\b))"
)
_COUNT = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d+|a\s+couple\s+(?:of\s+)?|a\s+few)"
_CLOCK = (
    r"(?:at\s+(?:\d{1,2}(?::\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon)"
    r"(?:\s*(?:am|pm|a\.m\.|p\.m\.|o['’]?clock|thirty|fifteen|forty[\s-]five))?)"
)
_WHEN = (
    rf"(?:(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week|month|quarter|year)|eod|eow|cob|close\s+of\s+business)"
    rf"(?:\s+(?:on\s+)?{_DAY})?"
    r"|before\s+(?:the|our|your)\s+(?:next\s+\w+|call|meeting|demo|renewal|launch|deadline|holidays)"
    r"|(?:later\s+)?today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|(?:this|next|the\s+following)\s+(?:morning|afternoon|evening|week|month|quarter|year|{_DAY})"
    rf"|(?:the\s+)?week\s+after(?:\s+next)?|{_DAY}(?:\s+(?:morning|afternoon|evening))?"
    rf"|{_MONTH}\s+(?:the\s+)?{_ORDINAL}\b|the\s+{_ORDINAL}\s+of\s+{_MONTH}|the\s+{_DAY_OF_MONTH}{_DAY_ENDS}"
    rf"|(?:within\s+|in\s+){_COUNT}\s*(?:business\s+)?(?:hours?|days?|weeks?|months?)"
    r"|(?:right\s+|straight\s+|shortly\s+)?after\s+(?:this|the|our)\s+(?:call|meeting|demo)"
    rf"|first\s+thing\s+(?:tomorrow|in\s+the\s+morning|{_DAY})|asap|as\s+soon\s+as\s+possible)"
)
_DUE = re.compile(
    rf"\b(?:by|before|until|on|no\s+later\s+than)\s+the\s+{_ORDINAL}\b{_DAY_ENDS}(?:\s+{_CLOCK})?"
    rf"|\b(?:(?:by|before|until|on|no\s+later\s+than)\s+)?{_WHEN}(?:\s+{_CLOCK})?\b",
    re.IGNORECASE,
)

# Verbs that make "I'll/we'll/let's <verb>" a commitment to do something after (or in) the call.
_ACTION_VERBS = (
    r"(?:send|re-?send|e-?mail|mail|share|forward|schedule|re-?schedule|set\s+up|book|arrange|organi[sz]e"
    r"|invite|call|ring|phone|text|ping|message|follow\s+up|circle\s+back|touch\s+base|reach\s+out"
    r"|get\s+(?:back|you|that|this|it|them|those|the|a|an|everything|in\s+touch)|loop|bring|introduce"
    r"|connect|put\s+together|prepare|draft|write\s+up|write|create|review|check|confirm|verify"
    r"|investigate|escalate|open|file|submit|sign|countersign|update|fix|resolve|reset|restore|refund"
    r"|correct|amend|adjust|replace|repair|redo|recalculate|reissue|re-?issue|waive|reverse|void|change"
    r"|credit|issue|process|deliver|ship|install|configure|enable|activate|provision|walk|demo"
    r"|present|finali[sz]e|complete|finish|pick|choose|select|collect|gather|compile|pull|export"
    r"|upload|order|renew|pay|approve|reply|respond|remind|notify|inform|let\s+you\s+know|let\s+\w+\s+know"
    r"|include|attach|loop\s+in|cc|copy|return|fill\s+out"
    r"|sync|coordinate|handle|provide|add|cancel|extend|transfer|migrate|train|onboard|hand\s+over"
    r"|pass|sort\s+out|figure\s+out|dig\s+into|look\s+into|make\s+sure|double[\s-]check|run\s+(?:it|this|that)"
    r"|take\s+care|meet|reconvene|regroup|plan|block|reserve|start|kick\s+off|test|try|talk|discuss|look|run"
    r"|go\s+over|go\s+through|speak|ask|take|get|do|move|keep)"
)
# Verbs too common in passing ("let's talk about pricing", "I'll take it") to count on their own:
# they make an item only when the clause also says when, or says back/again/follow.
_WEAK_VERBS = frozenset(
    {"try", "talk", "discuss", "look", "speak", "take", "get", "do", "move", "keep", "run", "walk"}
)
_FOLLOW_UP_WINDOW_WORDS = 3  # "talk again", "get back to you": the word comes right after the verb
_ASKS_A_QUESTION = re.compile(r"\s+(?:you|a\s+(?:quick\s+)?question|questions)\b", re.IGNORECASE)
# "let me <verb>" is mostly done on the call ("let me pull up your account"): it needs the same.
_IN_CALL = re.compile(r"let\s+me\b", re.IGNORECASE)
_FOLLOW_UP_WORDS = re.compile(r"^(?:back|again|follow|offline|later)$", re.IGNORECASE)

_FILLER = (
    r"(?:also|just|then|definitely|certainly|personally|quickly|actually|first|now|both|all|still"
    r"|go\s+ahead\s+and|be\s+sure\s+to|make\s+sure\s+to|try\s+to|try\s+and|need\s+to|have\s+to|want\s+to"
    r"|be\s+able\s+to|happily|gladly|happy\s+to|glad\s+to|probably|immediately)"
)
_SELF = (
    rf"(?:i{_APOS}ll|i\s+will|i\s+shall|i\s+(?:am|{_APOS}m)\s+going\s+to|i{_APOS}m\s+going\s+to"
    rf"|i{_APOS}m\s+gonna|i\s+can|i\s+need\s+to|i\s+have\s+to|let\s+me|i\s+promise\s+to|i\s+plan\s+to"
    rf"|i{_APOS}d\s+be\s+happy\s+to|i\s+would\s+be\s+happy\s+to)"
)
_WE = (
    rf"(?:we{_APOS}ll|we\s+will|we\s+shall|we\s+are\s+going\s+to|we{_APOS}re\s+going\s+to|we{_APOS}re\s+gonna"
    rf"|we\s+can|we\s+need\s+to|we\s+should|let{_APOS}s|let\s+us)"
)
_ASK = (
    rf"(?:can\s+you|could\s+you|would\s+you|will\s+you|you{_APOS}ll\s+need\s+to|you\s+need\s+to|please"
    rf"|(?:i|we)(?:\s+(?:need|want|would\s+like)|{_APOS}d\s+like)\s+you\s+to|make\s+sure\s+(?:you|to)"
    r"|don['’]?t\s+forget\s+to|remember\s+to)"
)
_NEXT = r"(?:(?:the\s+)?next\s+steps?\s+(?:is|are|would\s+be|will\s+be)(?:\s+(?:to|that|for))?)"
_COMMITMENT = re.compile(
    # The lookahead fails fast at the many word starts no subject begins with.
    rf"\b(?=[iwlcyptndmr])(?:(?P<self>{_SELF})|(?P<we>{_WE})|(?P<ask>{_ASK})|(?P<next>{_NEXT}))"
    rf"(?:\s+(?:you|we|i|me|us))?(?:\s+{_FILLER})*\s+(?P<verb>{_ACTION_VERBS})\b",
    re.IGNORECASE,
)
# Requests in the imperative, made of the person spoken to ("send me a quote", "email us the
# invoice", "call me back tomorrow"): a verb of something done after the call, at the start of a
# clause (see _IMPERATIVE). In-call imperatives ("walk me through", "show me", "share your
# screen", "give me a second") are not action items; the verbs that are also said in the call
# (call, get, give, check, confirm, "let me know"...) count only with a due phrase or back/again.
_REQUEST_VERBS = (
    r"(?:send|re-?send|e-?mail|mail|forward|share|shoot|put\s+together|prepare|draft|write\s+up|loop"
    r"|include|attach|schedule|re-?schedule|set\s+up|book|arrange|invite|follow\s+up|circle\s+back"
    r"|reach\s+out|get\s+back|sign|countersign|submit|fill\s+out|approve"
    r"|keep\s+(?:me|us)\s+(?:posted|updated|informed|in\s+the\s+loop)"
    r"|let\s+(?:me|us)\s+know|call|ring|phone|text|ping|remind|get|give|drop|copy|return|check|update"
    r"|confirm)"
)
_WEAK_REQUESTS = frozenset(
    {"call", "ring", "phone", "text", "ping", "remind", "get", "give", "drop", "copy", "return", "check"}
    | {"update", "confirm", "let me know", "let us know"}
)
# What is asked for follows an imperative verb: a recipient, an article, a pronoun ("call volume
# doubled", "schedule is tight" are no requests); in-call screen sharing is left out.
_REQUEST_OBJECT = re.compile(
    r"\s+(?!(?:your|my|the)\s+screen\b)(?:me|us|him|her|them|it|that|this|those|these|the|a|an|our|my|your"
    r"|his|their|over|back|again|along|out|across|some|both|all|everything|any|one|two|three|four|five"
    r"|\d+)\b",
    re.IGNORECASE,
)
# An imperative request opens a clause: at the turn's start, after sentence punctuation or after a
# clause opener said without punctuation ("okay send me…"), with lead words allowed between
# ("and just send me…"). Mid-sentence verbs ("they send me invoices") are not requests.
_CLAUSE_OPENERS = r"(?:okay|ok|alright|great|yes|yeah|sure|perfect|fine|thanks|good|so|but|well|right)"
_LEAD_WORDS = r"(?:and|just|also|then|now|maybe|kindly|oh|um|uh|so|but|well)"
_IMPERATIVE = re.compile(
    rf"(?:^|(?<=[.!?;:,])|\b{_CLAUSE_OPENERS}\b[.!?;:,]?)\s*(?:{_LEAD_WORDS}\b,?\s+)*"
    rf"(?P<verb>{_REQUEST_VERBS})\b",
    re.IGNORECASE,
)
# Unpunctuated speech (hosted ASR text) shows no sentence starts. There, a request verb said to
# someone ("send me", "email us", "forward me") also opens a request in the middle of a turn, unless
# a subject, an auxiliary, "to", a habit word or a plural noun comes right before it ("they send me
# invoices", "the vendors send us invoices").
_UNPUNCTUATED = re.compile(r"[.!?,;:]")
_REQUEST_TO_SOMEONE = re.compile(
    r"\b(?=[ercfilmks])(?:send|re-?send|e-?mail|mail|forward|shoot|cc|copy|loop|invite|keep)\s+(?:me|us)\b",
    re.IGNORECASE,
)
_VERB_AT = re.compile(rf"(?P<verb>{_REQUEST_VERBS})\b", re.IGNORECASE)
_NOT_BEFORE_A_REQUEST = frozenset(
    {"i", "you", "we", "they", "who", "that", "which", "to", "will", "would", "can"}
    | {"could", "should", "must", "may", "might", "do", "does", "did", "don't", "dont", "doesn't", "didn't"}
    | {"always", "usually", "often", "never", "sometimes", "also", "then", "and", "or", "guys", "people"}
    | {"i'll", "ill", "we'll", "you'll", "they'll", "i'd", "we'd", "please", "just"}
)

# "Anything (else) I can do for you today?": an offer, the clause the object of "anything",
# "something", "whatever"; the support call's closing formula, not a commitment due today.
_OFFERED = re.compile(r"\b(?:anything|something|whatever)(?:\s+else)?[\s,]*$", re.IGNORECASE)

_NOT_COMMITMENTS = re.compile(
    r"\b(?:tell\s+you\s+what|let\s+me\s+(?:ask|check\s+(?:if|whether)|see|think|know|just\s+say)"
    r"|(?:i|we)\s+can\s+(?:do|take)\s+(?:that|it)\s+(?:for|at)\s+\$?\d)",
    re.IGNORECASE,
)

# Where a clause ends: at sentence punctuation (not the dots of "I.T." or "a.m."), or (in
# unpunctuated speech) at a discourse marker once the clause has a few words ("... by friday okay
# great"), or at the next commitment.
_CLAUSE_END = re.compile(
    r"[!?;]|(?<!\b[A-Za-z])\.(?=\s|$)|,\s+(?:so|but|and\s+then|because|which)\b|\s(?=(?:okay|ok|alright|all\s+right|great|perfect"
    r"|thanks|thank\s+you|sounds\s+good|anyway|anything\s+else|does\s+that\s+work|is\s+that\s+ok(?:ay)?"
    r"|so\s+that|but|because)\b)",
    re.IGNORECASE,
)
_MIN_CLAUSE_WORDS = 4
_TRAILING_LINKS = frozenset({"and", "or", "so", "but", "then", "and then"})
_MAX_CLAUSE_WORDS = 30

_NEXT_STEP = re.compile(
    r"\b(?:next\s+steps?|let['’]?s\s+(?:schedule|set\s+up|book|plan|meet|reconvene|regroup|follow\s+up"
    r"|circle\s+back|touch\s+base|get\s+together)|follow[\s-]up\s+(?:call|meeting|email|session)"
    r"|moving\s+forward|going\s+forward|the\s+plan\s+is"
    r"|(?:schedule|book|set\s+up)\s+(?:a|the|another|our|a\s+short)\s+"
    r"(?:call|meeting|demo|workshop|session|follow[\s-]?up|review|pilot|training))\b",
    re.IGNORECASE,
)

_OBJECTION = re.compile(
    r"\b(?:too\s+(?:expensive|pricey|costly|much|high|steep|complicated|complex|slow|risky|long|big)"
    r"|(?:a\s+bit|quite|really|pretty|very|way|rather)\s+(?:expensive|pricey|costly|steep|high)"
    r"|more\s+than\s+(?:we|i)\s+(?:expected|budgeted|can\s+afford|wanted|want\s+to)"
    r"|(?:over|out\s+of|beyond|above)\s+(?:our|my|the)\s+budget"
    r"|budget\s+(?:is|was|['’]s)\s+(?:tight|limited|frozen|cut|gone|an\s+issue|a\s+problem)"
    r"|(?:no|don['’]?t\s+have\s+(?:the|a|any)?)\s*budget"
    r"|(?:not|n['’]?t)\s+(?:sure|convinced|interested|a\s+priority|the\s+right\s+time|ready"
    r"|comfortable|in\s+a\s+position)"
    r"|concern(?:ed|s)?|worr(?:y|ied|ies)|nervous|hesitant|hesitation|skeptical|sceptical"
    r"|frustrat\w*|disappoint\w*|unhappy|annoy\w*"
    r"|we\s+already\s+(?:use|have|work\s+with|pay\s+for|signed)|locked\s+in|under\s+contract\s+with"
    r"|happy\s+with\s+(?:our|the)\s+current"
    r"|(?:other|another|cheaper)\s+(?:vendors?|options?|providers?|tools?|solutions?)"
    r"|(?:better|cheaper)\s+(?:deal|offer|price)"
    r"|can['’]?t\s+(?:commit|afford|justify|sign|go\s+that\s+high)|cannot\s+(?:commit|afford|justify)"
    r"|(?:doesn['’]?t|does\s+not|won['’]?t|will\s+not)\s+(?:work\s+for\s+us|fit|integrate|scale)"
    r"|(?:bad|wrong)\s+timing|need\s+to\s+(?:check|talk|run\s+it\s+by)\s+with)\b",
    re.IGNORECASE,
)
_OBJECTION_WINDOW_WORDS = 14


@dataclass(frozen=True)
class Commitment:
    """A clause in which someone commits (or is asked) to do something.

    ``owner`` is ``self`` (the speaker: "I'll", "we'll", "let's", "next step is") or ``other``
    (the person spoken to: "can you…", "please…"). ``due`` is the due phrase as said, if any.
    """

    text: str
    owner: str
    due: str | None
    start: int


def find_due(text: str) -> str | None:
    """The first due phrase in ``text`` as said ("by Friday", "tomorrow at ten"), or ``None``."""
    match = _DUE.search(text)
    return match.group(0).strip() if match else None


def find_commitments(text: str) -> list[Commitment]:
    """Commitment clauses in one turn's text, in order: the speaker's own ("I'll send…"), and
    requests made of the person spoken to ("can you send…", "send me a quote…")."""
    found: list[Commitment] = []
    matches = _matches(text)
    for index, hit in enumerate(matches):
        limit = matches[index + 1].start if index + 1 < len(matches) else len(text)
        clause = _clause(text, hit.start, hit.end, limit)
        due = find_due(clause)
        verb = re.sub(r"\s+", " ", hit.verb.lower())
        if verb == "ask" and _ASKS_A_QUESTION.match(text, hit.end):
            continue
        weak = (verb in _WEAK_REQUESTS) if hit.imperative else (verb in _WEAK_VERBS or hit.in_call)
        following = text[hit.end :].split()[:_FOLLOW_UP_WINDOW_WORDS]
        if weak and due is None and not any(_FOLLOW_UP_WORDS.match(word.strip(",.")) for word in following):
            continue
        found.append(
            Commitment(text=clause, owner="other" if hit.other else "self", due=due, start=hit.start)
        )
    return found


class _Hit(NamedTuple):
    """Where a commitment's subject (or an imperative's verb) starts and its verb ends."""

    start: int
    end: int
    verb: str
    other: bool  # made of the person spoken to ("can you…", "send me…")
    in_call: bool  # "let me …": mostly done on the call
    imperative: bool  # "send me…": no subject


def _matches(text: str) -> list[_Hit]:
    """Subject-led matches and imperative requests, in text order.

    An imperative verb inside a subject-led match ("can you send…") is that match's verb, not
    another item."""
    every = list(_COMMITMENT.finditer(text))
    hits = [
        _Hit(
            m.start(),
            m.end(),
            m.group("verb"),
            other=m.group("ask") is not None,
            in_call=_IN_CALL.match(m.group(0)) is not None,
            imperative=False,
        )
        for m in every
        if not _NOT_COMMITMENTS.match(text, m.start())
        and not _OFFERED.search(text[max(0, m.start() - 40) : m.start()])
    ]
    for m in _IMPERATIVE.finditer(text):
        start = m.start("verb")
        if any(a.start() <= start < a.end() for a in every):
            continue
        if m.group("verb").lower().startswith(("let", "keep")) or _REQUEST_OBJECT.match(text, m.end()):
            hits.append(_Hit(start, m.end(), m.group("verb"), other=True, in_call=False, imperative=True))
    if not _UNPUNCTUATED.search(text):
        taken = [(a.start(), a.end()) for a in every] + [(h.start, h.end) for h in hits]
        for m in _REQUEST_TO_SOMEONE.finditer(text):
            verb = _VERB_AT.match(text, m.start())
            before = text[: m.start()].split()
            if verb is None or any(a <= m.start() < b for a, b in taken):
                continue
            last = before[-1].lower() if before else ""
            # A subject before the verb makes it a statement; a plural noun most often is one.
            if last in _NOT_BEFORE_A_REQUEST or (last.endswith("s") and not last.endswith(("ss", "us"))):
                continue
            hits.append(
                _Hit(m.start(), verb.end(), verb.group("verb"), other=True, in_call=False, imperative=True)
            )
    return sorted(hits, key=lambda hit: hit.start)


def find_next_steps(text: str) -> list[str]:
    """Clauses about what happens next ("next step is…", "let's schedule…", "a follow-up call")."""
    steps: list[str] = []
    last_end = -1
    for match in _NEXT_STEP.finditer(text):
        if match.start() < last_end:
            continue
        begin = _clause_start(text, match.start())
        clause = _clause(text, begin, match.end(), len(text))
        last_end = begin + len(clause)
        steps.append(clause)
    return steps


def find_objections(text: str) -> list[str]:
    """Objection snippets (one per turn at most): the sentence around the first objection phrase."""
    match = _OBJECTION.search(text)
    if match is None:
        return []
    begin = _clause_start(text, match.start())
    words_before = text[begin : match.start()].split()
    if len(words_before) > _OBJECTION_WINDOW_WORDS:
        begin = match.start() - len(" ".join(words_before[-_OBJECTION_WINDOW_WORDS:])) - 1
        begin = max(begin, 0)
    return [_clause(text, begin, match.end(), len(text))]


def _clause_start(text: str, position: int) -> int:
    """Start of the sentence that holds ``position`` (after the last . ! ? ; before it)."""
    cut = max(text.rfind(mark, 0, position) for mark in ".!?;")
    return cut + 1 if cut >= 0 else 0


def _clause(text: str, begin: int, matched_end: int, limit: int) -> str:
    """Text from ``begin`` to the clause end after ``matched_end`` (and before ``limit``)."""
    end = limit
    for boundary in _CLAUSE_END.finditer(text, matched_end, limit):
        hard = boundary.group(0) in ".!?;"
        if hard or len(text[begin : boundary.start()].split()) >= _MIN_CLAUSE_WORDS:
            end = boundary.start()
            break
    words = text[begin:end].split()
    while len(words) > 1 and words[-1].lower().strip(",") in _TRAILING_LINKS:
        words.pop()  # "send me a quote and | we will review it": the "and" joins the next clause
    if len(words) > _MAX_CLAUSE_WORDS:
        words = [*words[:_MAX_CLAUSE_WORDS], "…"]
    return " ".join(words).strip(" ,")
