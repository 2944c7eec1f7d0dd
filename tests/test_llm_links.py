"""Links in LLM-phrased text: only to the knowledge's own source URLs.

A sentence that carries a Slack link (`<https://...|label>`), a Markdown link
(`[x](https://...)`) or a bare URL that is not exactly the URL of a source in
`knowledge/` is rejected (`link_not_allowed`) and the template text is shown, as for
every other failed check. Pure checks first, then `phrase` against FakeAnthropic."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from bot.config import Settings
from bot.explain.grounding import check, links
from bot.explain.llm import phrase, source_titles, source_urls, warm_up
from tests.support import fake_anthropic as fa
from tests.test_llm import scenario
from tests.test_llm_grounding import FACTS, GOOD, NUMBERS, cite

SOURCE = "https://docs.mistral.ai/capabilities/finetuning"
SOURCES = frozenset({SOURCE, "https://ai.google.dev/gemini-api/docs/model-tuning"})
EVIL = "https://evil.example/steal"


def run(extra: str, allowed=SOURCES):
    blocks = [*GOOD, {"type": "text", "text": " "}, cite(extra, 3)]
    return check({"stop_reason": "end_turn", "content": blocks}, facts=FACTS,
                 verdict="fine_tuning", allowed_numbers=NUMBERS, allowed_urls=allowed)


@pytest.mark.parametrize("sentence", [
    f"Read more in <{EVIL}|the Mistral guide> before you start.",
    f"Read more in <{EVIL}> before you start.",
    f"Read more in [the guide]({EVIL}) before you start.",
    f"Read more at {EVIL} before you start.",
    "Read more at www.evil.example/steal before you start.",
    "Read more at evil.example/steal?x=1 before you start.",
    f"Read more in <{SOURCE}|the guide> or at {EVIL}.",
    f"Read more in <{SOURCE}|{EVIL}> before you start.",
    f"Read more in [{EVIL}]({SOURCE}) before you start.",
    f"Read more in <{SOURCE}/../steal|the guide> before you start.",
    f"Read more at {SOURCE}?ref=evil before you start.",
    "Read more in <mailto:me@evil.example|the guide> before you start.",
    "Read more in <javascript:alert(1)|the guide> before you start.",
    "Read more at ftp://evil.example/x before you start.",
    "Read more in <evil.example/steal|the guide> before you start.",
    "Read more in <evil.example> before you start.",
])
def test_links_outside_the_sources_are_rejected(sentence):
    result = run(sentence)
    assert (result.ok, result.reason) == (False, "link_not_allowed"), result


@pytest.mark.parametrize("sentence", [
    f"Read more in <{SOURCE}|the Mistral guide> before you start.",
    f"Read more in <{SOURCE}> before you start.",
    f"Read more in [the Mistral guide]({SOURCE}) before you start.",
    f"Read the Mistral guide at {SOURCE}.",
    f"Read the Mistral guide ({SOURCE}) first.",
])
def test_links_to_a_source_url_are_allowed(sentence):
    result = run(sentence)
    assert result.ok, result


def test_without_known_urls_every_link_is_rejected():
    assert run(f"Read the Mistral guide at {SOURCE}.", allowed=()).reason == "link_not_allowed"
    assert run("The guide on fine-tuning says so too.", allowed=()).ok


def test_mentions_and_ordinary_text_are_not_links():
    assert links("Use gpt-4.1-mini, e.g. at 2.1M calls; i.e. 6k tokens, style/format.") == []
    assert links("Ask <@U123> in <#C1>, not <!channel>; <b>bold</b> is not a link.") == []
    assert [t for _, _, t in links(f"See <{SOURCE}|x> and {EVIL}.")] == [SOURCE, EVIL]


def test_source_urls_are_the_knowledges_own(knowledge):
    urls = source_urls(knowledge)
    assert SOURCE in urls and None not in urls
    assert urls == {s.url for s in knowledge.sources if s.url}


# --- through phrase(), against FakeAnthropic -----------------------------------------


@pytest.fixture
def settings(anthropic_api):
    configured = Settings(_env_file=None, anthropic_api_key="sk-ant-test-links-0123456789",
                          anthropic_base_url=anthropic_api.url, bot_llm_timeout_s=2.0)
    warm_up(configured)
    return configured


def with_sentence(sentence: str):
    def content(body):
        blocks = fa.faithful_content(body, budget_chars=500)
        cited = {**blocks[2], "text": f" {sentence}"}
        return [*blocks, cited]

    return fa.custom(content)


def fallbacks() -> float:
    return REGISTRY.get_sample_value("ptf_llm_fallbacks_total",
                                     {"reason": "link_not_allowed"}) or 0.0


@pytest.mark.parametrize("sentence", [
    f"Details are in <{EVIL}|the provider guide> for the team.",
    f"Details are in [the provider guide]({EVIL}) for the team.",
    f"Details are at {EVIL} for the team.",
])
def test_phrase_falls_back_on_a_foreign_link(anthropic_api, settings, knowledge, sentence):
    anthropic_api.script(with_sentence(sentence))
    before = fallbacks()
    got = phrase(scenario(knowledge, "open_weights_ready"), source_titles(knowledge),
                 settings, template_text="the template", source_urls=source_urls(knowledge))
    assert (got.source, got.text, got.fallback_reason) == ("template", "the template",
                                                           "link_not_allowed")
    assert fallbacks() == before + 1


def test_phrase_keeps_a_link_to_a_source(anthropic_api, settings, knowledge):
    anthropic_api.script(
        with_sentence(f"Details are in <{SOURCE}|the Mistral guide> for the team."))
    got = phrase(scenario(knowledge, "open_weights_ready"), source_titles(knowledge),
                 settings, template_text="the template", source_urls=source_urls(knowledge))
    assert got.source == "llm" and SOURCE in got.text
