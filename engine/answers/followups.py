"""Follow-up questions made standalone from the conversation they are asked in.

"What pressure does it open at?" after "Tell me about the relief valve" cannot be searched
as it is: it names no subject. `standalone` rewrites such a follow-up into a question that
can be searched and answered alone; every other question (the first of a conversation,
and a follow-up that names its own subject) is left exactly as it is.

Whether a question needs the conversation is decided by its words (`needs_context`): it
refers back ("it", "its", "they", "this", "that" as a pronoun, "which one", "does the
same", 它, 这个…) to nothing named before in the question itself, opens with a
continuation ("And …", "What about …", "How about …", 那么…), or has no content word of its
own ("Why?", "Any example?").

How it is rewritten (`FollowUpRewrite`):

- "terms": the key terms of the previous question (its own standalone form, so that a
  topic carries through a chain of follow-ups) are added after the question, in
  parentheses: "What pressure does it open at? (relief valve)". At most `MAX_CARRIED`
  terms, the newest question's first.
- "model": the language model is asked to rewrite the question, reading the recent turns
  (as many as fit its context, newest first; the question is never cut). What it writes
  is used only when it is one question that keeps the question's own content words;
  otherwise, and when the model cannot run, the "terms" rewrite is used.

bench/followups.py measures both on conversations over the R manuals (hit@5 and answers
of follow-ups asked alone, and rewritten each way); `EngineConfig.followup_rewrite` holds
the one it chose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import ModelUnavailableError, UserError
from ..retrieval.textsearch import STOPWORDS

REWRITES = ("terms", "model", "off")
MAX_CARRIED = 8
"""Key terms carried from the conversation into a follow-up, at most."""
REWRITE_TOKENS = 64
"""The longest rewritten question the model may write, in tokens."""
ANSWER_TOKENS_IN_HISTORY = 80
"""Of each earlier answer the model reads at most this many tokens."""
TURNS_READ = 8
"""Of a conversation a client sends whole, only the last questions (and their answers)
are read: a topic older than that has been named again, or is forgotten."""

# code tokens whole (%o%, read.csv, df$x, t(), if/else, 12.5), words, runs of Chinese
_TOKEN = re.compile(r"%[^%\s]{1,3}%|[A-Za-z_][\w]*(?:[.:$@][\w]+)+(?:\(\))?|[A-Za-z_]\w*\(\)"
                    r"|[\d]+(?:[.,:]\d+)*|[^\W_]+(?:[-'/][^\W_]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Words that ask, not what is asked about: never carried, and not a subject of their own.
_ASKING = frozenset("""
tell explain describe show give know want need please like get
gets go happen happens work works say says example examples else also instead much many
one ones thing things way ways kind sort type lot well really whether possible better
best default use uses used using
""".split())
# Words that point back to something said before.
_REFERRING = frozenset("""
it its it's itself they them their theirs themselves this these those he him his she her
former latter aforementioned
""".split())
_REFERRING_WORD = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(_REFERRING))
                             + r")\b", re.IGNORECASE)
# Where a question's own earlier words can be what a pronoun stands for: after a sentence
# ("My file has a header. How do I read it?") or a clause ("… SPSS or Stata can read it").
_SENTENCE_END = re.compile(r"[.?!](?=\s+\S)")
_CLAUSE_BOUNDARY = re.compile(r"[.?!;:,](?=\s)|\s(?:and|but|or|so|so that|because|then)\s",
                              re.IGNORECASE)
# "that" points back when it stands for a thing ("do that", "about that?"), not when it
# opens a clause ("check that a file exists", "a function that sorts").
_THAT_REFERS = re.compile(
    r"\b(?:do|does|did|doing|done|about|of|for|with|without|like|than|use|using|change|avoid"
    r"|undo|fix|mean|means|is|was|after|before|from|into|on|in|to|over|at|by|under|through"
    r"|via|against|get|set|read|open|run|call|save|keep|make)\s+that\b(?!\s+(?:the|a|an|"
    r"it|this|they|there|you|we|i|r|each|every|all|no)\b)|\bthat\s*[?.!,]|\bthat\s+one\b",
    re.IGNORECASE)
# "one" that stands for a thing named before ("How do I transpose one?", "which one is
# faster?"), not the number ("one extra variable")
_ONE_REFERS = re.compile(r"\b(?:which|that|this|each|every|the\s+other|a\s+new)\s+ones?\b"
                         r"|\bones?\s*[?.!,]", re.IGNORECASE)
# "the same" as what was said: "Is there a function that does the same?"
_SAME_REFERS = re.compile(r"\b(?:do|does|did|doing|done)\s+the\s+same\b|\bthe\s+same\s*[?.!]"
                          r"|\bthe\s+same\s+(?:for|with|in|on)\b", re.IGNORECASE)
# "it" that stands for nothing: "is it possible to…", "it is necessary to…".
_EMPTY_IT = re.compile(
    r"\b(?:is|was|will|would|isn't|wasn't)\s+it\s+(?:possible|necessary|better|best|safe|ok|"
    r"okay|true|worth|common|normal|advisable|recommended|allowed|wise|important)\b"
    r"|\bit(?:'s|\s+is|\s+was)\s+(?:possible|necessary|better|best|safe|ok|okay|true|worth|"
    r"common|normal|advisable|recommended|allowed|wise|important|raining)\b"
    r"|\bmake\s+it\s+(?:possible|easier|faster)\b", re.IGNORECASE)
_CONTINUES = re.compile(
    r"^\s*(?:and|also|but|so|then|what\s+about|how\s+about|what\s+else|and\s+what|and\s+how"
    r"|same\s+for|what\s+if|why\s+not|anything\s+else)\b", re.IGNORECASE)
# (not 其, 此 or 该 alone: they are inside 其他 "other", 因此 "so", 应该 "should")
_REFERRING_ZH = re.compile(r"它|他们|她们|这个|那个|这些|那些|这种|那种|这样|那样|这是|那是|上述|前者|后者")
_CONTINUES_ZH = re.compile(r"^\s*(?:那么|那|还有|另外|而且|并且|那如果)|呢[？?]?\s*$")
_ASKING_ZH = re.compile(r"什么|怎么|怎样|如何|为什么|哪里|哪个|哪些|多少|几|吗|呢|是|的|了|请|问|一下|可以|能|要|会|有")


@dataclass(frozen=True)
class Turn:
    """An earlier question of the conversation, what it was searched as, and its answer."""

    question: str
    searched_for: str = ""
    """Its standalone form ("": the question itself)."""
    answer: str = ""

    @property
    def standalone(self) -> str:
        return self.searched_for or self.question


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text)


def key_terms(text: str) -> list[str]:
    """What `text` asks about, in order, once each, as written: its words that are not
    function or asking words, its code tokens (read.csv, %*%, P-101) and, for Chinese,
    its runs of characters without the asking words."""
    terms: dict[str, None] = {}
    for token in _words(text):
        lower = token.lower()
        if _CJK.match(token):
            for run in _ASKING_ZH.split(token):
                if len(run) >= 2:
                    terms.setdefault(run, None)
            continue
        if lower in STOPWORDS or lower in _ASKING or lower in _REFERRING:
            continue
        if len(token) < 2 and not token.isdigit() and not token.isupper():  # "R" is a name
            continue
        terms.setdefault(token, None)
    return list(terms)


def needs_context(question: str) -> bool:
    """Whether `question` cannot be understood without the conversation before it: it
    refers back, continues a previous question, or names nothing of its own."""
    if _CJK.search(question):
        return bool(_REFERRING_ZH.search(question) or _CONTINUES_ZH.search(question)
                    or not key_terms(question))
    if _CONTINUES.search(question) or not key_terms(question):
        return True
    plain = _EMPTY_IT.sub(lambda m: " " * len(m.group()), question)
    pointers = [m.start() for m in _REFERRING_WORD.finditer(plain)]
    pointers += [m.start() for m in _THAT_REFERS.finditer(plain)]
    pointers += [m.start() for m in _ONE_REFERS.finditer(plain)]
    pointers += [m.start() for m in _SAME_REFERS.finditer(plain)]
    return bool(pointers) and not _sets_its_own_context(question, min(pointers))


def _sets_its_own_context(question: str, pointer: int) -> bool:
    """Whether the words of `question` can be what its word at `pointer` points back to: a
    sentence before its last one that names something ("My file has a header line. How
    do I read it?"), or a clause before the word that does ("… so that SPSS or Stata can
    read it")."""
    sentences = [m.end() for m in _SENTENCE_END.finditer(question.rstrip())]
    if sentences and key_terms(question[: sentences[-1]]):
        return True
    boundaries = [m.start() for m in _CLAUSE_BOUNDARY.finditer(question[:pointer])]
    return bool(boundaries) and bool(key_terms(question[: boundaries[-1]]))


def carry_terms(question: str, previous: Turn) -> str:
    """The "terms" rewrite: `question` with the key terms of the previous question's
    standalone form that it lacks, in parentheses (at most MAX_CARRIED)."""
    own = {t.lower() for t in key_terms(question)}
    carried = [t for t in key_terms(previous.standalone) if t.lower() not in own]
    carried = carried[:MAX_CARRIED]
    if not carried:
        return question
    joiner = "" if _CJK.search(question) else " "
    return f"{question.rstrip()}{joiner}({joiner.join(carried)})"


REWRITE_PROMPT = """Rewrite the follow-up question so that it can be understood without the conversation: replace words such as it, they, this and that with what they stand for.

Conversation:
User: How do I install the package foo?
Assistant: Use install.packages("foo").
Follow-up: Where does it put its files?
Standalone: Where does install.packages put the files of the package foo?

Conversation:
User: Tell me about the backup server.
Assistant: It copies the finance share to tape.
Follow-up: How often does it run?
Standalone: How often does the backup server run?

Conversation:
{history}Follow-up: {question}
Standalone:"""
"""Few-shot and completion-style: the bundled Gemma 3 is a base model, and SmolLM2,
asked in its chat template, answered the follow-up instead of rewriting it."""


def history_for_model(turns: Sequence[Turn], budget: int,
                      count_tokens: Callable[[str], int],
                      truncate: Callable[[str, int], str]) -> str:
    """The recent turns as the model reads them, newest kept first, within `budget`
    tokens (the question itself is outside it, never cut); each answer cut to
    ANSWER_TOKENS_IN_HISTORY tokens."""
    lines: list[str] = []
    for turn in reversed(turns):
        answer = truncate(" ".join(turn.answer.split()), ANSWER_TOKENS_IN_HISTORY)
        block = f"User: {' '.join(turn.question.split())}\n" + (
            f"Assistant: {answer}\n" if answer else "")
        cost = count_tokens(block)
        if cost > budget:
            break
        lines.insert(0, block)
        budget -= cost
    return "".join(lines)


def model_rewrite(question: str, turns: Sequence[Turn], generator) -> str | None:
    """The model's standalone form of `question`, or None when what it wrote is not one
    question keeping the question's own content words (or it could not run)."""
    question = " ".join(question.split())
    frame = REWRITE_PROMPT.format(history="", question=question)
    budget = generator.context_tokens - REWRITE_TOKENS - generator.count_tokens(frame) - 16
    history = history_for_model(turns, budget, generator.count_tokens, generator.truncate)
    try:
        written = "".join(generator.stream(REWRITE_PROMPT.format(history=history,
                                                                  question=question),
                                           REWRITE_TOKENS, stop=["\n"]))
    except ModelUnavailableError:
        return None
    return _usable(question, written)


def _usable(question: str, written: str) -> str | None:
    """The model's rewrite as one line, if it is one question (it ends with a question
    mark: the tiny models often answer instead) that keeps every content word of
    `question` and refers back no more; else None."""
    line = next((ln.strip() for ln in written.splitlines() if ln.strip()), "")
    line = line.strip().strip('"“”`').strip()
    if (not line.endswith(("?", "？")) or len(line) > 4 * len(question) + 200
            or line.lower() == question.lower()):
        return None
    own = {t.lower() for t in key_terms(question)}
    if not own <= {t.lower() for t in key_terms(line)} or needs_context(line):
        return None
    return line


@dataclass(frozen=True)
class FollowUpRewrite:
    """Makes follow-up questions standalone, with `method` (one of REWRITES)."""

    method: str = "terms"

    def __post_init__(self) -> None:
        if self.method not in REWRITES:
            raise ValueError(f"the follow-up rewrite must be one of {REWRITES}")

    def standalone(self, question: str, turns: Sequence[Turn], generator=None) -> str:
        """What to search and answer for `question` asked after `turns` (oldest first):
        the question itself unless it needs the conversation and there is one."""
        if self.method == "off" or not turns or not needs_context(question):
            return question
        if self.method == "model" and generator is not None:
            rewritten = model_rewrite(question, turns, generator)
            if rewritten is not None:
                return rewritten
        return carry_terms(question, turns[-1])


def split_conversation(messages: Sequence[tuple[str, str]]) -> tuple[str, list[Turn]]:
    """The question a conversation given as (role, text) pairs ends with (OpenAI's
    `messages`: "system", "user", "assistant"), and the turns before it, oldest first: at
    most the last TURNS_READ, each question's standalone form worked out in order with the
    "terms" rewrite (no model: a client sends the whole history with every question), so
    that a topic carries through. UserError when the messages do not end with a question,
    or a system message comes after the conversation has begun."""
    roles = [role for role, _ in messages]
    if "user" not in roles:
        raise UserError.said("messages_without_question")
    if roles[-1] != "user":
        raise UserError.said("messages_end_with_other_role", role=roles[-1])
    begun = next(i for i, role in enumerate(roles) if role != "system")
    if "system" in roles[begun:]:
        raise UserError.said("messages_system_late")
    earlier = [(role, text) for role, text in messages[:-1] if role != "system"]
    starts = [i for i, (role, _) in enumerate(earlier) if role == "user"]
    if len(starts) > TURNS_READ:
        earlier = earlier[starts[-TURNS_READ]:]
    terms = FollowUpRewrite("terms")
    turns: list[Turn] = []
    for role, text in earlier:
        if role == "user":
            searched = terms.standalone(text, turns)
            turns.append(Turn(text, searched if searched != text else ""))
        elif role == "assistant" and turns:
            last = turns[-1]
            turns[-1] = Turn(last.question, last.searched_for,
                             (last.answer + "\n" + text).strip())
    return messages[-1][1], turns
