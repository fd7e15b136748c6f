"""The scenario file format (docs/scenario-format.md): parse a YAML file, validate all of it,
and hand back the document or every error with the place it is at. Nothing here touches the
database; `importers.py` turns a valid document into a stored version.

`python -m app.scenarios.formats FILE…` validates files from the shell.
"""
from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.i18n import N_
from app.scenarios import rules, sop

FORMAT = "pinwheel-scenario/1"
LANGS = ("zh", "en")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
NODE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MEDIA_KINDS = {"audio", "video"}
MAX_FILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class FormatError:
    where: str                 # e.g. "reverse_experience.nodes.r4.choices[1].next"
    message: str               # an English msgid, translated when shown
    params: dict = field(default_factory=dict)

    def english(self) -> str:
        return f"{self.where}: {self.message % self.params}" if self.where else \
            self.message % self.params


@dataclass
class Parsed:
    document: dict | None
    errors: list[FormatError]
    checksum: str

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FormatError] = []

    def error(self, where: str, message: str, **params) -> None:
        self.errors.append(FormatError(where, message, params))

    # --- shapes -------------------------------------------------------------------------

    def mapping(self, value, where: str, *, required: bool = True) -> dict | None:
        if value is None:
            if required:
                self.error(where, N_("This section is missing."))
            return None
        if not isinstance(value, dict):
            self.error(where, N_("Expected a mapping of keys and values."))
            return None
        return value

    def listing(self, value, where: str, *, required: bool = True, least: int = 1) -> list:
        if value is None:
            if required:
                self.error(where, N_("This list is missing."))
            return []
        if not isinstance(value, list):
            self.error(where, N_("Expected a list."))
            return []
        if len(value) < least:
            self.error(where, N_("The list needs at least %(n)s entries."), n=least)
        return value

    def text(self, value, where: str, *, required: bool = True) -> None:
        """A bilingual text: both zh and en, non-empty strings."""
        if value is None:
            if required:
                self.error(where, N_("This text is missing (it needs zh and en)."))
            return
        if not isinstance(value, dict):
            self.error(where, N_("Expected a text in both languages: {zh: …, en: …}."))
            return
        for lang in LANGS:
            part = value.get(lang)
            if not isinstance(part, str) or not part.strip():
                self.error(f"{where}.{lang}", N_("The %(lang)s translation is missing."),
                           lang=lang)
        for extra in sorted(set(value) - set(LANGS)):
            self.error(f"{where}.{extra}", N_("Unknown language %(lang)s: use zh and en."),
                       lang=str(extra))

    def whole(self, value, where: str, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(where, N_("Expected a whole number from %(low)s to %(high)s."),
                       low=low, high=high)

    def known_keys(self, mapping: dict, allowed: set[str], where: str) -> None:
        for key in sorted(set(mapping) - allowed, key=str):
            self.error(f"{where}.{key}" if where else str(key), N_("Unknown field %(field)s."),
                       field=str(key))


def parse(data: bytes | str, *, media_dir: Path | None = None) -> Parsed:
    """Parse and validate one scenario file. `media_dir`, when given, is where the media files
    the case names must exist."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    checksum = hashlib.sha256(raw).hexdigest()
    c = _Checker()
    if len(raw) > MAX_FILE_BYTES:
        c.error("", N_("The file is larger than %(kb)s KB."), kb=MAX_FILE_BYTES // 1024)
        return Parsed(None, c.errors, checksum)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        c.error("", N_("The file is not UTF-8 text."))
        return Parsed(None, c.errors, checksum)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = str(getattr(exc, "problem", None) or exc)
        c.error("", N_("The file is not valid YAML (line %(line)s): %(problem)s"),
                line=line, problem=problem)
        return Parsed(None, c.errors, checksum)
    if not isinstance(doc, dict):
        c.error("", N_("The file must be a YAML mapping (a scenario), not a list or text."))
        return Parsed(None, c.errors, checksum)
    _validate(doc, c, media_dir)
    return Parsed(None if c.errors else doc, c.errors, checksum)


def _validate(doc: dict, c: _Checker, media_dir: Path | None) -> None:
    c.known_keys(doc, {"format", "code", "version", "category", "title", "summary", "minutes",
                       "points", "case_analysis", "reverse_experience", "positive_practice"},
                 "")
    if doc.get("format") != FORMAT:
        c.error("format", N_("The format line must read: format: %(format)s"), format=FORMAT)
    code = doc.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        c.error("code", N_("The code must be 1–40 capital letters, digits, - or _ (e.g. S05)."))
    c.whole(doc.get("version"), "version", 1, 100000)
    if doc.get("category") not in rules.CATEGORIES:
        c.error("category", N_("Unknown category %(value)s; use one of: %(allowed)s."),
                value=str(doc.get("category")), allowed=", ".join(rules.CATEGORIES))
    c.text(doc.get("title"), "title")
    c.text(doc.get("summary"), "summary")
    if doc.get("minutes") is not None:
        c.whole(doc.get("minutes"), "minutes", 1, 600)
    points = c.mapping(doc.get("points"), "points", required=False)
    if points:
        c.known_keys(points, set(rules.DEFAULT_POINTS), "points")
        for key, value in points.items():
            if key in rules.DEFAULT_POINTS:
                c.whole(value, f"points.{key}", 1, 100)
    _case(c.mapping(doc.get("case_analysis"), "case_analysis"), c, media_dir)
    _play(c.mapping(doc.get("reverse_experience"), "reverse_experience"), c, stage=2)
    _play(c.mapping(doc.get("positive_practice"), "positive_practice"), c, stage=3)


def _case(case: dict | None, c: _Checker, media_dir: Path | None) -> None:
    if case is None:
        return
    w = "case_analysis"
    c.known_keys(case, {"incident", "transcript", "ticket", "timeline", "media", "error_key",
                        "pass_mark", "explanation", "correct_practice"}, w)
    for key in ("incident", "explanation", "correct_practice"):
        c.text(case.get(key), f"{w}.{key}")
    if case.get("pass_mark") is not None:
        c.whole(case.get("pass_mark"), f"{w}.pass_mark", 0, 100)
    lines: set[str] = set()
    agent_lines: set[str] = set()
    for i, line in enumerate(c.listing(case.get("transcript"), f"{w}.transcript", least=2)):
        where = f"{w}.transcript[{i}]"
        if c.mapping(line, where) is None:
            continue
        c.known_keys(line, {"id", "speaker", "at", "text"}, where)
        line_id = line.get("id")
        if not isinstance(line_id, str) or not NODE_ID_RE.match(line_id):
            c.error(f"{where}.id", N_("Every line needs an id of letters and digits (L1)."))
        elif line_id in lines:
            c.error(f"{where}.id", N_("The line id %(id)s is used twice."), id=line_id)
        else:
            lines.add(line_id)
            if line.get("speaker") == "agent":
                agent_lines.add(line_id)
        if line.get("speaker") not in rules.SPEAKERS:
            c.error(f"{where}.speaker", N_("Unknown speaker %(value)s; use one of: %(allowed)s."),
                    value=str(line.get("speaker")), allowed=", ".join(rules.SPEAKERS))
        if line.get("at") is not None and not isinstance(line.get("at"), str):
            c.error(f"{where}.at", N_("Write the time in quotes, e.g. \"00:42\"."))
        c.text(line.get("text"), f"{where}.text")
    for i, row in enumerate(c.listing(case.get("ticket"), f"{w}.ticket", required=False)):
        if c.mapping(row, f"{w}.ticket[{i}]") is not None:
            c.known_keys(row, {"label", "value"}, f"{w}.ticket[{i}]")
            c.text(row.get("label"), f"{w}.ticket[{i}].label")
            c.text(row.get("value"), f"{w}.ticket[{i}].value")
    for i, row in enumerate(c.listing(case.get("timeline"), f"{w}.timeline", required=False)):
        if c.mapping(row, f"{w}.timeline[{i}]") is not None:
            c.known_keys(row, {"at", "text"}, f"{w}.timeline[{i}]")
            if not isinstance(row.get("at"), str):
                c.error(f"{w}.timeline[{i}].at",
                        N_("Write the time in quotes, e.g. \"2026-04-12 09:14\"."))
            c.text(row.get("text"), f"{w}.timeline[{i}].text")
    for i, item in enumerate(c.listing(case.get("media"), f"{w}.media", required=False)):
        where = f"{w}.media[{i}]"
        if c.mapping(item, where) is None:
            continue
        if item.get("kind") not in MEDIA_KINDS:
            c.error(f"{where}.kind", N_("The media kind must be audio or video."))
        name = item.get("file")
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            c.error(f"{where}.file", N_("Name a file beside the scenario, without folders."))
        elif media_dir is not None and not (media_dir / name).is_file():
            c.error(f"{where}.file", N_("The media file %(file)s does not exist."), file=name)
        c.text(item.get("caption"), f"{where}.caption", required=False)
    seen_key: set[str] = set()
    for i, entry in enumerate(c.listing(case.get("error_key"), f"{w}.error_key")):
        where = f"{w}.error_key[{i}]"
        if c.mapping(entry, where) is None:
            continue
        c.known_keys(entry, {"line", "rules", "explanation"}, where)
        line_id = entry.get("line")
        if line_id not in lines:
            c.error(f"{where}.line", N_("The error key names line %(line)s, which the "
                                        "transcript does not have."), line=str(line_id))
        elif line_id not in agent_lines:
            c.error(f"{where}.line", N_("The error key names line %(line)s, which the agent "
                                        "does not speak: only the agent's lines are marked."),
                    line=line_id)
        elif line_id in seen_key:
            c.error(f"{where}.line", N_("Line %(line)s is in the error key twice."),
                    line=line_id)
        else:
            seen_key.add(line_id)
        named = c.listing(entry.get("rules"), f"{where}.rules")
        for rule in named:
            if rule not in rules.SOP_RULES:
                c.error(f"{where}.rules", N_("Unknown SOP rule %(value)s."), value=str(rule))
        c.text(entry.get("explanation"), f"{where}.explanation")


def _play(play: dict | None, c: _Checker, *, stage: int) -> None:
    """A role-play: nodes, choices, replies; every node reachable, every path ends."""
    if play is None:
        return
    w = rules.STAGE_KEYS[stage]
    texts = ("intro", "debrief") + (("reflection_prompt", "recording_brief") if stage == 2
                                    else ())
    c.known_keys(play, set(texts) | {"start", "nodes"} | ({"pass_mark"} if stage == 3
                                                          else set()), w)
    for key in texts:
        c.text(play.get(key), f"{w}.{key}")
    if stage == 3 and play.get("pass_mark") is not None:
        c.whole(play.get("pass_mark"), f"{w}.pass_mark", 0, 100)
    nodes = c.mapping(play.get("nodes"), f"{w}.nodes")
    if nodes is None:
        return
    if len(nodes) < rules.MIN_NODES:
        c.error(f"{w}.nodes", N_("A role-play needs at least %(n)s nodes; this one has "
                                 "%(count)s."), n=rules.MIN_NODES, count=len(nodes))
    start = play.get("start")
    if start not in nodes:
        c.error(f"{w}.start", N_("The start node %(node)s does not exist."), node=str(start))
    edges: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        where = f"{w}.nodes.{node_id}"
        if not isinstance(node_id, str) or not NODE_ID_RE.match(node_id):
            c.error(where, N_("A node id is letters, digits, - or _."))
        if c.mapping(node, where) is None:
            edges[str(node_id)] = []
            continue
        edges[str(node_id)] = _node(node, where, nodes, c, stage)
    if start in nodes:
        _reachability(start, edges, nodes, c, w)


def _node(node: dict, where: str, nodes: dict, c: _Checker, stage: int) -> list[str]:
    """Validate one node; return the nodes it leads to."""
    allowed = {"speaker", "text", "choices", "next", "end", "consequence", "severity"}
    if stage == 3:
        allowed |= {"reply"}
    c.known_keys(node, allowed, where)
    if node.get("speaker") not in rules.SPEAKERS:
        c.error(f"{where}.speaker", N_("Unknown speaker %(value)s; use one of: %(allowed)s."),
                value=str(node.get("speaker")), allowed=", ".join(rules.SPEAKERS))
    c.text(node.get("text"), f"{where}.text")
    c.text(node.get("consequence"), f"{where}.consequence", required=False)
    if node.get("severity") is not None:
        c.whole(node.get("severity"), f"{where}.severity", 1, 3)
    ways = [key for key in ("choices", "reply", "next") if node.get(key) is not None]
    if node.get("end") is True:
        ways.append("end")
    elif node.get("end") not in (None, False):
        c.error(f"{where}.end", N_("Write end: true for an ending."))
    if not ways:
        c.error(where, N_("This node is a dead end: give it choices, a reply, next, or mark "
                          "it end: true."))
        return []
    if len(ways) > 1:
        c.error(where, N_("A node has one way on; this one has %(ways)s."),
                ways=", ".join(ways))
    targets: list[str] = []

    def target(value, at: str) -> None:
        if value not in nodes:
            c.error(at, N_("This points to node %(node)s, which does not exist."),
                    node=str(value))
        else:
            targets.append(value)

    if node.get("next") is not None:
        target(node.get("next"), f"{where}.next")
    choices = c.listing(node.get("choices"), f"{where}.choices", required=False)
    correct = 0
    for i, choice in enumerate(choices):
        at = f"{where}.choices[{i}]"
        if c.mapping(choice, at) is None:
            continue
        c.known_keys(choice, {"text", "next", "consequence", "correct", "feedback"}, at)
        c.text(choice.get("text"), f"{at}.text")
        c.text(choice.get("consequence"), f"{at}.consequence", required=False)
        if stage == 2:
            if choice.get("next") is None:
                c.error(f"{at}.next", N_("Every choice in the reverse experience needs next."))
            else:
                target(choice.get("next"), f"{at}.next")
        elif choice.get("correct") is True:
            correct += 1
            if choice.get("next") is None:
                c.error(f"{at}.next", N_("The correct choice needs next."))
            else:
                target(choice.get("next"), f"{at}.next")
        else:
            if choice.get("next") is not None:
                c.error(f"{at}.next", N_("Only the correct choice moves forward: a wrong "
                                         "choice has feedback and no next."))
            c.text(choice.get("feedback"), f"{at}.feedback")
    if stage == 3 and choices and correct == 0:
        c.error(f"{where}.choices", N_("No choice is marked correct: true."))
    reply = node.get("reply")
    if reply is not None and c.mapping(reply, f"{where}.reply") is not None:
        at = f"{where}.reply"
        c.known_keys(reply, {"prompt", "checks", "model", "next"}, at)
        c.text(reply.get("prompt"), f"{at}.prompt")
        c.text(reply.get("model"), f"{at}.model")
        checks = c.listing(reply.get("checks"), f"{at}.checks")
        known = _sop_checks()
        bad = [str(x) for x in checks if x not in known]
        for name in bad:
            c.error(f"{at}.checks", N_("Unknown SOP check %(value)s; use one of: %(allowed)s."),
                    value=name, allowed=", ".join(known))
        if not bad and checks and isinstance(reply.get("model"), dict):
            _model_passes(reply["model"], checks, at, c)
        if reply.get("next") is None:
            c.error(f"{at}.next", N_("A typed reply needs next."))
        else:
            target(reply.get("next"), f"{at}.next")
    return targets


def _sop_checks() -> tuple[str, ...]:
    return sop.CHECKS


def _model_passes(model: dict, checks: list[str], where: str, c: _Checker) -> None:
    """A model answer must pass the checks it models."""
    for lang in LANGS:
        answer = model.get(lang)
        if not isinstance(answer, str) or not answer.strip():
            continue
        for result in sop.check_reply(answer, checks):
            if not result.passed:
                c.error(f"{where}.model.{lang}", N_("The model answer fails its own check "
                                                    "%(check)s."), check=result.code)


def _reachability(start: str, edges: dict[str, list[str]], nodes: dict, c: _Checker,
                  w: str) -> None:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for node_id in nodes:
        if node_id not in seen:
            c.error(f"{w}.nodes.{node_id}", N_("Node %(node)s cannot be reached from the "
                                               "start."), node=str(node_id))
    # every reachable node must be able to reach an ending (no loops without a way out)
    endings = {n for n, node in nodes.items() if isinstance(node, dict) and
               node.get("end") is True}
    reverse: dict[str, set[str]] = {}
    for src, targets in edges.items():
        for dst in targets:
            reverse.setdefault(dst, set()).add(src)
    can_end = set(endings)
    todo = list(endings)
    while todo:
        for prev in reverse.get(todo.pop(), ()):
            if prev not in can_end:
                can_end.add(prev)
                todo.append(prev)
    if not endings:
        c.error(f"{w}.nodes", N_("The role-play has no ending (a node with end: true)."))
        return
    for node_id in sorted(seen - can_end):
        if edges.get(node_id):
            c.error(f"{w}.nodes.{node_id}", N_("From node %(node)s no path leads to an "
                                               "ending."), node=node_id)


def node_count(document: dict, stage: int) -> int:
    return len(document[rules.STAGE_KEYS[stage]]["nodes"])


def main(argv: list[str]) -> int:
    status = 0
    for name in argv:
        path = Path(name)
        parsed = parse(path.read_bytes(), media_dir=path.parent)
        if parsed.ok:
            doc = parsed.document
            print(f"{name}: ok — {doc['code']} v{doc['version']}, "
                  f"{node_count(doc, 2)} + {node_count(doc, 3)} nodes")
        else:
            status = 1
            for error in parsed.errors:
                print(f"{name}: {error.english()}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
