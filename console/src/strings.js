// Every text the console shows, in English and in French, in one place.
// Each section's texts are in strings/<section>.js (`en`, and `fr` beside it), merged here; the French
// of the core texts below is in strings/core.fr.js. A text missing in French shows in English.
// `t("key", {name: value})` fills {name} placeholders; a missing key shows itself, to be noticed.
import { fr as coreFr } from "./strings/core.fr.js";
import { en as dhis2En } from "./strings/dhis2.js";
import { fr as dhis2Fr } from "./strings/dhis2.fr.js";
import { en as reviewEn, fr as reviewFr } from "./strings/review.js";
import { en as sourcesEn, fr as sourcesFr } from "./strings/sources.js";
import { en as submissionsEn, fr as submissionsFr } from "./strings/submissions.js";
import { en as unitsEn, fr as unitsFr } from "./strings/units.js";

const en = {
  ...unitsEn,
  ...reviewEn,
  ...submissionsEn,
  ...sourcesEn,
  ...dhis2En,
  "app.name": "georegistry",
  "app.skip": "Skip to content",
  "nav.label": "Main",
  "nav.home": "Account",
  "nav.registry": "Registry",
  "nav.review": "Change requests",
  "nav.submissions": "Submissions",
  "nav.sources": "Data sources",
  "nav.dhis2": "DHIS2",
  "nav.tasks": "Tasks",
  "nav.logout": "Log out",
  "nav.signedInAs": "Signed in as {name}",
  "language.label": "Language / Langue",

  "login.title": "Log in",
  "login.intro": "Log in with your georegistry email and password.",
  "login.email": "Email",
  "login.password": "Password",
  "login.submit": "Log in",
  "login.busy": "Logging in…",
  "login.expired": "Your session has ended. Please log in again.",
  "login.loggedOut": "You are logged out.",

  "home.title": "Your account",
  "home.user": "You",
  "home.account": "Account",
  "home.role": "Role",
  "home.email": "Email",
  "home.permissions": "Permissions",
  "home.projects": "Projects",
  "home.projectsNone": "No projects yet.",
  "home.projectName": "Name",
  "home.projectId": "Id",
  "home.projectAppId": "App id",

  "list.previous": "Previous page",
  "list.next": "Next page",
  "list.loading": "Loading…",
  "list.empty": "Nothing here yet.",
  "list.page": "Page {n}",

  "registry.title": "Registry",
  "registry.filters": "Filters",
  "registry.search": "Search by name",
  "registry.type": "Type",
  "registry.type.any": "Any type",
  "registry.status": "Status",
  "registry.status.any": "Any status",
  "registry.group": "Group",
  "registry.group.any": "Any group",
  "registry.within.children": "Children of {name}.",
  "registry.within.below": "Everything below {name}.",
  "registry.within.clear": "Show all",
  "registry.caption": "Org units, by name",
  "registry.col.name": "Name",
  "registry.col.type": "Type",
  "registry.col.status": "Status",
  "registry.col.parent": "Parent",
  "registry.id": "Id",
  "registry.pickHint": "Pick a unit in the list or on the map to see it here.",
  "registry.showChildren": "Show its children",
  "registry.showBelow": "Show everything below it",
  "registry.map.label": "Map of the units listed",
  "registry.map.failed": "The map could not be loaded.",
  "registry.map.crowded": "Too many units here to draw them all: zoom in, or narrow the list.",

  "placeMap.current": "Current",
  "placeMap.proposed": "Proposed",
  "placeMap.plain": "Location",
  "placeMap.none": "No geometry.",
  "placeMap.marker": "Point: drag it to move it",
  "placeMap.dragHint": "Drag the point to move it, or type its coordinates.",

  "unitStatus.NEW": "New",
  "unitStatus.VALID": "Valid",
  "unitStatus.REJECTED": "Rejected",

  "tasks.title": "Tasks",
  "tasks.filters": "Filters",
  "tasks.scope": "Whose tasks",
  "tasks.scope.mine": "Mine",
  "tasks.scope.account": "The account's",
  "tasks.status": "Status",
  "tasks.status.any": "Any status",
  "tasks.kind": "Kind",
  "tasks.kind.hint": "e.g. demo.count",
  "tasks.col.id": "Task",
  "tasks.col.kind": "Kind",
  "tasks.col.status": "Status",
  "tasks.col.progress": "Progress",
  "tasks.col.created": "Created",
  "tasks.col.ended": "Ended",
  "tasks.caption": "Tasks, newest first",
  "tasks.demo.title": "Try a demo task",
  "tasks.demo.intro": "The demo task counts to a number, slowly, so you can watch its progress (local stacks only).",
  "tasks.demo.n": "Count to",
  "tasks.demo.sleep": "Seconds per step",
  "tasks.demo.start": "Start demo task",

  "status.QUEUED": "Queued",
  "status.RUNNING": "Running",
  "status.SUCCESS": "Done",
  "status.ERRORED": "Failed",
  "status.KILLED": "Killed",

  "task.title": "Task {id}",
  "task.kind": "Kind",
  "task.status": "Status",
  "task.progress": "Progress",
  "task.progressOf": "{value} of {end}",
  "task.progressCount": "{value} so far",
  "task.elapsed": "Elapsed",
  "task.left": "Time left (estimate)",
  "task.leftUnknown": "not known yet",
  "task.created": "Created",
  "task.started": "Started",
  "task.ended": "Ended",
  "task.attempts": "Attempts",
  "task.params": "Parameters",
  "task.result": "Result",
  "task.error": "Error",
  "task.artifacts": "Downloads",
  "task.artifactsNone": "No files.",
  "task.logs": "Log",
  "task.logs.caption": "Log lines, oldest first",
  "task.logs.time": "Time",
  "task.logs.level": "Level",
  "task.logs.message": "Message",
  "task.kill": "Kill task",
  "task.killRequested": "Kill requested; the task stops at its next step.",
  "task.relaunch": "Run again",
  "task.back": "All tasks",
  "follow.title": "Task {id}",
  "follow.open": "Open the task's page",
  "follow.error": "The task failed: {error}",
  "follow.killed": "The task was killed: nothing was written.",
  "rows.previous": "Previous rows",
  "rows.next": "Next rows",
  "rows.range": "Rows {from}–{to} of {total}",
  "task.notFound": "There is no task {id}, or it is not yours to see.",

  "duration.s": "{s} s",
  "duration.ms": "{m} min {s} s",
  "duration.hm": "{h} h {m} min",
  "size.units": "B KB MB GB",

  "error.network": "The API could not be reached. Check your connection and try again.",
  "error.unexpected": "The API answered {status} without an explanation.",
  "error.title": "Something went wrong",
  "error.page": "This page stopped working ({message}). Reload it, or go to another page.",
  "notFound.title": "Page not found",
  "notFound.body": "There is no page here.",
};

const fr = {
  ...unitsFr,
  ...reviewFr,
  ...submissionsFr,
  ...sourcesFr,
  ...dhis2Fr,
  ...coreFr,
};

// Each language's own name, the same in every language.
export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "fr", name: "Français" },
];
export const tables = { en, fr };
const STORAGE_KEY = "georegistry.language";
let current = en;
let currentCode = "en";
const listeners = new Set();
const known = (code) => typeof code === "string" && Object.hasOwn(tables, code);

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (private mode, a policy): the browser's languages decide
  }
}

// The language picked before, else the first of the browser's languages that has a table.
export function preferredLanguage() {
  const picked = stored();
  if (known(picked)) return picked;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  for (const tag of wanted) {
    const code = String(tag).toLowerCase().split("-")[0];
    if (known(code)) return code;
  }
  return "en";
}

export function language() {
  return currentCode;
}

// `remember`: the user picked it, so it stays (this tab and the next ones).
export function setLanguage(code, { remember = false } = {}) {
  currentCode = known(code) ? code : "en";
  current = tables[currentCode];
  document.documentElement.lang = currentCode;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, currentCode);
    } catch {
      // not kept: this page still switches
    }
  }
  for (const listener of listeners) listener(currentCode);
}

// `listener(code)` after each setLanguage; returns the function that stops it.
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Another tab picked a language: follow it.
export function followOtherTabs() {
  const changed = (event) => {
    if (event.key === STORAGE_KEY && known(event.newValue)) setLanguage(event.newValue);
  };
  window.addEventListener("storage", changed);
  return () => window.removeEventListener("storage", changed);
}

export function t(key, params = {}) {
  const text = current[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString(currentCode) : "—";
}

export function formatDuration(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return t("duration.s", { s: whole });
  if (whole < 3600) return t("duration.ms", { m: Math.floor(whole / 60), s: whole % 60 });
  return t("duration.hm", { h: Math.floor(whole / 3600), m: Math.floor((whole % 3600) / 60) });
}

export function formatBytes(size) {
  const units = t("size.units").split(" ");
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit ? 1 : 0;
  const number = new Intl.NumberFormat(currentCode, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
  return `${number} ${units[unit]}`;
}
