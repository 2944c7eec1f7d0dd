"""Two `python -m bot serve` processes on one PostgreSQL, as two replicas behind a load
balancer: concurrent clicks on one consultation at both lose no answer, the DM summary
goes out once, and a replica restarted mid-consultation carries on."""

from __future__ import annotations

import threading

from bot.slack.blocks.ids import pack
from bot.store import Store
from tests.slack.test_serve_process import _env, _free_port, _start_serve, _stop, _wait_healthy
from tests.support.fake_slack import BOT_TOKEN
from tests.support.fixtures import SIGNING_SECRET
from tests.support.slack_requests import CHANNEL_ID, USER_ID, SlackSender, app_mention_event
from tests.support.surface import wait_until

ANSWERS = {"gap": "behaviour", "format_resisted": "yes", "smaller_model_wanted": "no",
           "latency_critical": "no", "task_type": "format", "general_capability_needed": "no",
           "prompt_engineering_tried": "yes", "has_eval_set": "yes", "spec_stable": "yes",
           "deadline": "this_quarter"}


def test_two_replicas_lose_no_answer_and_send_one_summary(fake_slack, postgres_url, tmp_path):
    def replica(name: str):
        port = _free_port()
        env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=postgres_url,
                   PORT=str(port), WEB_CONCURRENCY="1", WEB_THREADS="8", LOG_LEVEL="WARNING",
                   BOT_TODAY="2026-12-02", BOT_RECHECK_EVERY_HOURS="0")
        (tmp_path / name).mkdir(exist_ok=True)
        proc = _start_serve(env, tmp_path / name)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc)
        return proc, SlackSender(url, SIGNING_SECRET, fake=fake_slack)

    store = Store(postgres_url)
    procs = []
    try:
        a, sender_a = replica("a")
        procs.append(a)
        b, sender_b = replica("b")
        procs.append(b)
        event = app_mention_event("llama 3.1 8b, 6k token prompt, 20M calls a month, 8000 "
                                  "labelled examples")
        fake_slack.add_message(CHANNEL_ID, event["ts"], event["text"], user=USER_ID)
        assert sender_a.event(event).status == 200
        question = fake_slack.wait_for("chat.postMessage", timeout=20)
        root, ts = question.arg("thread_ts"), question.response["ts"]
        row = wait_until(lambda: next(iter(store.recent_for_user(USER_ID)), None),
                         what="the consultation stored")
        # replica A restarts mid-consultation; B and the new A share the clicks
        _stop(a)
        procs.remove(a)
        a, sender_a = replica("a2")
        procs.append(a)
        clicks = [(sender, f"ptf_answer_{i % 3}", pack(row.id, qid, value))
                  for i, (qid, value) in enumerate(ANSWERS.items())
                  for sender in (sender_a, sender_b)]
        barrier = threading.Barrier(len(clicks))
        statuses: list[int] = []

        def click(sender, action_id, value):
            barrier.wait()
            statuses.append(sender.block_action(action_id, value=value, message_ts=ts,
                                                thread_ts=root, channel_id=CHANNEL_ID,
                                                user_id=USER_ID).status)

        threads = [threading.Thread(target=click, args=c) for c in clicks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert statuses == [200] * len(clicks)
        typed = {k: {"yes": True, "no": False}.get(v, v) for k, v in ANSWERS.items()}
        final = wait_until(lambda: (r := store.get(row.id)) is not None
                           and r.status == "done" and r, timeout=30, what="the verdict")
        assert typed.items() <= final.answers.items()  # all 10 answers, from both replicas
        assert final.answers["prompt_tokens"] == 6000  # read before the restart, still there
        wait_until(lambda: [c for c in fake_slack.ok_calls("chat.postMessage")
                            if str(c.arg("channel")).startswith("D")], timeout=20,
                   what="the DM summary")
        fake_slack.quiet_for(1.0)
        dms = [c for c in fake_slack.ok_calls("chat.postMessage")
               if str(c.arg("channel")).startswith("D") and c.arg("blocks")]
        assert len(dms) == 1
    finally:
        for proc in procs:
            _stop(proc)
        store.dispose()
