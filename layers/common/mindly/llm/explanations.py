"""Explanations of wrong answers: the prompt, the output schema, and the offline generator.

The offline generator is real, deterministic code: it builds the explanation from the question's
own explanation and its options, and says it is the offline one (source "offline").
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SYSTEM = ("You are a patient tutor for Indian competitive exams (UPSC, GATE, JEE, CAT, NEET). Answer in "
          "plain English, in JSON only: {\"text\": \"...\"}. In 3 to 6 sentences explain why the correct option "
          "is right and why the option the student chose is not. Do not repeat the question.")


class Explanation(BaseModel):
    text: str = Field(min_length=20, max_length=3000)


def prompt(stem: str, options: dict[str, str], correct: str, chosen: str, reference: str) -> str:
    """The user prompt for one (question, wrong option) pair."""
    listed = "\n".join(f"{letter}) {text}" for letter, text in sorted(options.items()))
    return (f"Question:\n{stem}\n\nOptions:\n{listed}\n\nCorrect option: {correct}\n"
            f"The student chose: {chosen}\n\nReference explanation (may be brief):\n{reference}")


def offline(stem: str, options: dict[str, str], correct: str, chosen: str, reference: str) -> str:
    """An explanation without Groq: the correct option and why (the question's own explanation),
    then why the chosen option differs from it."""
    right, wrong = options.get(correct, ""), options.get(chosen, "")
    parts = [f"The correct answer is {correct}) {right}.", reference.strip()]
    if _numeric(right) and _numeric(wrong):
        parts.append(f"You chose {chosen}) {wrong}, which does not match the worked result of {right}; "
                     "check each step of the calculation against the one above.")
    else:
        parts.append(f"You chose {chosen}) {wrong}. That is not what the explanation above supports: "
                     f"compare it with {correct}) {right} point by point.")
    return " ".join(part for part in parts if part)


def _numeric(text: str) -> bool:
    cleaned = text.replace(",", "").replace(" ", "")
    return any(ch.isdigit() for ch in cleaned) and sum(ch.isalpha() for ch in cleaned) <= 4


def response(text: str | None, source: str | None) -> dict[str, Any] | None:
    return None if text is None else {"text": text, "source": source}
