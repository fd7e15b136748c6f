"""Training in a real browser, in both languages: an agent fails a quiz, is pointed to the
lesson, retakes it and passes; a trainer imports a GIFT file through the upload."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.training.models import Question, QuizAttempt

pytestmark = pytest.mark.browser


def _latest_attempt(live_app, number: str) -> QuizAttempt:
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.employee_number == number))
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user.id)
                                    .order_by(QuizAttempt.id.desc()))
        db.session.expunge(attempt)
        return attempt


def _answer(page: Page, attempt: QuizAttempt, *, wrong: int = 0) -> None:
    """Fill the form as a person would: the right answers, the first `wrong` ones wrong."""
    for i, entry in enumerate(attempt.questions):
        body = entry["body"]
        qtype, name = body["qtype"], f"q{i}"
        bad = i < wrong
        if qtype in ("single", "multiple"):
            right = [k for k, c in enumerate(body["choices"]) if c["fraction"] > 0]
            if qtype == "single":
                right = [max(range(len(body["choices"])),
                             key=lambda k: body["choices"][k]["fraction"])]
            picks = [k for k in range(len(body["choices"])) if k not in right][:1] if bad \
                else right
            for k in picks:
                page.locator(f"input[name={name}][value='{entry['order'].index(k)}']").check()
        elif qtype == "truefalse":
            value = (not body["truth"]) if bad else body["truth"]
            page.locator(f"input[name={name}][value={'true' if value else 'false'}]").check()
        elif qtype == "short":
            page.locator(f"input[name={name}]").fill(
                "?" if bad else next(c["text"] for c in body["choices"] if c["fraction"] >= 1))
        elif qtype == "numerical":
            page.locator(f"input[name={name}]").fill(
                "-1" if bad else f"{body['numerics'][0]['value']:g}")
        elif qtype == "matching":
            prompts = [p for p in body["pairs"] if p["prompt"]]
            for k, pair in enumerate(prompts):
                page.locator(f"select[name={name}-{k}]").select_option(
                    label=pair["answer"] if not bad else "—")


@pytest.mark.parametrize("locale, agent", [("en", "2104"), ("zh_Hans", "2105")])
def test_an_agent_fails_a_quiz_retakes_it_and_passes(live_app, open_page, sign_in, locale,
                                                     agent):
    page = open_page(locale="en-US")
    sign_in(page, agent)
    page.get_by_test_id(f"lang-{locale}").click()
    page.goto("/training/")
    page.get_by_test_id("quiz-Q-FAQ").click()
    page.get_by_test_id("start-quiz").click()
    expect(page.locator("#attempt-form")).to_be_visible()
    first = _latest_attempt(live_app, agent)
    _answer(page, first, wrong=2)
    # the answers were saved as they were given, before anything was submitted
    expect(page.locator("fieldset.question[data-index='0']")).to_have_attribute(
        "data-saved", "yes")
    page.get_by_test_id("submit-quiz").click()
    result = page.get_by_test_id("attempt-result")
    expect(result).to_have_attribute("data-passed", "no")
    expect(page.get_by_test_id("remedial").get_by_role("link")).to_be_visible()
    page.get_by_test_id("back-to-quiz").click()
    page.get_by_test_id("start-quiz").click()
    second = _latest_attempt(live_app, agent)
    assert second.number == first.number + 1
    _answer(page, second)
    page.get_by_test_id("submit-quiz").click()
    expect(page.get_by_test_id("attempt-result")).to_have_attribute("data-passed", "yes")
    expect(page.get_by_test_id("attempt-result")).to_have_attribute("data-percent", "100.0")
    page.goto("/windmill/")
    expect(page.get_by_text("测验通过" if locale != "en" else "Quiz passed").first).to_be_visible()


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_a_trainer_imports_a_gift_file_through_the_upload(live_app, open_page, sign_in,
                                                          tmp_path, locale):
    category = f"browser/{locale}"
    broken = tmp_path / "broken.gift"
    broken.write_text("::BR-1:: 95598 是哪家的热线？{=国家电网 ~中国移动}\n\n"
                      "::BR-2:: 电话应在几声内接听？{#three}\n", encoding="utf-8")
    good = tmp_path / "good.gift"
    good.write_text(f"$CATEGORY: {category}\n"
                    "::BR-1:: 95598 是哪家的热线？{=国家电网#对 ~中国移动#不对}\n\n"
                    "::BR-2:: 电话应在几声内接听？{#3}\n\n"
                    "::BR-3:: 客户等待超过 3 分钟应致歉。{T}\n", encoding="utf-8")
    page = open_page(locale="en-US")
    sign_in(page, "8001")
    page.get_by_test_id(f"lang-{locale}").click()
    page.goto("/training/bank")
    page.locator("input[name=file]").set_input_files(str(broken))
    page.get_by_test_id("import-gift").click()
    expect(page.get_by_test_id("gift-errors")).to_contain_text("broken.gift line 3")
    page.locator("input[name=file]").set_input_files(str(good))
    page.get_by_test_id("import-gift").click()
    expect(page.get_by_test_id("categories")).to_contain_text(category)
    with live_app.app_context():
        names = set(db.session.scalars(select(Question.name).where(
            Question.category == category)))
    assert names == {"BR-1", "BR-2", "BR-3"}
