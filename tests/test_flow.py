"""The guided flow stops as soon as no remaining answer can change the verdict,
and never earlier. Checked against a brute-force oracle that tries every
combination of remaining answers (including leaving them unanswered): on its own grid of
round numbers, on the engine's candidate values, and on random values."""

from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import (
    NOT_SURE,
    Consultation,
    is_settled,
    next_question,
    possible_verdicts,
    verdict_only,
)
from bot.engine.candidates import candidate_values
from bot.engine.catalogue import check_answers, derived_access, self_hosted
from bot.knowledge import load_knowledge
from tests.conftest import TODAY

KNOWLEDGE = load_knowledge()
ASKED = [q for q in KNOWLEDGE.questions if q.ask]
UNANSWERED = object()


# The oracle's own grid for numbers, written independently of the engine's
# candidate values: round numbers and both sides of every figure the seed uses.
ORACLE_NUMBERS = (0, 1, 20, 99, 100, 101, 999, 1000, 1001, 3999, 4000, 4001, 50_000,
                  999_999, 1_000_000, 1_000_001, 30_000_000, 10**9, 10**11)


def oracle_values(question):
    if question.kind in ("choice", "model"):
        return question.option_values()
    if question.kind == "bool":
        return [True, False]
    low = int(question.min) + (1 if question.min_exclusive else 0)
    return [n for n in ORACLE_NUMBERS if low <= n <= question.max]


def value_strategy(question):
    grid = st.sampled_from(oracle_values(question))
    if question.kind == "int":
        low = int(question.min) + (1 if question.min_exclusive else 0)
        log_uniform = st.floats(0, 11).map(lambda e: int(10**e)).filter(
            lambda n: low <= n <= question.max
        )
        return st.one_of(grid, log_uniform)
    return grid


@st.composite
def complete_answers(draw):
    """A team's whole truth; a named model's access is what the catalogue says of it."""
    truth = draw(st.fixed_dictionaries({q.id: value_strategy(q) for q in ASKED}))
    if draw(st.booleans()):
        truth["model"] = NOT_SURE  # asked, and they would not say: model access decides
    else:
        truth["model_access"] = derived_access(KNOWLEDGE.model(truth["model"]), TODAY)
    if truth.get("deployment") == "on_prem":  # only open weights run on your own machines
        if truth["model"] != NOT_SURE and not self_hosted(KNOWLEDGE,
                                                          KNOWLEDGE.model(truth["model"])):
            truth["model"] = "open:llama-3.1-8b"
        truth["model_access"] = "open_weights"
    return truth


def _size(qid):
    question = KNOWLEDGE.question(qid)
    return len(set(oracle_values(question)) | set(candidate_values(KNOWLEDGE, question))) + 3


@st.composite
def partial_with_extras(draw):
    """(answers given so far, open question ids, extra random values per open question)."""
    full = draw(complete_answers())
    open_ids = draw(st.lists(st.sampled_from([q.id for q in ASKED]), max_size=4, unique=True))
    while open_ids and _product(open_ids) > 1500:  # keep the brute force affordable
        open_ids = open_ids[:-1]
    implied = (full["model"] != NOT_SURE and "model" not in open_ids) or (
        full.get("deployment") == "on_prem" and "deployment" not in open_ids)
    if implied and "model_access" in open_ids:
        open_ids.remove("model_access")  # a named model (on-prem) answers it: never asked
    from_model = "model" in open_ids and full["model"] != NOT_SURE
    from_on_prem = ("deployment" in open_ids and full.get("deployment") == "on_prem"
                    and full["model"] == NOT_SURE)
    if from_on_prem and "model_access" not in open_ids:
        # it was implied by on-prem, not the team's: with the deployment open it is open
        open_ids.append("model_access")
    extras = {qid: draw(st.lists(value_strategy(KNOWLEDGE.question(qid)), max_size=2))
              for qid in open_ids}
    given_answers = {k: v for k, v in full.items() if k not in open_ids}
    if from_model and "model_access" not in open_ids:
        given_answers.pop("model_access", None)  # it was implied, not the team's
    return given_answers, open_ids, extras


def _product(open_ids):
    total = 1
    for qid in open_ids:
        total *= _size(qid)
    return total


def brute_force_verdicts(given_answers, open_ids, extras):
    choices = []
    for qid in open_ids:
        question = KNOWLEDGE.question(qid)
        grid = set(oracle_values(question)) | set(candidate_values(KNOWLEDGE, question))
        choices.append([*sorted(grid, key=str), *extras[qid], UNANSWERED, NOT_SURE])
    found = set()
    for combo in product(*choices):
        trial = dict(given_answers)
        for qid, value in zip(open_ids, combo, strict=True):
            if value is not UNANSWERED:
                trial[qid] = value
        if check_answers(KNOWLEDGE, trial, TODAY):
            continue  # answers that contradict each other are nobody's truth
        found.add(verdict_only(KNOWLEDGE, trial, TODAY))
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_with_extras())
def test_stops_exactly_when_no_remaining_answer_can_change_the_verdict(case):
    given_answers, open_ids, extras = case
    reachable = brute_force_verdicts(given_answers, open_ids, extras)
    assert possible_verdicts(KNOWLEDGE, given_answers, TODAY) == reachable
    assert is_settled(KNOWLEDGE, given_answers, TODAY) == (len(reachable) == 1)
    question = next_question(KNOWLEDGE, given_answers, TODAY)
    if len(reachable) == 1:
        assert question is None  # never asks a question that cannot matter
    else:
        assert question is not None and question.id in open_ids  # never stops early


@settings(max_examples=100, deadline=None)
@given(complete_answers())
def test_the_flow_reaches_the_full_questionnaires_verdict(truth):
    consultation = Consultation(KNOWLEDGE, TODAY)
    asked = []
    while (question := consultation.next_question()) is not None:
        assert question.id not in asked
        asked.append(question.id)
        assert consultation.answer(question.id, truth[question.id]) is None
    assert consultation.done
    assert consultation.verdict() == verdict_only(KNOWLEDGE, truth, TODAY)
    assert len(asked) <= len(ASKED)


def test_the_first_question_is_the_model_and_a_closed_one_ends_it():
    # The model settles most consultations on its own (one that cannot be tuned, or whose
    # tuned models would not serve long enough), and sets prices and dates for the rest.
    assert next_question(KNOWLEDGE, {}, TODAY).id == "model"
    assert next_question(KNOWLEDGE, {"model": "anthropic:claude-haiku-4-5"}, TODAY) is None
    assert next_question(KNOWLEDGE, {"model": "openai:gpt-4.1-mini"}, TODAY) is None
    assert next_question(KNOWLEDGE, {"model_access": "closed_no_fine_tuning"}, TODAY) is None


def test_a_closed_model_ends_the_consultation_after_one_question():
    consultation = Consultation(KNOWLEDGE, TODAY)
    assert consultation.answer("model_access", "closed API, no fine-tuning offered") is None
    assert consultation.done and consultation.verdict() == "prompt_engineering"
