"""The SOP checker of the training room: realistic hotline replies, element by element."""
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.scenarios.sop import CHECKS, ElementResult, check_reply, language_of

ROOT = Path(__file__).resolve().parents[2]

# (reply, {check: expected verdict}) — the checks run are the keys, in this order.
ZH_REPLIES = [
    ("您好，95598，工号1234，请问有什么可以帮您？",
     {"greeting": True, "employee_number": True, "courtesy": True, "no_forbidden": True}),
    # full-width digits and colon, no real courtesy word (您 alone is not enough)
    ("您好！国网客服中心，工号：１２３４，很高兴为您服务。",
     {"greeting": True, "employee_number": True, "courtesy": False, "no_forbidden": True}),
    ("早上好，8021号客服为您服务，请问您要办理什么业务？",
     {"greeting": True, "employee_number": True, "courtesy": True}),
    # half-width punctuation and spaces around the number
    ("下午好, 我的工号是 5566, 请问有什么可以帮您?",
     {"greeting": True, "employee_number": True, "courtesy": True, "no_forbidden": True}),
    # no greeting, no number; "申请" is not the courtesy word 请
    ("电费的事情要去营业厅申请。",
     {"greeting": False, "employee_number": False, "courtesy": False}),
    # greeting only at the end is not an opening greeting
    ("请问您是要查询电费吗？我这边帮您看一下，稍等片刻好吗，您好",
     {"greeting": False, "courtesy": True}),
    ("这个不归我们管，你自己去营业厅问吧。",
     {"no_forbidden": False, "courtesy": False}),
    ("这个我们不可以办理。", {"no_forbidden": False}),
    ("我不知道，你找别人吧。", {"no_forbidden": False}),
    ("我已经说过了，你怎么还不明白？", {"no_forbidden": False}),
    ("急什么，前面还有人排队呢。", {"no_forbidden": False}),
    # false positives: 不好意思 / 不客气 / 请不要靠近 / 有没有其他问题 / 不会 / 可不可以 / 不知道您
    ("不好意思让您久等了，请不要靠近掉落的电线，不客气。",
     {"no_forbidden": True, "courtesy": True}),
    ("您好，请问还有没有其他问题？不会让您久等的。",
     {"no_forbidden": True, "greeting": True, "close": False}),
    ("可不可以麻烦您提供一下户号？不知道您现在方便吗？",
     {"no_forbidden": True, "courtesy": True, "no_disclosure": True}),
    ("我非常理解您的心情，非常抱歉给您带来不便，我马上为您安排抢修人员，处理完后我会给您回电跟进。",
     {"angry_customer": True, "courtesy": True, "no_forbidden": True}),
    # apology before empathy: out of order
    ("非常抱歉，我理解您的心情，我马上为您安排抢修，稍后回电。", {"angry_customer": False}),
    # follow-up without a solution ("我会跟进" is not a solution)
    ("我理解您的心情，非常抱歉，我会跟进并回电给您。", {"angry_customer": False}),
    ("您的心情我能理解，真的很抱歉，我现在就为您加急处理。", {"angry_customer": False}),
    ("为了保护您的账户安全，请先提供户主姓名和身份证后四位进行核实。",
     {"verify_identity": True, "no_disclosure": True, "courtesy": True}),
    # disclosure before the verification request
    ("您的余额是52.30元，请提供户主姓名核实身份。",
     {"verify_identity": False, "no_disclosure": False}),
    # verification first, amount afterwards: verify_identity passes, no_disclosure does not
    ("请您先提供预留手机收到的验证码。核实无误后告诉您：目前欠费52.30元。",
     {"verify_identity": True, "no_disclosure": False}),
    ("您家欠费 ５２.３０ 元，手机13812345678。", {"no_disclosure": False}),
    ("您登记的地址是阳光路12号3单元501室，对吗？", {"no_disclosure": False}),
    # masked phone and our own employee number are not disclosures
    ("工号1234为您服务，您预留的手机138****5678，请问是本人吗？",
     {"no_disclosure": True, "employee_number": True}),
    ("请您立即远离断落的电线，不要触碰，并让周围人保持距离，抢修人员马上就到。",
     {"safety_first": True, "courtesy": True}),
    # safety instruction but no help dispatched
    ("请不要靠近那根电线，我们会记录下来。", {"safety_first": False}),
    # help dispatched but no safety instruction
    ("我已通知抢修人员，马上赶到现场。", {"safety_first": False}),
    ("请问还有其他可以帮您的吗？感谢您的来电，再见！", {"close": True, "courtesy": True}),
    ("好的，就这样，再见。", {"close": False}),
]

EN_REPLIES = [
    ("Hello, this is agent 1234 at City Power, how can I help you today?",
     {"greeting": True, "employee_number": True, "courtesy": False, "no_forbidden": True}),
    ("Good morning, thank you for calling, my employee number is 5678. How may I help?",
     {"greeting": True, "employee_number": True, "courtesy": True, "no_forbidden": True}),
    # full-width digits in an English reply
    ("GOOD AFTERNOON!  Agent number ４２４２ speaking — please go ahead.",
     {"greeting": True, "employee_number": True, "courtesy": True}),
    ("Hi there, ID 7731, thanks for holding.",
     {"greeting": True, "employee_number": True, "courtesy": True}),
    ("Thank you for calling Metro Telecom. Good evening, staff number 3021 here.",
     {"greeting": True, "employee_number": True, "courtesy": True}),
    # "this" must not count as "hi"; no number given
    ("This is the billing team. What do you need?",
     {"greeting": False, "employee_number": False, "courtesy": False}),
    ("Calm down, that's not my job.", {"no_forbidden": False, "courtesy": False}),
    ("I don't know, try someone else.", {"no_forbidden": False}),
    ("We can't do that, sorry.", {"no_forbidden": False, "courtesy": True}),
    ("There’s nothing I can do about it.", {"no_forbidden": False}),
    ("I already told you twice, the outage is not our department.", {"no_forbidden": False}),
    ("You should have paid on time, it's your fault.", {"no_forbidden": False}),
    ("That's impossible.", {"no_forbidden": False}),
    # false positives: "not your fault", "should have received", "I don't think"
    ("It's not your fault at all, please don't worry.", {"no_forbidden": True, "courtesy": True}),
    ("You should have received a text with the code; I don't think it expired yet.",
     {"no_forbidden": True}),
    ("I understand how frustrating this is. I'm so sorry. I'll send an engineer right away "
     "and I'll call you back by 5pm.",
     {"angry_customer": True, "courtesy": True, "no_forbidden": True}),
    # apology before empathy
    ("I'm sorry. I understand how frustrating this is. I'll send an engineer right away "
     "and I'll call you back.", {"angry_customer": False}),
    # no follow-up
    ("I can see how upsetting this is, and I apologise. Let me restore the line right away.",
     {"angry_customer": False}),
    # follow-up before solution
    ("I know how frustrating this must be, I apologize. I will follow up tomorrow, and "
     "right away I reset your router.", {"angry_customer": False}),
    ("For security, can you verify your date of birth and the last four digits of your ID?",
     {"verify_identity": True, "no_disclosure": True}),
    ("Your balance is $52.30. Can you verify your date of birth?",
     {"verify_identity": False, "no_disclosure": False}),
    ("Thanks. Your address is 12 Elm Street and your number is 555-123-4567.",
     {"verify_identity": False, "no_disclosure": False}),
    ("Before I look at the account, could you answer your security question?",
     {"verify_identity": True, "no_disclosure": True}),
    # our ticket reference and hotline are not account details
    ("Your reference number is 20240612001; call us on 400-820-8820 if it happens again.",
     {"no_disclosure": True}),
    ("You owe 120 dollars on the account ending in 4321.", {"no_disclosure": False}),
    ("Please stay away from the fallen line and keep people back; an engineer has been "
     "dispatched and is on the way.", {"safety_first": True, "courtesy": True}),
    ("Don't touch the meter, leave the area now. I've escalated this as an emergency.",
     {"safety_first": True}),
    ("Thanks for letting us know, we'll look into it next week.", {"safety_first": False}),
    ("Is there anything else I can help you with? Thank you for calling, goodbye!",
     {"close": True, "courtesy": True}),
    ("Okay, that's all sorted. Bye.", {"close": False}),
]

TABLE = ZH_REPLIES + EN_REPLIES


def test_the_table_is_big_enough_in_both_languages():
    assert len(ZH_REPLIES) >= 20 and len(EN_REPLIES) >= 20
    assert all(language_of(reply) == "zh" for reply, _ in ZH_REPLIES)
    assert all(language_of(reply) == "en" for reply, _ in EN_REPLIES)
    assert {code for _, expected in TABLE for code in expected} == set(CHECKS)


@pytest.mark.parametrize(("reply", "expected"), TABLE, ids=[f"r{i}" for i in range(len(TABLE))])
def test_reply_verdicts(reply, expected):
    results = check_reply(reply, list(expected))
    assert [r.code for r in results] == list(expected)
    verdicts = {r.code: r.passed for r in results}
    assert verdicts == expected, [(r.code, r.message % r.params) for r in results]


@pytest.mark.parametrize(("reply", "_expected"), TABLE, ids=[f"r{i}" for i in range(len(TABLE))])
def test_every_message_is_complete(reply, _expected):
    for result in check_reply(reply, CHECKS):
        assert isinstance(result, ElementResult)
        assert result.message.strip()
        placeholders = set(re.findall(r"%\((\w+)\)s", result.message))
        assert placeholders <= set(result.params)
        rendered = result.message % result.params
        assert "%(" not in rendered


def test_checks_are_the_documented_codes():
    assert CHECKS == ("greeting", "employee_number", "courtesy", "no_forbidden",
                      "angry_customer", "verify_identity", "no_disclosure", "safety_first",
                      "close")


def test_results_follow_the_requested_order():
    checks = ["close", "greeting", "no_forbidden", "greeting"]
    results = check_reply("您好，请问还有其他问题吗？谢谢。", checks)
    assert [r.code for r in results] == checks
    assert [r.passed for r in results] == [True, True, True, True]


def test_no_checks_no_results():
    assert check_reply("您好", []) == []


@pytest.mark.parametrize("checks", [["empathy"], ["greeting", "Greeting"], ["greeting", ""]])
def test_an_unknown_check_is_an_error(checks):
    with pytest.raises(ValueError, match="unknown SOP check"):
        check_reply("Hello", checks)


@pytest.mark.parametrize(("text", "language"), [
    ("您好，工号1234", "zh"),
    ("Hello, agent 1234 — 您好", "zh"),
    ("Hello, agent 1234", "en"),
    ("１２３４！？", "en"),
    ("，。", "en"),
    ("", "en"),
])
def test_language_of(text, language):
    assert language_of(text) == language


def test_a_forbidden_phrase_is_named():
    [result] = check_reply("这个业务我们办不了，你自己查吧。", ["no_forbidden"])
    assert not result.passed
    assert result.params == {"phrase": "办不了"}
    assert "办不了" in result.message % result.params
    [result] = check_reply("Calm down, sir.", ["no_forbidden"])
    assert result.params == {"phrase": "calm down"}


def test_a_disclosure_names_the_detail():
    [result] = check_reply("您家欠费52.30元。", ["no_disclosure"])
    assert not result.passed and result.params == {"detail": "欠费52.30元"}
    [result] = check_reply("Your balance is $52.30. Please verify your date of birth.",
                           ["verify_identity"])
    assert not result.passed and result.params == {"detail": "balance is $52.30"}


def test_angry_customer_says_what_is_missing_or_out_of_order():
    [missing] = check_reply("I understand. I'm sorry. I'll fix it right away.",
                            ["angry_customer"])
    [late] = check_reply("I understand. I'm sorry. I'll call you back, then I'll fix it.",
                         ["angry_customer"])
    [order] = check_reply("I'm sorry. I understand. I'll fix it and call you back.",
                          ["angry_customer"])
    assert not missing.passed and not late.passed and not order.passed
    assert missing.message.startswith("No follow-up")
    assert late.message.startswith("The follow-up must come after the solution")
    assert order.message.startswith("The apology must come after the empathy")


def test_a_passed_result_confirms_with_a_message():
    results = check_reply("Good morning, agent 1234, please hold.",
                          ["greeting", "employee_number", "courtesy"])
    assert all(r.passed and r.message.strip() and r.params == {} for r in results)


def test_results_are_frozen():
    [result] = check_reply("Hello", ["greeting"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False  # type: ignore[misc]


def test_importing_the_checker_does_not_load_jieba():
    code = "import sys, app.scenarios.sop; print('jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
