"""The grounding checks on their own: numbers, verdict statements, citations."""

from __future__ import annotations

import pytest

from bot.explain.grounding import check, extract_numbers, same_number, stated_verdicts

FACTS = [
    "Verdict: Fine-tune.",
    "Reason: A 6k-token prompt sent 20M times a month costs $120,000 a month.",
    "Reason: You have 8,000 clean examples of the exact output.",
    "Advice: Fine-tune the instruct (chat) model with LoRA or QLoRA.",
    "Cost: Fine-tuning pays back after: 0.01 months.",
    "What would change it: With labelled examples at 99 or less, the verdict would be "
    "Prompt now, fine-tune later.",
]
NUMBERS = [6000, 20_000_000, 120000.0, 8000, 0.01, 61324.0, 0.25]


def cite(text: str, start: int, end: int | None = None) -> dict:
    end = start + 1 if end is None else end
    return {
        "type": "text",
        "text": text,
        "citations": [
            {
                "type": "content_block_location",
                "cited_text": "".join(FACTS[start:end]),
                "document_index": 0,
                "document_title": "Knowledge facts",
                "start_block_index": start,
                "end_block_index": end,
            }
        ],
    }


def plain(text: str) -> dict:
    return {"type": "text", "text": text, "citations": None}


def run(*blocks, verdict="fine_tuning", stop="end_turn", facts=FACTS):
    return check({"stop_reason": stop, "content": list(blocks)}, facts=facts, verdict=verdict,
                 allowed_numbers=NUMBERS)


GOOD = [
    plain("Recommendation: Fine-tune. "),
    cite("Your 6k-token prompt at 20M calls a month costs $120k a month.", 1),
    plain(" "),
    cite("With 8,000 clean examples you have enough data.", 2),
    plain(" "),
    cite("Tune the instruct model with LoRA.", 3),
]


# --- numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("6k", [6000]),
        ("6,000 tokens", [6000]),
        ("$40,000 a month", [40000]),
        ("USD 40,000", [40000]),
        ("1.5 million calls", [1_500_000]),
        ("20M calls", [20_000_000]),
        ("40B tokens", [40e9]),
        ("12% of the prompt", [12]),
        ("0.5 months", [0.5]),
        ("a 2x markup", [2]),
        ("three months", [3]),
        ("a 6k-token prompt", [6000]),
        ("gpt-4o-mini", []),
        ("1. first\n2. second", []),
    ],
)
def test_numbers_are_read_in_their_human_forms(text, values):
    assert [n.value for n in extract_numbers(text)] == values


def test_percentages_are_marked():
    (number,) = extract_numbers("25%")
    assert number.percent and number.value == 25


@pytest.mark.parametrize(
    ("said", "known", "same"),
    [
        (2_100_000, 2_083_334, True),  # 2.1M: two significant digits
        (40_000, 40_000, True),
        (120_000, 120_000.4, True),
        (0.41, 0.4123, True),
        (40_000, 43_000, False),  # rounded to one digit: too coarse
        (3, 3.4, False),
        (123_457, 120_000, False),  # more digits than the decision has
        (61_000, 61_324, True),
        (60_000, 61_324, False),
    ],
)
def test_same_number_means_the_same_value_rounded(said, known, same):
    assert same_number(said, known) is same


# --- verdict statements -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "verdicts"),
    [
        ("Recommendation: Fine-tune.", ["fine_tuning"]),
        ("Recommendation: Prompt engineering.", ["prompt_engineering"]),
        ("Recommendation: Prompt now, fine-tune later.", ["prompt_then_fine_tune"]),
        ("We recommend fine-tuning the instruct model.", ["fine_tuning"]),
        ("You should stick with prompt engineering.", ["prompt_engineering"]),
        ("Start with prompt engineering, then fine-tune once the spec settles.",
         ["prompt_then_fine_tune"]),
        ("Fine-tune now.", ["fine_tuning"]),
        ("Fine-tuning is the right choice here.", ["fine_tuning"]),
        ("Prompt engineering remains the best option.", ["prompt_engineering"]),
        ("We do not recommend fine-tuning yet.", []),
        ("With 99 examples or less the verdict would be Prompt now, fine-tune later.", []),
        ("Fine-tuning would pay back in 3 months.", []),
        ("Fine-tune later when an evaluation set measures quality.", []),
        ("Keep a tight prompt alongside the fine-tune.", []),
    ],
)
def test_verdict_statements(sentence, verdicts):
    assert [v for v, *_ in stated_verdicts(sentence)] == verdicts


# --- the whole check -------------------------------------------------------------------


def test_a_grounded_text_passes_and_reports_its_cited_blocks():
    result = run(*GOOD)
    assert result.ok, result
    assert result.cited_blocks == (1, 2, 3)
    assert result.text.startswith("Recommendation: Fine-tune.")


def test_a_multi_block_citation_counts_every_block():
    result = run(GOOD[0], cite("Your prompt at 20M calls costs $120k; you have 8,000 examples.", 1,
                               3))
    assert result.ok and result.cited_blocks == (1, 2)


@pytest.mark.parametrize(
    ("blocks", "kwargs", "reason"),
    [
        (GOOD, {"stop": "max_tokens"}, "max_tokens"),
        (GOOD, {"stop": "refusal"}, "stop_reason:refusal"),
        ([], {}, "empty"),
        ([plain("  ")], {}, "empty"),
        ([plain("Recommendation: Fine-tune.")], {}, "too_short"),
        (GOOD + [cite(" It is grounded." * 60, 1)], {}, "too_long"),
        (GOOD + [{"type": "tool_use", "id": "t", "name": "x", "input": {}}], {},
         "unexpected_content"),
        ([GOOD[0], cite("Your prompt costs $120k a month at 20M calls.", 4, 9)], {},
         "bad_citation"),
        ([GOOD[0], {**cite("Your prompt costs $120k a month.", 1), "citations": [
            {"type": "char_location", "cited_text": "x", "document_index": 0,
             "start_char_index": 0, "end_char_index": 1}]}], {}, "bad_citation"),
        (GOOD, {"verdict": "prompt_engineering"}, "verdict_mismatch"),
        ([plain("Here is the summary. "), *GOOD[1:]], {}, "verdict_missing"),
        ([*GOOD, plain(" "), cite("Stick with prompt engineering for now.", 1)], {},
         "verdict_mismatch"),
        ([*GOOD, plain(" "), cite("That saves $58,000 every month.", 4)], {},
         "unsupported_number"),
        ([*GOOD, plain(" "), cite("It pays back in 3 months.", 4)], {}, "unsupported_number"),
        ([*GOOD, plain(" Most teams regret prompting for this kind of task.")], {},
         "uncited_claim"),
    ],
)
def test_each_failure_has_its_reason(blocks, kwargs, reason):
    result = run(*blocks, **kwargs)
    assert not result.ok
    assert result.reason == reason


def test_numbers_from_the_facts_and_the_decision_are_both_accepted():
    # 0.01 months is in a fact; 61,324 only in the decision's costs.
    result = run(*GOOD, plain(" "), cite("Tuned, the input costs $61,324 a month and pays back "
                                         "after 0.01 months.", 4))
    assert result.ok, result


def test_short_sentences_and_the_bare_verdict_line_need_no_citation():
    result = run(plain("Recommendation: Fine-tune. In short: "), *GOOD[1:])
    assert result.ok, result


def test_the_verdict_line_with_an_added_claim_needs_a_citation():
    result = run(plain("Recommendation: Fine-tune, because it always beats prompting here. "),
                 *GOOD[1:])
    assert result.reason == "uncited_claim"


def test_a_counterfactual_naming_another_verdict_is_not_a_recommendation():
    result = run(*GOOD, plain(" "), cite("With labelled examples at 99 or less, the verdict "
                                         "would be Prompt now, fine-tune later.", 5))
    assert result.ok, result


def test_prompt_now_fine_tune_later_may_say_how_to_fine_tune_later():
    result = run(
        plain("Recommendation: Prompt now, fine-tune later. "),
        cite("Fine-tune the instruct model with LoRA or QLoRA when you get there.", 3),
        verdict="prompt_then_fine_tune",
    )
    assert result.ok, result
    flipped = run(plain("Recommendation: Fine-tune. "), *GOOD[1:], verdict="prompt_then_fine_tune")
    assert flipped.reason == "verdict_mismatch"
