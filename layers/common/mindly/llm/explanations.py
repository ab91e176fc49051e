"""Explanations of wrong answers: the prompt, the output schema, and the offline generator.

The offline generator is real, deterministic code: it builds the explanation from the question's
key and its own explanation (when the bank has one), and says it is the offline one (source
"offline"). A question without an explanation still gets one: the key, and what to check.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mindly.domain.content import Question, key_text

SYSTEM = ("You are a patient tutor for Indian competitive exams (UPSC, GATE, JEE, CAT, NEET). Answer in "
          "plain English, in JSON only: {\"text\": \"...\"}. In 3 to 6 sentences explain why the correct answer "
          "is right and why the answer the student gave is not. Do not repeat the question. Mathematics may be "
          "written in LaTeX between $ signs.")


class Explanation(BaseModel):
    text: str = Field(min_length=20, max_length=3000)


def _listed(question: Question) -> str:
    return "\n".join(f"{letter}) {text}" for letter, text in sorted(question.options.items()))


def chosen_text(question: Question, chosen: str) -> str:
    """The student's answer in words: "B) text", "A) x; C) y", or the number they entered."""
    if question.question_type == "numeric":
        return chosen
    return "; ".join(f"{letter}) {question.options.get(letter, '')}" for letter in chosen.split(",") if letter)


def prompt(question: Question, chosen: str) -> str:
    """The user prompt for one (question, wrong answer) pair. A numeric question's explanation is
    kept for every wrong number alike, so its prompt does not carry the number given."""
    reference = question.explanation or "(none in the bank: work the solution out)"
    passage = f"Passage:\n{question.passage.text}\n\n" if question.passage and question.passage.text else ""
    if question.question_type == "numeric":
        return (f"{passage}Question:\n{question.stem}\n\nCorrect answer: {key_text(question)}\n"
                f"The student's number was wrong.\n\nReference explanation (may be brief):\n{reference}")
    kind = "options (all of them are needed)" if question.question_type == "multiple" else "option"
    return (f"{passage}Question:\n{question.stem}\n\nOptions:\n{_listed(question)}\n\nCorrect {kind}: "
            f"{key_text(question)}\nThe student chose: {chosen_text(question, chosen)}\n\n"
            f"Reference explanation (may be brief):\n{reference}")


def offline(question: Question, chosen: str) -> str:
    """An explanation without Groq: the key and why (the question's own explanation, when there is
    one), then how the student's answer differs from it."""
    parts = [f"The correct answer is {key_text(question)}.", (question.explanation or "").strip()]
    if question.question_type == "numeric":
        parts.append("Your number is outside the accepted range; redo each step of the calculation and "
                     "check units and rounding.")
    elif question.question_type == "multiple":
        given = set(chosen.split(","))
        extra = sorted(given - set(question.correct_options))
        missed = sorted(set(question.correct_options) - given)
        if extra:
            parts.append(f"You also marked {', '.join(extra)}, which is not correct.")
        if missed:
            parts.append(f"You left out {', '.join(missed)}, which is also correct.")
        parts.append("A multiple-correct question counts only when the whole set is right.")
    else:
        right = question.options.get(str(question.correct_option), "")
        wrong = question.options.get(chosen, "")
        if _numeric(right) and _numeric(wrong):
            parts.append(f"You chose {chosen}) {wrong}, which does not match the worked result of {right}; "
                         "check each step of the calculation against the one above.")
        else:
            support = "the explanation above supports" if question.explanation else "the question asks for"
            parts.append(f"You chose {chosen}) {wrong}. That is not what {support}: compare it with "
                         f"{question.correct_option}) {right} point by point.")
    if not question.explanation:
        parts.append("(This question has no worked explanation in the bank yet.)")
    return " ".join(part for part in parts if part)


def _numeric(text: str) -> bool:
    cleaned = text.replace(",", "").replace(" ", "")
    return any(ch.isdigit() for ch in cleaned) and sum(ch.isalpha() for ch in cleaned) <= 4


def response(text: str | None, source: str | None) -> dict[str, Any] | None:
    return None if text is None else {"text": text, "source": source}
