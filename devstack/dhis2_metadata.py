"""POST /api/metadata for the DHIS2 stand-in (devstack/dhis2_standin.py): organisation units and
organisation unit groups imported into the stand-in's in-memory tree, answered with DHIS2's
ImportReport (issue 17, item 7).

Parameters as DHIS2 reads them: `importMode` VALIDATE|COMMIT (COMMIT by default), `importStrategy`
CREATE_AND_UPDATE|CREATE|UPDATE|DELETE, `atomicMode` ALL|NONE (ALL by default: any error and nothing
is applied), `importReportMode` ERRORS|FULL (FULL adds an object report for every object applied).

Modelled on dhis2-core (DefaultMetadataImportService, ValidationFactory, DefaultSchemaValidator,
ReferencesCheck, UidFormatCheck, ErrorCode, WebMessageUtils.importReport):
- every object is validated; an invalid one gets an object report with its error reports and counts
  as ignored; valid ones count as created (new uid) or updated (known uid);
- errors with atomicMode=ALL: nothing applied, every count moves to `ignored`, status ERROR;
  with NONE the valid objects are applied and the status is WARNING;
- 2.36 answers 200 with the ImportReport at the root; from 2.38 the report is the `response` of a
  WebMessage, and a status other than OK makes it a 409 (`httpStatus: Conflict`, WebMessage status
  WARNING, "One or more errors occurred, please see full details in import report.").
Checked: uid format (E4014), required name, shortName, openingDate (E4000), lengths name 230,
shortName 50, code 50 (E4001), closing before opening (E4013), a parent or a group member that is
neither in DHIS2 nor in the payload (E5002), a code another unit holds (E5003), CREATE of a known uid
(E5000), UPDATE or DELETE of an unknown one (E5001), deleting a unit that has children (E4030).
An update replaces the object: a property left out (or null) is emptied, as DHIS2's REPLACE merge.
"""

import random
import re
import string
import time

from devstack.dhis2_query import Index

UNIT = "org.hisp.dhis.organisationunit.OrganisationUnit"
GROUP = "org.hisp.dhis.organisationunit.OrganisationUnitGroup"
UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
LENGTHS = {"name": 230, "shortName": 50, "code": 50}
UNIT_FIELDS = ("name", "shortName", "code", "openingDate", "closedDate", "geometry", "description")
CONFLICT_MESSAGE = "One or more errors occurred, please see full details in import report."
# fmt: off
MESSAGES = {
    "E4000": "Missing required property `{0}`",
    "E4001": "Maximum length of property `{0}`is {1}, but given length was {2}",
    "E4013": "Invalid closing date `{0}`, must be after opening date `{1}`",
    "E4014": "Invalid UID `{0}` for property `{1}`",
    "E4030": "Object could not be deleted because it is associated with another object: {0}",
    "E5000": "Found matching object for reference, but import strategy is CREATE. "
             "Identifier was {0}, and object was {1}.",
    "E5001": "No matching object for reference. Identifier was {0}, and object was {1}.",
    "E5002": "Invalid reference {0} on object {1} for association `{2}`",
    "E5003": "Property `{0}` with value `{1}` on object {2} already exists on object {3}",
}
# fmt: on
STRATEGIES = ("CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE")


class MetadataError(ValueError):
    """A request DHIS2 turns down before importing anything (400 with its message)."""


def import_metadata(standin, query: dict[str, list[str]], payload) -> tuple[int, dict]:
    """The stand-in's answer to POST /api/metadata; the tree changes under the stand-in's lock."""
    first = lambda name, default: (query.get(name) or [default])[0].upper()  # noqa: E731
    mode, strategy = first("importMode", "COMMIT"), first("importStrategy", "CREATE_AND_UPDATE")
    atomic, report_mode = first("atomicMode", "ALL"), first("importReportMode", "ERRORS")
    if mode not in ("VALIDATE", "COMMIT") or strategy not in STRATEGIES or atomic not in ("ALL", "NONE"):
        raise MetadataError(
            f"Unsupported importMode {mode}, importStrategy {strategy} or atomicMode {atomic}"
        )
    if not isinstance(payload, dict):
        raise MetadataError("The payload must be a JSON object of metadata collections")
    units = _objects(payload, "organisationUnits")
    groups = _objects(payload, "organisationUnitGroups")
    with standin._lock:
        importer = _Import(standin, strategy)
        reports = [importer.validate(UNIT, units), importer.validate(GROUP, groups)]
        failed = any(r["objectReports"] for r in reports)
        if failed and atomic == "ALL":
            for report in reports:
                _ignore_all(report["stats"])
        elif mode == "COMMIT":
            importer.apply(reports, units, groups)
            if report_mode == "FULL":
                importer.report_applied(reports, units, groups)
    status = "ERROR" if failed and atomic == "ALL" else "WARNING" if failed else "OK"
    if mode == "COMMIT":
        for report in reports:
            for obj in report["objectReports"]:
                obj.pop("displayName", None)  # DHIS2 keeps names in DEBUG mode only
    return _answer(standin, status, [r for r in reports if r["stats"]["total"]])


def _objects(payload: dict, key: str) -> list[dict]:
    objects = payload.get(key, [])
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise MetadataError(f"`{key}` must be a list of objects")
    return objects


def _stats(created=0, updated=0, deleted=0, ignored=0) -> dict:
    return {
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "ignored": ignored,
        "total": created + updated + deleted + ignored,
    }


def _ignore_all(stats: dict) -> None:
    stats.update(_stats(ignored=stats["total"]))


def _answer(standin, status: str, type_reports: list[dict]) -> tuple[int, dict]:
    totals = _stats()
    for report in type_reports:
        for key in ("created", "updated", "deleted", "ignored"):
            totals[key] += report["stats"][key]
    totals["total"] = sum(totals[k] for k in ("created", "updated", "deleted", "ignored"))
    report = {"status": status, "stats": totals, "typeReports": type_reports}
    if standin.minor < 38:
        return 200, report
    response = {"responseType": "ImportReport"} | report
    if status == "OK":
        return 200, {"httpStatus": "OK", "httpStatusCode": 200, "status": "OK", "response": response}
    message = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING"}
    return 409, message | {"message": CONFLICT_MESSAGE, "response": response}


def _error(code: str, klass: str, prop: str | None, value, *args) -> dict:
    text = MESSAGES[code]
    for i, arg in enumerate(args):
        text = text.replace("{" + str(i) + "}", str(arg))
    report = {"message": text, "mainKlass": klass, "errorCode": code, "errorProperty": prop}
    report |= {"errorProperties": [str(a) for a in args], "value": value}
    return {k: v for k, v in report.items() if v is not None}


def _named(obj: dict) -> str:
    """How DHIS2 names an object in messages: `name [uid] (Type)`."""
    kind = "OrganisationUnitGroup" if "organisationUnits" in obj else "OrganisationUnit"
    return f"{obj.get('name') or ''} [{obj.get('id')}] ({kind})".strip()


class _Import:
    def __init__(self, standin, strategy: str):
        self.standin, self.strategy = standin, strategy
        self.units = standin.index.by_kind["units"]
        self.groups = standin.index.by_kind["groups"]

    # ---- validation -----------------------------------------------------------------------------

    def validate(self, klass: str, objects: list[dict]) -> dict:
        known = self.units if klass == UNIT else self.groups
        reports, created, updated, deleted, ignored = [], 0, 0, 0, 0
        payload_ids = {o.get("id") for o in objects}
        codes = self._codes(objects) if klass == UNIT else {}
        for index, obj in enumerate(objects):
            errors = self._errors(klass, obj, known, payload_ids, codes)
            if errors:
                ignored += 1
                report = {"klass": klass, "index": index, "uid": obj.get("id")}
                reports.append(report | {"displayName": obj.get("name"), "errorReports": errors})
            elif self.strategy == "DELETE":
                deleted += 1
            elif obj["id"] in known:
                updated += 1
            else:
                created += 1
        return {"klass": klass, "stats": _stats(created, updated, deleted, ignored), "objectReports": reports}

    def _codes(self, objects: list[dict]) -> dict[str, str]:
        """code → the uid holding it, as DHIS2 will see them once this payload is in."""
        holders = {u["code"]: u["id"] for u in self.units.values() if u.get("code")}
        sent = {o.get("id") for o in objects}
        holders = {code: uid for code, uid in holders.items() if uid not in sent}
        return holders

    def _errors(self, klass: str, obj: dict, known: dict, payload_ids: set, codes: dict) -> list[dict]:
        uid = obj.get("id")
        if uid is None:
            obj["id"] = uid = _new_uid(known)
        if not isinstance(uid, str) or not UID.match(uid):
            return [_error("E4014", klass, "id", uid, uid, klass.rsplit(".", 1)[1])]
        exists = uid in known
        if self.strategy == "CREATE" and exists:
            return [_error("E5000", klass, "id", uid, f"[{uid}]", _named(known[uid]))]
        if self.strategy in ("UPDATE", "DELETE") and not exists:
            return [_error("E5001", klass, "id", uid, f"[{uid}]", _named(obj))]
        if self.strategy == "DELETE":
            children = known[uid].get("children") or [] if klass == UNIT else []
            return [_error("E4030", klass, None, uid, _named(known[uid]))] if children else []
        required = ("name", "shortName", "openingDate") if klass == UNIT else ("name", "shortName")
        errors = [_error("E4000", klass, p, None, p) for p in required if not obj.get(p)]
        for prop, limit in LENGTHS.items():
            value = obj.get(prop)
            if isinstance(value, str) and len(value) > limit:
                errors.append(_error("E4001", klass, prop, value, prop, limit, len(value)))
        if klass == UNIT:
            errors += self._unit_errors(obj, payload_ids, codes)
        else:
            errors += self._member_errors(obj, payload_ids)
        return errors

    def _unit_errors(self, obj: dict, payload_ids: set, codes: dict) -> list[dict]:
        errors = []
        opening, closed = obj.get("openingDate"), obj.get("closedDate")
        if opening and closed and str(closed)[:10] < str(opening)[:10]:
            errors.append(_error("E4013", UNIT, "closedDate", closed, closed, opening))
        parent = (obj.get("parent") or {}).get("id") if isinstance(obj.get("parent"), dict) else None
        if parent and parent not in self.units and parent not in payload_ids:
            ref = f"[{parent}] (OrganisationUnit)"
            errors.append(_error("E5002", UNIT, "parent", parent, ref, _named(obj), "parent"))
        code = obj.get("code")
        if code and codes.get(code, obj["id"]) != obj["id"]:
            holder = _named(self.units[codes[code]])
            errors.append(_error("E5003", UNIT, "code", code, "code", code, _named(obj), holder))
        if code:
            codes.setdefault(code, obj["id"])
        return errors

    def _member_errors(self, obj: dict, payload_ids: set) -> list[dict]:
        errors = []
        for ref in obj.get("organisationUnits") or []:
            member = ref.get("id") if isinstance(ref, dict) else None
            if member not in self.units and member not in payload_ids:
                text, prop = f"[{member}] (OrganisationUnit)", "organisationUnits"
                errors.append(_error("E5002", GROUP, prop, member, text, _named(obj), prop))
        return errors

    # ---- applying -------------------------------------------------------------------------------

    def apply(self, reports: list[dict], units: list[dict], groups: list[dict]) -> None:
        """The valid objects into the tree (the invalid ones carry an object report and are skipped)."""
        tree = self.standin.tree
        self.applied: dict[str, set[int]] = {}
        for report, klass, objects in zip(reports, (UNIT, GROUP), (units, groups), strict=True):
            known = self.units if klass == UNIT else self.groups
            bad = {r["index"] for r in report["objectReports"]}
            self.applied[klass] = {i for i in range(len(objects)) if i not in bad}
            good = [objects[i] for i in sorted(self.applied[klass])]
            if self.strategy == "DELETE":
                self._delete(klass, known, good)
            elif klass == UNIT:
                self._upsert_units(good)
            else:
                self._upsert_groups(good)
        rederive(tree.units)
        self.standin.index = Index(tree)

    def _delete(self, klass: str, known: dict, good: list[dict]) -> None:
        gone = {o["id"] for o in good}
        collection = self.standin.tree.units if klass == UNIT else self.standin.tree.groups
        collection[:] = [o for o in collection if o["id"] not in gone]
        for uid in gone:
            known.pop(uid, None)
        for other in self.standin.tree.groups if klass == UNIT else self.standin.tree.units:
            key = "organisationUnits" if klass == UNIT else "organisationUnitGroups"
            other[key] = [r for r in other.get(key, []) if r["id"] not in gone]

    def _upsert_units(self, good: list[dict]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())
        for obj in good:
            unit = self.units.get(obj["id"])
            if unit is None:
                unit = {"id": obj["id"], "created": now, "organisationUnitGroups": [], "children": []}
                self.standin.tree.units.append(unit)
                self.units[obj["id"]] = unit
            for prop in UNIT_FIELDS:  # REPLACE: what is left out is emptied
                if obj.get(prop) is None:
                    unit.pop(prop, None)
                else:
                    unit[prop] = obj[prop]
            parent = (obj.get("parent") or {}).get("id")
            unit["parent"] = {"id": parent} if parent else None
            unit["displayName"], unit["lastUpdated"] = unit["name"], now

    def _upsert_groups(self, good: list[dict]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())
        for obj in good:
            group = self.groups.get(obj["id"])
            if group is None:
                group = {"id": obj["id"], "groupSets": []}
                self.standin.tree.groups.append(group)
                self.groups[obj["id"]] = group
            old = {r["id"] for r in group.get("organisationUnits", [])}
            new = [{"id": r["id"]} for r in obj.get("organisationUnits") or []]
            group.update(name=obj["name"], displayName=obj["name"], shortName=obj["shortName"])
            group["lastUpdated"] = now
            group["organisationUnits"] = new
            members = {r["id"] for r in new}
            for uid in old | members:
                unit = self.units.get(uid)
                if unit is None:
                    continue
                refs = [r for r in unit.get("organisationUnitGroups", []) if r["id"] != group["id"]]
                unit["organisationUnitGroups"] = refs + ([{"id": group["id"]}] if uid in members else [])
                unit["lastUpdated"] = now

    def report_applied(self, reports: list[dict], units: list[dict], groups: list[dict]) -> None:
        """importReportMode=FULL: an object report (no errors) for every object applied."""
        for report, objects in zip(reports, (units, groups), strict=True):
            klass = report["klass"]
            for index in sorted(self.applied[klass]):
                entry = {"klass": klass, "index": index, "uid": objects[index]["id"], "errorReports": []}
                report["objectReports"].append(entry)
            report["objectReports"].sort(key=lambda r: r["index"])


def _new_uid(known: dict) -> str:
    alnum = string.ascii_letters + string.digits
    while True:
        uid = random.choice(string.ascii_letters) + "".join(random.choice(alnum) for _ in range(10))
        if uid not in known:
            return uid


def rederive(units: list[dict]) -> None:
    """What DHIS2 derives from the parents: path, level, ancestors, children (after moves too)."""
    by_id = {u["id"]: u for u in units}
    paths: dict[str, str] = {}

    def path_of(unit: dict, seen: frozenset = frozenset()) -> str:
        if unit["id"] in paths:
            return paths[unit["id"]]
        parent_id = (unit.get("parent") or {}).get("id")
        parent = by_id.get(parent_id)
        if parent is None or parent_id in seen:
            path = "/" + unit["id"]
        else:
            path = path_of(parent, seen | {unit["id"]}) + "/" + unit["id"]
        paths[unit["id"]] = path
        return path

    for unit in units:
        unit["children"] = []
    for unit in units:
        ids = path_of(unit).strip("/").split("/")
        unit["path"], unit["level"] = path_of(unit), len(ids)
        unit["ancestors"] = [{"id": x} for x in ids[:-1]]
        if len(ids) > 1:
            unit["parent"] = {"id": ids[-2]}
            by_id[ids[-2]]["children"].append({"id": unit["id"]})
        else:
            unit.pop("parent", None)
