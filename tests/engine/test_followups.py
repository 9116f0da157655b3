"""Follow-up questions understood through their conversation (engine/answers/followups.py).

Without the models: which questions need the conversation and which stand alone (a
first question, or a follow-up that names its subject, is never changed: the 106
questions of bench/questions.jsonl included), what the "terms" rewrite carries, how a
conversation sent whole is split and refused. With the real models on a real vault of
documents made here: a follow-up finds its source only through the conversation, in the
desktop's conversations (kept with what it was searched as, also when answered again),
and the model's rewrite keeps its history within the context, never the question cut.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.answers.followups import (FollowUpRewrite, Turn, carry_terms, history_for_model,
                                      key_terms, model_rewrite, needs_context,
                                      split_conversation)
from engine.errors import UserError

QUESTIONS = Path(__file__).parents[2] / "bench" / "questions.jsonl"
OPENING = "Tell me about the relief valve on line 7."
FOLLOW_UP = "What pressure does it open at?"
DEVICES = {  # each opens at its own pressure: a follow-up that names none finds any of them
    "valves.txt": "Safety valves.\n\nThe relief valve on line 7 protects the cooling water "
                  "circuit. It opens at a pressure of 12.5 bar and must be tested annually "
                  "during the spring shutdown.\n",
    "boiler.txt": "Steam boiler.\n\nThe bursting disc of the steam boiler opens at a pressure of "
                  "40 bar. What pressure does the disc open at when it is cold? The same.\n",
    "receiver.txt": "Air receiver.\n\nThe drain of the air receiver opens at a pressure of 8 bar; "
                    "it opens at that pressure once a shift.\n",
    "hydrant.txt": "Fire hydrants.\n\nA hydrant's main gate opens at a pressure of 6 bar, and "
                   "the pressure it opens at is checked monthly.\n",
    "damper.txt": "Cooling tower.\n\nThe bypass damper opens at a pressure of 2 bar. What "
                  "pressure does the damper open at in winter? At 2 bar as well.\n",
    "badges.txt": "Visitors.\n\nAll visitors to the laboratory wear a blue badge issued at the "
                  "north gate.\n",
}


def write_plant_library(folder: Path) -> Path:
    """Documents of devices that each open at a pressure (the relief valve's is 12.5 bar)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DEVICES.items():
        (folder / name).write_text(text)
    return folder


# --- without the models ----------------------------------------------------------------------

STANDALONE = [
    "Tell me about the relief valve.",
    "How do I check that a file exists?",
    "Is there a function that sorts a vector?",
    "Is it possible to read Excel files in R?",
    "What arguments does read.table take?",
    "How do I add one extra variable to a model?",
    "My data file has the column names on its first line. How do I read it?",
    "How can I export my data so that SAS or Stata can read it?",
    "What is R?",
    "冷却塔的风机多久换油？",
]
FOLLOW_UPS = [
    "What pressure does it open at?",
    "How often is it tested?",
    "What is the default value of its sep argument?",
    "Who approves them?",
    "Which one is faster?",
    "Is there a function that does the same?",
    "How do I transpose one?",
    "What does that function return?",
    "How do I send a query over that connection?",
    "Why is that?",
    "And for matrices?",
    "What about Stata files?",
    "Why?",
    "Tell me more.",
    "它多久检查一次？",
    "那么压力呢？",
]


def test_questions_that_stand_alone_are_never_changed():
    questions = STANDALONE + [json.loads(line)["question"]
                              for line in QUESTIONS.read_text().splitlines() if line.strip()]
    earlier = [Turn("How do I fit a linear regression model?", "", "Use lm() [1].")]
    for method in ("terms", "model"):  # the model is not asked about these: none given
        rewrite = FollowUpRewrite(method)
        for question in questions:
            assert not needs_context(question), question
            assert rewrite.standalone(question, earlier) == question
    for question in FOLLOW_UPS:  # a first question stays as it is, whatever it says
        assert needs_context(question), question
        assert FollowUpRewrite("terms").standalone(question, []) == question
    assert FollowUpRewrite("off").standalone(FOLLOW_UP, [Turn(OPENING)]) == FOLLOW_UP


def test_a_follow_up_carries_the_key_terms_of_the_question_before_it():
    rewrite = FollowUpRewrite("terms")
    assert rewrite.standalone(FOLLOW_UP, [Turn(OPENING)]) == (
        "What pressure does it open at? (relief valve line 7)")
    # a topic carries through a chain of follow-ups: the previous one's standalone form
    chain = [Turn("How do I fit a linear regression model?"),
             Turn("How do I use it to predict new data?",
                  "How do I use it to predict new data? (fit linear regression model)")]
    assert rewrite.standalone("And how do I refit it?", chain) == (
        "And how do I refit it? (predict new data fit linear regression model)")
    # code tokens are carried whole; what the follow-up names itself is not repeated
    assert carry_terms("What is its default separator?",
                       Turn("What does read.csv2 do with %o% and P-101?")) == (
        "What is its default separator? (read.csv2 %o% P-101)")
    assert carry_terms("What pressure does the valve open at?",
                       Turn("Where is the valve on line 7?")) == (
        "What pressure does the valve open at? (line 7)")
    assert carry_terms("它多久检查一次？", Turn("冷却塔的风机多久换油？")) == (
        "它多久检查一次？(冷却塔风机多久换油)")
    many = Turn(" ".join(f"term{n}" for n in range(30)) + "?")
    assert carry_terms("Why?", many).count("term") == 8  # MAX_CARRIED


def test_a_conversation_sent_whole_is_split_into_its_question_and_recent_turns():
    question, turns = split_conversation([
        ("system", "Be brief."), ("user", OPENING), ("assistant", "It opens at 12.5 bar [1]."),
        ("user", FOLLOW_UP)])
    assert question == FOLLOW_UP
    assert turns == [Turn(OPENING, "", "It opens at 12.5 bar [1].")]
    # earlier follow-ups are made standalone in order, so that the topic carries through
    _, turns = split_conversation([("user", OPENING), ("user", FOLLOW_UP), ("user", "Why?")])
    assert turns[1].searched_for == "What pressure does it open at? (relief valve line 7)"
    # a long history: only the recent turns are read, the question is whole
    history = [(role, f"{role} message {n} " + "word " * 500)
               for n in range(300) for role in ("user", "assistant")]
    question, turns = split_conversation(history + [("user", FOLLOW_UP)])
    assert question == FOLLOW_UP and len(turns) == 8
    assert turns[-1].question.startswith("user message 299")

    for messages, reason in (
            ([("system", "Be brief.")], "no question"),
            ([("user", OPENING), ("assistant", "It opens at 12.5 bar.")], "role assistant"),
            ([("user", OPENING), ("system", "Now in French."), ("user", FOLLOW_UP)],
             "System messages come first")):
        with pytest.raises(UserError, match=reason):
            split_conversation(messages)


# --- with the real models ------------------------------------------------------------------

def test_a_follow_up_finds_its_source_only_through_the_conversation(service, tmp_path):
    service.library.ingest([write_plant_library(tmp_path / "plant")])
    alone = service.answers.ask(FOLLOW_UP).collect()
    assert alone.searched_for == FOLLOW_UP
    assert alone.sources[0].hit.document != "valves.txt" and "12.5" not in alone.text

    talks = service.conversations
    first = talks.ask(OPENING)
    assert first.searched_for == OPENING  # a first question is searched as it is
    first.stream.collect()
    follow_up = talks.ask(FOLLOW_UP, first.conversation_id)
    assert "relief valve" in follow_up.searched_for
    answer = follow_up.stream.collect()
    assert answer.question == FOLLOW_UP and answer.searched_for == follow_up.searched_for
    assert answer.sources[0].hit.document == "valves.txt" and answer.sources[0].cited
    assert "12.5" in answer.text and answer.kind in ("answer", "quote")

    # kept with the question; answered again, it is searched the same way
    question = talks.messages(first.conversation_id)[2]
    assert (question.role, question.searched_for) == ("user", follow_up.searched_for)
    again = talks.ask(FOLLOW_UP, first.conversation_id, again=True)
    assert again.searched_for == follow_up.searched_for
    assert "12.5" in again.stream.collect().text
    kept = talks.messages(first.conversation_id)
    assert [m.role for m in kept] == ["user", "assistant", "user", "assistant"]
    assert kept[0].searched_for == "" and kept[2].searched_for == follow_up.searched_for

    # a follow-up that names its subject in the same conversation is searched as it is
    named = talks.ask("When is the bursting disc of the steam boiler replaced?",
                      first.conversation_id)
    assert named.searched_for == "When is the bursting disc of the steam boiler replaced?"
    named.stream.collect()


def test_the_model_rewrites_within_its_context_and_never_cuts_the_question(generator):
    long_answer = "The relief valve is described in the manual. " * 60
    turns = [Turn(f"Question {n} about pump P-{n}?", "", long_answer) for n in range(40)]
    turns.append(Turn(OPENING, "", "It protects the cooling water circuit [1]."))
    history = history_for_model(turns, 300, generator.count_tokens, generator.truncate)
    assert generator.count_tokens(history) <= 300
    assert history.startswith("User: ") and history.rstrip().endswith("circuit [1].")
    assert "P-39" in history and "P-0?" not in history  # the newest kept, the oldest left out

    # the whole prompt fits the context (llama.cpp refuses one that does not); what the
    # model writes is used only if it keeps every word the question names
    question = "What pressure does it open at, and who tests it? " + "Please answer. " * 20
    rewritten = model_rewrite(question, turns, generator)
    own = {t.lower() for t in key_terms(question)}
    assert rewritten is None or own <= {t.lower() for t in key_terms(rewritten)}
