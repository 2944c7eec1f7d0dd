"""The consultation object every surface drives: each operation, numbering, storage."""

import json

import pytest

from bot.engine import (
    NOT_SURE,
    Consultation,
    decide,
    next_question,
    parse_answers,
    verdict_only,
)
from tests.conftest import TODAY


@pytest.fixture
def consultation(knowledge):
    return Consultation(knowledge, TODAY)


# One team's answers, for tests that answer whatever the flow shows next.
TEAM = {"model": "open:llama-3.1-8b", "gap": "behaviour", "format_resisted": "yes",
        "labelled_examples": "8000", "prompt_tokens": "6k", "monthly_calls": "20M",
        "smaller_model_wanted": "no", "latency_critical": "no", "task_type": "format",
        "retrieval_in_place": "no", "deployment": "any_cloud",
        "general_capability_needed": "no", "prompt_engineering_tried": "yes",
        "has_eval_set": "yes", "spec_stable": "yes", "deadline": "no_deadline",
        "model_access": "open_weights"}


def answer_shown(c, value=None):
    q = c.next_question()
    assert q is not None
    assert c.answer(q.id, TEAM[q.id] if value is None else value) is None
    return q.id


def test_answer_records_a_typed_value_and_moves_on(consultation):
    first = consultation.next_question()
    assert first.id == "model"
    assert consultation.progress().number == 1
    assert consultation.answer("model", "llama 3.1 8b") is None
    assert consultation.answers == {"model": "open:llama-3.1-8b"}
    assert consultation.history == ["model"]
    second = consultation.next_question()
    assert second.id not in ("model", "model_access")  # the model says it can be tuned
    assert consultation.progress().number == 2


def test_a_bad_answer_changes_nothing_and_says_what_is_accepted(consultation):
    consultation.answer("model", "open:llama-3.1-8b")
    consultation.answer("prompt_tokens", "6k")
    before = json.dumps(consultation.to_json(), sort_keys=True)
    error = consultation.answer("monthly_calls", "lots")
    assert error is not None and error.question == "monthly_calls"
    assert "whole number" in error.reason and "20M" in error.reason
    assert json.dumps(consultation.to_json(), sort_keys=True) == before


def test_not_sure_takes_the_assumption_and_is_not_asked_again(consultation, knowledge):
    consultation.answer("model", "open:llama-3.1-8b")
    shown = consultation.next_question().id
    assert consultation.not_sure(shown) is None
    assert consultation.answers[shown] == NOT_SURE
    assert consultation.not_sure_ids == [shown]
    assert not consultation.has_answer(shown)
    assert consultation.next_question() is None or consultation.next_question().id != shown
    # the rules use the stated assumption: same verdict as leaving it out
    without = {k: v for k, v in consultation.answers.items() if k != shown}
    assert consultation.verdict() == verdict_only(knowledge, without, TODAY)
    # ... while the flow treats it as asked
    assert next_question(knowledge, consultation.answers, TODAY) != knowledge.question(shown)
    # "not sure" of the model: its access is asked instead, priced on a reference model
    other = Consultation(knowledge, TODAY)
    other.not_sure("model")
    assert other.next_question().id == "model_access"


def test_every_not_sure_answer_is_listed_with_what_it_stood_for(consultation):
    """Even where no shown reason reads it, a "Not sure" says what the bot took it as."""
    for question in ("model", "model_access", "gap", "labelled_examples"):
        consultation.not_sure(question)
    shown = {a.question: a.text for a in consultation.decide().assumptions}
    assert shown["model"].startswith("model: not sure, taken as no particular model")
    assert shown["model_access"] == ("model access: not sure, taken as Closed API that "
                                     "offers fine-tuning")
    assert shown["gap"] == "what is wrong today: not sure, so no reason is drawn from it"
    assert shown["labelled_examples"] == "labelled examples: not sure, taken as 0"
    # a question merely left unanswered, and read by no shown reason, is not listed
    assert "deadline" not in shown


def test_an_unnamed_model_is_priced_on_a_reference_but_no_provider_is_told_to_it(knowledge):
    """Not sure of the model: a reference model prices the prompt, but the caution to
    check the provider does not speak of that reference model's provider."""
    answers = {"model": NOT_SURE, "model_access": NOT_SURE, "gap": "behaviour",
               "format_resisted": "yes", "labelled_examples": "5k", "prompt_tokens": "3k",
               "monthly_calls": "1m", "has_eval_set": "yes",
               "prompt_engineering_tried": "yes", "spec_stable": "yes"}
    parsed, errors = parse_answers(knowledge, answers)
    assert not errors
    decision = decide(knowledge, parsed, TODAY)
    check = [c.text for c in decision.cautions if "still offers fine-tuning" in c.text]
    assert check and "the model is not named" in check[0]
    assert not any("Anthropic" in text for text in check)
    model = next(a.text for a in decision.assumptions if a.question == "model")
    assert model.startswith("model: not sure, priced as ")


def test_skip_and_the_words_for_not_sure_all_mean_not_sure(knowledge):
    for word in ("skip", "not sure", "Not sure.", "don't know", "not_sure", "idk"):
        c = Consultation(knowledge, TODAY)
        c.answer("model", "open:llama-3.1-8b")
        assert c.answer("labelled_examples", word) is None, word
        assert c.answers["labelled_examples"] == NOT_SURE
    c = Consultation(knowledge, TODAY)
    assert c.skip("deadline") is None and c.answers == {"deadline": NOT_SURE}


def test_back_shows_the_earlier_question_with_its_answer_kept(consultation):
    assert consultation.back() is None  # nothing yet
    first = answer_shown(consultation)
    second = answer_shown(consultation)
    kept = consultation.answers[second]
    third_shown = consultation.next_question().id
    assert consultation.back() == second
    assert consultation.next_question().id == second
    assert consultation.answers[second] == kept  # kept, shown as the earlier answer
    assert consultation.progress().number == 2
    assert consultation.back() == first
    assert consultation.progress().number == 1
    assert consultation.back() is None  # at the first question already
    # answering the revisited question goes on with the flow; later answers are kept
    assert consultation.answer(first, "open:llama-3.1-8b") is None
    assert consultation.answers[second] == kept
    assert consultation.next_question().id == third_shown
    assert consultation.progress().number == 3


def test_change_reasks_an_answered_question_and_keeps_numbering(consultation):
    first = answer_shown(consultation)
    answer_shown(consultation)
    assert consultation.change(first) is None
    assert consultation.next_question().id == first
    assert consultation.progress().number == 1
    assert consultation.answer(first, "anthropic:claude-haiku-4-5") is None
    assert consultation.done and consultation.verdict() == "prompt_engineering"
    assert consultation.history[:2] == [first, consultation.history[1]]
    assert consultation.change("colour") is not None  # unknown id: an error, nothing changed
    assert consultation.current is None


def test_a_change_after_the_verdict_reopens_it(consultation):
    answer_shown(consultation, "claude haiku 4.5")
    assert consultation.done
    consultation.change("model")
    assert not consultation.done
    consultation.answer("model", "llama 3.1 8b")
    assert not consultation.done  # an open model needs more answers


def test_start_over_forgets_everything(consultation):
    consultation.read("we run llama with a 6k token prompt")
    answer_shown(consultation)
    consultation.change("model_access")
    consultation.start_over()
    assert consultation.to_json() == Consultation(consultation.knowledge, TODAY).to_json()
    assert consultation.next_question().id == "model"


def test_progress_is_stable_and_the_bound_only_goes_down(knowledge):
    truth = {"model": "open:llama-3.1-8b", "model_access": "open_weights", "gap": "behaviour",
             "format_resisted": "yes",
             "labelled_examples": "8000", "prompt_tokens": "6k", "monthly_calls": "20M",
             "smaller_model_wanted": "no", "latency_critical": "no", "task_type": "format",
             "general_capability_needed": "no", "prompt_engineering_tried": "yes",
             "has_eval_set": "yes", "spec_stable": "yes", "deadline": "no_deadline"}
    c = Consultation(knowledge, TODAY)
    bounds, numbers = [], []
    while (q := c.next_question()) is not None:
        p = c.progress()
        numbers.append(p.number)
        bounds.append(p.at_most)
        assert c.answer(q.id, truth[q.id]) is None
    assert numbers == list(range(1, len(numbers) + 1))
    assert bounds == sorted(bounds, reverse=True)
    assert all(n <= b for n, b in zip(numbers, bounds, strict=True))
    assert bounds[-1] == numbers[-1]  # the last question says so
    assert str(c.progress() or "") == ""


def test_prefilled_answers_are_noted_and_not_numbered(knowledge):
    c = Consultation(knowledge, TODAY)
    found = c.read("we use llama 3.1 8b with a 6k token prompt and 20M calls a month")
    assert found.answers
    assert c.answers["model"] == "open:llama-3.1-8b"
    assert set(c.prefilled) == set(found.answers)
    assert "6,000" in c.prefilled["prompt_tokens"]
    assert c.history == []
    assert c.progress().number == 1
    # answering a prefilled question one at a time makes it asked, not read
    c.change("prompt_tokens")
    c.answer("prompt_tokens", "8k")
    assert "prompt_tokens" not in c.prefilled and c.history == ["prompt_tokens"]


def test_submit_answers_a_whole_form_and_keeps_the_good_fields(knowledge):
    c = Consultation(knowledge, TODAY)
    c.answer("deadline", "this week")
    errors = c.submit({"prompt_tokens": "6k", "monthly_calls": "1e400x", "deadline": "",
                       "has_eval_set": "not sure"})
    assert set(errors) == {"monthly_calls"}
    assert c.answers == {"prompt_tokens": 6000, "has_eval_set": NOT_SURE}


def test_storage_round_trip_is_exact(knowledge):
    c = Consultation(knowledge, TODAY)
    c.read("llama, 6k token prompt, ship this week")
    answer_shown(c, "behaviour")
    c.not_sure(c.next_question().id)
    c.answer("input_price_per_mtok", "2151305.67" if False else "0.15")
    c.back()
    stored = json.loads(json.dumps(c.to_json()))  # through JSON, as the database keeps it
    again = Consultation.from_json(knowledge, stored, TODAY)
    assert again.to_json() == c.to_json()
    assert again.next_question() == c.next_question()
    assert again.progress() == c.progress()
    assert stored["schema"] == 1


def test_a_row_written_before_the_consultation_object_still_loads(knowledge):
    """Rows stored by the previous code: answers plus flow keys in the row's meta."""
    legacy = {
        "schema": 0,
        "answers": {"model_access": "open_weights", "prompt_tokens": 6000,
                    "labelled_examples": 8000},
        "meta": {"origin": "mention", "skipped": ["gap"], "current": "labelled_examples",
                 "prefilled": ["model_access", "prompt_tokens"],
                 "understood": ['model access: Open-weights model ("llama")',
                                'prompt length: 6,000 tokens ("6k token prompt")'],
                 "notes": ["You mentioned GPT-4o: ..."], "permalink": "https://x"},
    }
    c = Consultation.from_json(knowledge, legacy, TODAY)
    assert c.answers == {"model_access": "open_weights", "prompt_tokens": 6000,
                         "labelled_examples": 8000, "gap": NOT_SURE}
    assert c.prefilled["model_access"].startswith("model access")
    assert c.history == ["gap", "labelled_examples"]  # asked ones, in question order
    assert c.next_question().id == "labelled_examples"  # it was being changed
    assert c.notes == ["You mentioned GPT-4o: ..."]
    assert Consultation.from_json(knowledge, c.to_json(), TODAY).to_json() == c.to_json()


def test_a_state_from_newer_code_is_refused(knowledge):
    with pytest.raises(ValueError, match="newer"):
        Consultation.from_json(knowledge, {"schema": 99}, TODAY)


def test_decide_through_the_object_equals_decide_on_the_answers(knowledge):
    c = Consultation(knowledge, TODAY)
    c.read("llama, 6k token prompt, 20M calls a month, 8000 examples")
    c.not_sure("has_eval_set")
    assert c.decide() == decide(knowledge, c.answers, TODAY)
    assert "has_eval_set" in c.decide().not_sure
    assert "has_eval_set" not in c.decide().open_questions
    assert "has_eval_set" in c.decide().missing


def test_a_stored_answer_the_knowledge_no_longer_accepts_is_set_aside_not_lost(knowledge):
    """A question removed, a model gone from the catalogue, a value out of range: the
    consultation still loads, says what it set aside, asks again, and stores it back."""
    stored = {"schema": 1, "history": ["model", "gap"], "current": "model",
              "answers": {"model": "openai:gpt-9", "price_model": "gpt-4o-mini",
                          "prompt_tokens": "lots", "gap": "behaviour", "monthly_calls": 20e6}}
    state = Consultation.from_json(knowledge, stored, TODAY)
    assert state.answers == {"gap": "behaviour", "monthly_calls": 20_000_000}
    assert state.history == ["gap"] and state.current is None
    assert state.next_question().id == "model"  # asked again
    assert any("openai:gpt-9" in n and "did you mean" in n for n in state.notes)
    assert any("price_model" in n for n in state.notes)
    assert state.decide().verdict in {"prompt_engineering", "prompt_then_fine_tune",
                                      "fine_tuning"}
    again = state.to_json()
    assert again["set_aside"] == {"model": "openai:gpt-9", "price_model": "gpt-4o-mini",
                                  "prompt_tokens": "lots"}
    assert Consultation.from_json(knowledge, again, TODAY).to_json() == again
