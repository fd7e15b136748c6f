"""The whole training-room journey in a real browser, in both languages: an apprentice does
the three stages of a scenario, the mentor sends the practice back once, then signs it off;
the apprentice's windmill shows the points."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import User
from app.auth.queries import mentors_of
from app.extensions import db
from app.scenarios import queries
from tests.scenarios.conftest import MP4

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"sent_back": "Sent back with your feedback.", "signed": "Signed off.",
           "send_back": "Send back: practise again",
           "sign_off": "Sign off: the practice meets the standard",
           "stage_points": "Scenario stage completed", "sign_off_points":
           "Practice signed off by the mentor", "completed": "Completed"},
    "zh_Hans": {"sent_back": "已退回，并附上您的反馈。", "signed": "已签核通过。",
                "send_back": None, "sign_off": None,
                "stage_points": "场景实训阶段完成", "sign_off_points": "实训获师傅签核",
                "completed": None},
}


def _people(live_app, number: str) -> tuple[str, dict]:
    with live_app.app_context():
        user = db.session.scalar(db.select(User).where(User.employee_number == number))
        mentor = mentors_of([user.id])[user.id]
        doc = queries.get_scenario("S10").versions[-1].content
        return mentor.employee_number, doc


def _language(page: Page, locale: str) -> None:
    page.get_by_test_id(f"lang-{locale}").click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if locale == "en" else
                                                   re.compile("zh"))


def _practise(page: Page, doc: dict, lang: str) -> None:
    play = doc["positive_practice"]
    for _ in range(60):
        if page.get_by_test_id("practice-result").count():
            return
        if page.get_by_test_id("reply-form").count():
            prompt = page.get_by_test_id("reply-form").inner_text()
            node = next(n for n in play["nodes"].values()
                        if n.get("reply") and n["reply"]["prompt"][lang].strip()[:20] in prompt)
            page.locator("textarea[name=reply]").fill(node["reply"]["model"][lang])
            page.get_by_test_id("send-reply").click()
            expect(page.get_by_test_id("sop-result")).to_be_visible()
        elif page.get_by_test_id("practice-choices").get_by_test_id("continue").count():
            page.get_by_test_id("continue").click()
        else:
            current = page.locator("#current").inner_text()
            node = next(n for n in play["nodes"].values()
                        if n.get("choices") and n["text"][lang].strip()[:20] in current)
            right = next(i for i, c in enumerate(node["choices"]) if c.get("correct"))
            page.get_by_test_id(f"choice-{right}").click()
    raise AssertionError("the practice did not end")


@pytest.mark.parametrize("locale, agent", [("en", "1112"), ("zh_Hans", "1111")])
def test_an_apprentice_completes_a_scenario_and_the_mentor_signs_it_off(
        live_app, open_page, sign_in, sign_out, tmp_path, locale, agent):
    lang = "en" if locale == "en" else "zh"
    text = TEXT[locale]
    mentor, doc = _people(live_app, agent)
    recording = tmp_path / "re-enactment.mp4"
    recording.write_bytes(MP4)

    page = open_page(locale="en-US")
    sign_in(page, agent)
    _language(page, locale)
    page.goto("/scenarios/")
    page.get_by_test_id("scenario-S10").get_by_role("link").click()
    page.get_by_test_id("start").click()

    # stage 1: mark every line of the key with its rule
    for entry in doc["case_analysis"]["error_key"]:
        page.get_by_test_id(f"mark-{entry['line']}").check()
        page.get_by_test_id(f"rule-{entry['line']}").select_option(entry["rules"][0])
    page.get_by_test_id("submit-case").click()
    expect(page.get_by_test_id("case-result")).to_contain_text("100")
    expect(page.get_by_test_id("case-correct")).to_be_visible()
    page.get_by_test_id("to-reverse").click()

    # stage 2: the wrong path to its end, then the recording and the reflection
    for _ in range(40):
        if page.get_by_test_id("recording-form").count():
            break
        choices = page.get_by_test_id("reverse-choices")
        (choices.get_by_test_id("choice-0") if choices.get_by_test_id("choice-0").count()
         else choices.get_by_test_id("continue")).click()
    expect(page.get_by_test_id("reverse-debrief")).to_be_visible()
    page.locator("input[name=recording]").set_input_files(str(recording))
    page.locator("textarea[name=reflection]").fill(
        "不回电、不跟进，客户只能一级级投诉。以后承诺之前先在系统里预约回访。" if lang == "zh"
        else "Promising without booking the call-back left the customer no way but up.")
    page.get_by_test_id("upload-recording").click()

    # stage 3: only the correct behaviour moves forward
    expect(page).to_have_url(re.compile(r"/practice"))
    _practise(page, doc, lang)
    expect(page.get_by_test_id("awaiting")).to_be_visible()
    sign_out(page)

    # the mentor sends it back once (each person in a fresh browser: the sign-in page of a
    # signed-out Chinese session stays in Chinese)
    page = open_page(locale="en-US")
    sign_in(page, mentor)
    _language(page, locale)
    page.goto("/scenarios/sign-offs")
    queue = page.get_by_test_id("sign-off-queue")
    expect(queue).to_contain_text(agent)
    queue.get_by_role("row").filter(has_text=agent).filter(has_text="S10") \
        .get_by_role("link").click()
    page.locator("textarea[name=comment]").fill(
        "道歉之前先表达理解。" if lang == "zh" else "Empathise before you apologise.")
    page.locator("input[name=decision][value=sent_back]").check()
    page.get_by_test_id("decide").click()
    expect(page.get_by_text(text["sent_back"])).to_be_visible()
    sign_out(page)

    # the apprentice reads the feedback and practises again
    page = open_page(locale="en-US")
    sign_in(page, agent)
    page.goto("/scenarios/S10")
    page.get_by_test_id("resume").click()
    expect(page.get_by_test_id("sent-back")).to_be_visible()
    _practise(page, doc, lang)
    expect(page.get_by_test_id("awaiting")).to_be_visible()
    sign_out(page)

    # the mentor signs it off
    page = open_page(locale="en-US")
    sign_in(page, mentor)
    page.goto("/scenarios/sign-offs")
    page.get_by_test_id("sign-off-queue").get_by_role("row").filter(has_text=agent) \
        .filter(has_text="S10").get_by_role("link").click()
    page.locator("input[name=decision][value=signed_off]").check()
    page.get_by_test_id("decide").click()
    expect(page.get_by_text(text["signed"])).to_be_visible()
    sign_out(page)

    # the apprentice sees the scenario complete and the points on the windmill
    page = open_page(locale="en-US")
    sign_in(page, agent)
    page.goto("/scenarios/S10")
    expect(page.get_by_test_id("stage-bar").locator("li.done")).to_have_count(4)
    page.goto("/windmill/")
    expect(page.get_by_text(text["sign_off_points"]).first).to_be_visible()
    expect(page.get_by_text(text["stage_points"]).first).to_be_visible()
