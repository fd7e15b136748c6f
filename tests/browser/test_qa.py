"""An analyst uploads a QA export, sees the preview and confirms; an agent disputes an
evaluation; the team lead resolves it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_upload_preview_confirm_dispute_resolve(open_page, sign_in, sign_out, tmp_path):
    stamp = (datetime.now() - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    export = tmp_path / "qa-browser.csv"
    export.write_text(
        "质检编号,工号,质检日期,评分表,得分,致命项,渠道,质检员,备注\n"
        f"B-QA-1,1106,{stamp},chat-standard,82,否,chat,质检员 周敏,结束语不规范\n"
        f"B-QA-2,1107,{stamp},chat-standard,97,否,chat,质检员 周敏,\n",
        encoding="utf-8-sig")
    page = open_page(locale="en-US")
    sign_in(page, "7002")
    page.get_by_test_id("lang-en").click()
    page.goto("/qa/imports/new")
    page.get_by_label("Export file").set_input_files(str(export))
    page.get_by_label("Source (the call-review tool)").fill("browser-test")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("preview-rows")).to_have_text("2")
    expect(page.get_by_test_id("preview-new")).to_have_text("2")
    expect(page.get_by_test_id("preview-errors")).to_have_text("0")
    page.get_by_test_id("qa-confirm").get_by_role("button").first.click()
    expect(page.get_by_text("Imported: 2 new and 0 corrected evaluations.")).to_be_visible()
    expect(page.get_by_test_id("evaluations")).to_contain_text("B-QA-1")
    sign_out(page)

    sign_in(page, "1106")
    page.goto("/qa/mine")
    # 1106 may have chosen Chinese in another test: this one reads the English labels
    page.get_by_test_id("lang-en").click()
    page.get_by_role("link", name="B-QA-1").click()
    page.get_by_label("Why the evaluation is wrong").fill(
        "I closed the chat properly; the customer left first.")
    page.get_by_role("button", name="Send the dispute").click()
    expect(page.get_by_test_id("evaluation-status")).to_have_text("Disputed")
    sign_out(page)

    sign_in(page, "1100")
    page.get_by_test_id("lang-en").click()
    page.goto("/qa/disputes")
    page.get_by_test_id("open-disputes").get_by_role("link", name="B-QA-1").click()
    page.get_by_label("Amend the score").check()
    page.get_by_label("Amended score (0–100)").fill("91")
    page.get_by_label("Explanation for the agent").fill("The transcript shows a proper close.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("The dispute is resolved and the agent was told.")).to_be_visible()
    page.goto("/qa/disputes")
    expect(page.get_by_text(re.compile(r"82 → 91"))).to_be_visible()
