"""Training fixtures: a small bank, quizzes and a path built through the importers."""
from __future__ import annotations

import pytest

from app.incentives.services import install_defaults
from app.training import importers

BANK = """$CATEGORY: t/basics
::B-1:: 95598 是哪家的服务热线？{=国家电网#对 ~中国移动#不对
~中国电信#不对####95598 是国家电网客服热线。}

::B-2:: 电话应在几声铃响内接听？{#3}

::B-3:: 服务禁语包括哪些？{~%50%不可以 ~%50%没办法 ~%-100%请稍等}

::B-4:: 客户情绪激动时应先保持冷静。{T}

::B-5:: 把步骤和顺序对应起来。{=倾听 -> 第一步 =共情 -> 第二步 =道歉 -> 第三步}

$CATEGORY: t/essay
::E-1:: 请写出您对愤怒客户的开场白。{}
"""


@pytest.fixture()
def bank(db, now):
    install_defaults(now=now)
    plan = importers.plan_gift(BANK, "bank.gift")
    assert not plan.errors, plan.errors
    importers.apply_gift(plan, filename="bank.gift", actor_id=None, now=now)
    importers.save_quiz({"code": "QB", "title": {"zh": "基础测验", "en": "Basics"},
                         "draws": [{"category": "t/basics", "count": 5}], "shuffle": False,
                         "attempts": 3, "pass_mark": 90, "remedial": "L-B"}, now=now)
    importers.save_quiz({"code": "QT", "title": {"zh": "限时", "en": "Timed"},
                         "questions": ["B-1", "B-2"], "time_limit_minutes": 5, "shuffle": True},
                        now=now)
    importers.save_quiz({"code": "QE", "title": {"zh": "问答", "en": "Essay"},
                         "questions": ["B-1", "E-1"], "shuffle": False}, now=now)
    importers.save_lesson({"code": "L-B", "lang": "zh", "title": "基础", "quiz": "QB",
                           "markdown": "# 基础\n\n- 一\n- 二\n\n<script>alert(1)</script>"},
                          now=now)
    db.session.commit()


# the right answers of QB's questions, in the bank's order (shuffle is off)
RIGHT = {"B-1": 0, "B-2": "3", "B-3": [0, 1], "B-4": True,
         "B-5": {"倾听": "第一步", "共情": "第二步", "道歉": "第三步"}}
