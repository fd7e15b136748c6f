"""Scenario files in and out: validate a batch of files → a plan (new, new version,
unchanged, errors) → apply it whole. A batch with any error stores nothing."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.audit.services import record_audit
from app.database import db
from app.i18n import N_
from app.scenarios import formats
from app.scenarios.models import Scenario, ScenarioVersion


@dataclass
class PlannedFile:
    filename: str
    action: str                      # "new", "new_version", "unchanged"
    document: dict | None = None
    source: str = ""
    checksum: str = ""
    media_dir: Path | None = None


@dataclass
class ImportPlan:
    files: list[PlannedFile] = field(default_factory=list)
    errors: list[tuple[str, formats.FormatError]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for f in self.files if f.action == action)


def plan_import(files: list[tuple[str, bytes]], *, media_dir: Path | None = None,
                allow_media: bool = True) -> ImportPlan:
    """Validate every file and decide what each one would do. `media_dir` is the folder the
    files came from (media is copied from there); an upload has none, so a file naming media
    is refused there."""
    plan = ImportPlan()
    codes: dict[str, str] = {}
    for filename, data in files:
        parsed = formats.parse(data, media_dir=media_dir)
        for error in parsed.errors:
            plan.errors.append((filename, error))
        if not parsed.ok:
            continue
        doc = parsed.document
        code, version = doc["code"], doc["version"]
        if doc["case_analysis"].get("media") and not allow_media:
            plan.errors.append((filename, formats.FormatError(
                "case_analysis.media", N_("Scenarios with media files are imported with "
                                          "flask scenarios import FOLDER."))))
            continue
        if code in codes:
            plan.errors.append((filename, formats.FormatError(
                "code", N_("The code %(code)s is also used by %(other)s in this import."),
                {"code": code, "other": codes[code]})))
            continue
        codes[code] = filename
        scenario = db.session.scalar(select(Scenario).where(Scenario.code == code))
        same = None if scenario is None else db.session.scalar(
            select(ScenarioVersion).where(ScenarioVersion.scenario_id == scenario.id,
                                          ScenarioVersion.checksum == parsed.checksum))
        if same is not None:
            action = "unchanged"
        elif scenario is None:
            action = "new"
        elif version <= scenario.current_version:
            plan.errors.append((filename, formats.FormatError(
                "version", N_("Version %(version)s of %(code)s is already imported with other "
                              "content; raise the version to %(next)s."),
                {"version": version, "code": code, "next": scenario.current_version + 1})))
            continue
        else:
            action = "new_version"
        plan.files.append(PlannedFile(filename, action, doc, data.decode("utf-8-sig"),
                                      parsed.checksum, media_dir))
    return plan


def media_root() -> Path:
    return Path(current_app.config["SCENARIO_MEDIA_DIR"])


def apply_import(plan: ImportPlan, *, actor_id: int | None, now: datetime) -> dict:
    """Store a plan without errors; return the counts. The caller commits."""
    if plan.errors:
        raise ValueError("a plan with errors is never applied")
    counts = {"new": 0, "new_version": 0, "unchanged": 0}
    for item in plan.files:
        counts[item.action] += 1
        if item.action == "unchanged":
            continue
        doc = item.document
        scenario = db.session.scalar(select(Scenario).where(Scenario.code == doc["code"]))
        if scenario is None:
            scenario = Scenario(code=doc["code"], category=doc["category"],
                                current_version=doc["version"], is_active=True, created_at=now)
            db.session.add(scenario)
            db.session.flush()
        scenario.category = doc["category"]
        scenario.current_version = doc["version"]
        db.session.add(ScenarioVersion(
            scenario_id=scenario.id, version=doc["version"], title_en=doc["title"]["en"][:200],
            title_zh=doc["title"]["zh"][:200], content=doc, source=item.source,
            checksum=item.checksum, filename=item.filename[:200], imported_at=now,
            imported_by_id=actor_id))
        for media in doc["case_analysis"].get("media") or []:
            target = media_root() / doc["code"] / str(doc["version"])
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.media_dir / media["file"], target / media["file"])
        record_audit("scenario.imported", actor_id=actor_id, now=now,
                     target_type="scenario", target_id=scenario.id,
                     details={"code": doc["code"], "version": doc["version"],
                              "file": item.filename})
    db.session.flush()
    return counts


def files_in(path: Path) -> list[tuple[str, bytes]]:
    """The scenario files at a path: the file itself, or the *.yaml / *.yml of a folder."""
    if path.is_dir():
        names = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        return [(p.name, p.read_bytes()) for p in names]
    return [(path.name, path.read_bytes())]


def shipped_library() -> Path:
    return Path(__file__).parent / "library"
