"""The scenario format: every shipped file validates; each broken file gives its own error
and stores nothing; re-importing changes nothing; a changed file needs a higher version."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app.scenarios import formats, importers
from app.scenarios.models import Scenario, ScenarioVersion

LIBRARY = importers.shipped_library()
SHIPPED = sorted(LIBRARY.glob("*.yaml"))
BASE = yaml.safe_load((LIBRARY / "S05-unverified-disclosure.yaml").read_text("utf-8"))


def test_ten_scenarios_are_shipped_one_per_incident():
    codes = sorted(yaml.safe_load(p.read_text("utf-8"))["code"] for p in SHIPPED)
    assert codes == [f"S{n:02d}" for n in range(1, 11)]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path: Path):
    parsed = formats.parse(path.read_bytes(), media_dir=path.parent)
    assert parsed.errors == [] and parsed.ok
    doc = parsed.document
    for stage in (2, 3):
        assert formats.node_count(doc, stage) >= 8
    replies = [n for n in doc["positive_practice"]["nodes"].values() if n.get("reply")]
    assert len(replies) >= 3
    assert len(doc["case_analysis"]["error_key"]) >= 3


def _broken(mutate) -> bytes:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")


def _node(doc, stage, node_id):
    return doc[stage]["nodes"][node_id]


def _first_choice_node(doc, stage):
    return next(k for k, n in doc[stage]["nodes"].items() if n.get("choices"))


def _unreachable(doc):
    doc["reverse_experience"]["nodes"]["orphan"] = {
        "speaker": "narrator", "text": {"zh": "无人到达", "en": "Nobody gets here"}, "end": True}


def _dead_end(doc):
    node = _node(doc, "reverse_experience", doc["reverse_experience"]["start"])
    node.pop("choices", None), node.pop("next", None), node.pop("end", None)


def _points_nowhere(doc):
    node_id = _first_choice_node(doc, "reverse_experience")
    _node(doc, "reverse_experience", node_id)["choices"][0]["next"] = "r404"


def _missing_translation(doc):
    doc["case_analysis"]["correct_practice"].pop("en")


def _key_names_missing_line(doc):
    doc["case_analysis"]["error_key"][0]["line"] = "L999"


def _key_names_customer_line(doc):
    customer = next(line["id"] for line in doc["case_analysis"]["transcript"]
                    if line["speaker"] == "customer")
    doc["case_analysis"]["error_key"][0]["line"] = customer


def _wrong_choice_moves_on(doc):
    node_id = _first_choice_node(doc, "positive_practice")
    choices = _node(doc, "positive_practice", node_id)["choices"]
    wrong = next(c for c in choices if not c.get("correct"))
    wrong["next"] = doc["positive_practice"]["start"]


def _no_correct_choice(doc):
    node_id = _first_choice_node(doc, "positive_practice")
    for choice in _node(doc, "positive_practice", node_id)["choices"]:
        if choice.get("correct"):
            choice["correct"] = False
            choice.pop("next", None)
            choice["feedback"] = {"zh": "不对", "en": "No"}


def _unknown_check(doc):
    node = next(n for n in doc["positive_practice"]["nodes"].values() if n.get("reply"))
    node["reply"]["checks"] = ["greeting", "telepathy"]


def _model_fails_its_check(doc):
    node = next(n for n in doc["positive_practice"]["nodes"].values() if n.get("reply"))
    node["reply"]["checks"] = ["close"]
    node["reply"]["model"]["en"] = "Hello."


def _too_few_nodes(doc):
    nodes = doc["reverse_experience"]["nodes"]
    start = doc["reverse_experience"]["start"]
    doc["reverse_experience"]["nodes"] = {start: {**nodes[start], "choices": None,
                                                  "end": True}}
    doc["reverse_experience"]["nodes"][start].pop("choices")


def _unknown_rule(doc):
    doc["case_analysis"]["error_key"][0]["rules"] = ["be_nice"]


def _unknown_category(doc):
    doc["category"] = "weather"


def _two_ways_on(doc):
    node_id = _first_choice_node(doc, "reverse_experience")
    _node(doc, "reverse_experience", node_id)["end"] = True


BROKEN = {
    "unreachable node": (_unreachable, "reverse_experience.nodes.orphan",
                         "cannot be reached from the start"),
    "dead end": (_dead_end, "reverse_experience.nodes.", "is a dead end"),
    "choice pointing nowhere": (_points_nowhere, ".next", "r404, which does not exist"),
    "missing translation": (_missing_translation, "case_analysis.correct_practice.en",
                            "translation is missing"),
    "error key names a missing line": (_key_names_missing_line, "case_analysis.error_key[0]"
                                       ".line", "L999, which the transcript does not have"),
    "error key names a customer's line": (_key_names_customer_line,
                                          "case_analysis.error_key[0].line",
                                          "which the agent does not speak"),
    "a wrong choice moves on": (_wrong_choice_moves_on, ".next", "Only the correct choice"),
    "no correct choice": (_no_correct_choice, ".choices", "No choice is marked correct"),
    "unknown SOP check": (_unknown_check, ".reply.checks", "Unknown SOP check telepathy"),
    "model answer fails": (_model_fails_its_check, ".reply.model.en", "fails its own check"),
    "too few nodes": (_too_few_nodes, "reverse_experience.nodes", "at least 8 nodes"),
    "unknown rule": (_unknown_rule, "case_analysis.error_key[0].rules", "Unknown SOP rule"),
    "unknown category": (_unknown_category, "category", "Unknown category weather"),
    "two ways on": (_two_ways_on, "reverse_experience.nodes.", "one way on"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_gives_its_error_and_stores_nothing(db, case):
    mutate, where, message = BROKEN[case]
    data = _broken(mutate)
    plan = importers.plan_import([("broken.yaml", data)])
    found = [(e.where, e.message % e.params) for _, e in plan.errors]
    assert any(where in w and message in m for w, m in found), found
    with pytest.raises(ValueError):
        importers.apply_import(plan, actor_id=None, now=None)
    assert db.session.scalar(select(func.count(Scenario.id))) == 0


@pytest.mark.parametrize("data, message", [
    (b"code: [unclosed", "not valid YAML (line"),
    (b"- a list\n- not a scenario\n", "must be a YAML mapping"),
    ("\ufeffformat: x".encode("gb18030") + "标题".encode("gb18030"), "not UTF-8"),
    (b"format: pinwheel-scenario/1\n", "This section is missing"),
])
def test_files_that_are_not_scenarios_are_refused(db, data, message):
    plan = importers.plan_import([("bad.yaml", data)])
    assert any(message in e.message % e.params for _, e in plan.errors), plan.errors


def test_one_bad_file_in_a_batch_stores_none_of_them(db):
    good = (LIBRARY / "S01-fallen-power-line.yaml").read_bytes()
    plan = importers.plan_import([("S01.yaml", good), ("bad.yaml", _broken(_unknown_rule))])
    assert plan.errors and plan.count("new") == 1
    with pytest.raises(ValueError):
        importers.apply_import(plan, actor_id=None, now=None)
    assert db.session.scalar(select(func.count(Scenario.id))) == 0


def test_the_same_code_twice_in_one_import_is_an_error(db):
    good = (LIBRARY / "S01-fallen-power-line.yaml").read_bytes()
    plan = importers.plan_import([("a.yaml", good), ("b.yaml", good)])
    assert [e.where for _, e in plan.errors] == ["code"]


def test_reimporting_adds_nothing_and_changes_need_a_version(db, now):
    data = (LIBRARY / "S05-unverified-disclosure.yaml").read_bytes()
    first = importers.apply_import(importers.plan_import([("S05.yaml", data)]), actor_id=None,
                                   now=now)
    again = importers.plan_import([("S05.yaml", data)])
    assert first["new"] == 1 and again.count("unchanged") == 1 and not again.errors
    importers.apply_import(again, actor_id=None, now=now)
    assert db.session.scalar(select(func.count(ScenarioVersion.id))) == 1

    changed = _broken(lambda d: d["title"].update(en="Disclosed, again"))
    refused = importers.plan_import([("S05.yaml", changed)])
    assert [e.where for _, e in refused.errors] == ["version"]
    assert "raise the version to 2" in refused.errors[0][1].message % refused.errors[0][1].params
    bumped = _broken(lambda d: (d["title"].update(en="Disclosed, again"), d.update(version=2)))
    plan = importers.plan_import([("S05.yaml", bumped)])
    assert plan.count("new_version") == 1
    importers.apply_import(plan, actor_id=None, now=now)
    scenario = db.session.scalar(select(Scenario))
    assert scenario.current_version == 2 and len(scenario.versions) == 2


def test_the_cli_imports_the_library_once(runner, db):
    first = runner.invoke(args=["scenarios", "import", str(LIBRARY)])
    assert first.exit_code == 0, first.output
    assert "10 new, 0 new versions, 0 unchanged" in first.output
    second = runner.invoke(args=["scenarios", "import", str(LIBRARY)])
    assert "0 new, 0 new versions, 10 unchanged" in second.output
    exported = runner.invoke(args=["scenarios", "export", "S03"])
    assert exported.exit_code == 0 and "code: S03" in exported.output


def test_the_cli_refuses_a_broken_file_and_says_where(runner, db, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_bytes(_broken(_points_nowhere))
    result = runner.invoke(args=["scenarios", "import", str(path)])
    assert result.exit_code == 1
    assert "r404, which does not exist" in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(select(func.count(Scenario.id))) == 0
