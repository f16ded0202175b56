// A submission's answers laid out as its form version has them, from pyxform's JSON descriptor
// (GET /api/forms/{id}/versions/{number}): groups as nested sections, a repeat as one section per
// instance, questions and choices by their label in the language picked. Answers the descriptor does
// not name are shown too, under their XML names; without a descriptor, all of them are.
import { t } from "../../strings.js";

const MEDIA = new Set(["photo", "image", "audio", "video", "file", "background-audio"]);
const IMAGES = new Set(["photo", "image"]);
const GEOPOINTS = new Set(["geopoint", "start-geopoint"]);
const SELECTS = new Set(["select one", "select all that apply", "select one external"]);
// Filled in by the phone, shown in the page's facts (started, ended, device) rather than as answers.
const METADATA = new Set(["start", "end", "today", "deviceid", "imei", "username", "email", "phonenumber",
  "simserial", "subscriberid", "audit", "note"]);
const DEFAULT = "default"; // pyxform's key for labels given without a language

// The languages the descriptor's labels are in, the form's default first.
export function languagesOf(descriptor) {
  const found = new Set();
  const visit = (node) => {
    if (node.label && typeof node.label === "object") Object.keys(node.label).forEach((lang) => found.add(lang));
    (node.children || []).forEach(visit);
  };
  visit(descriptor);
  Object.values(descriptor.choices || {}).forEach((choices) => choices.forEach(visit));
  const first = descriptor.default_language;
  return [...found].sort((a, b) => (a === first ? -1 : b === first ? 1 : a.localeCompare(b)));
}

export function languageName(lang) {
  return lang === DEFAULT ? t("submission.language.default") : lang;
}

function labelOf(node, lang, fallback) {
  const label = node.label;
  if (typeof label === "string") return label;
  if (label && typeof label === "object") {
    return label[lang] ?? label[fallback] ?? label[DEFAULT] ?? Object.values(label)[0] ?? node.name;
  }
  return node.name;
}

function choicesOf(node, descriptor) {
  if (node.children?.length) return node.children;
  return descriptor.choices?.[node.itemset] || descriptor.choices?.[node.list_name] || [];
}

const empty = (value) => value === null || value === undefined || value === "";

function Media({ node, value, label, attachments }) {
  const file = attachments.find((attachment) => attachment.name === value);
  if (!file) return <span>{t("submission.fileMissing", { name: value })}</span>;
  if (IMAGES.has(node.type) || file.content_type?.startsWith("image/")) {
    return (
      <a href={file.url} class="photo-link">
        <img class="photo" src={file.url} alt={label} data-testid="answer-photo" />
      </a>
    );
  }
  return <a href={file.url}>{file.name}</a>;
}

function Value({ node, value, context }) {
  const { lang, fallback, descriptor, attachments } = context;
  if (empty(value)) return <span class="muted">{t("submission.noAnswer")}</span>;
  if (typeof value === "object") return <code>{JSON.stringify(value)}</code>;
  if (node && SELECTS.has(node.type)) {
    const choices = choicesOf(node, descriptor);
    const names = node.type === "select all that apply" ? String(value).split(/\s+/) : [String(value)];
    return names.map((name) => {
      const choice = choices.find((option) => option.name === name);
      return choice ? labelOf(choice, lang, fallback) : name;
    }).join(", ");
  }
  if (node && GEOPOINTS.has(node.type)) {
    const [lat, lon, , accuracy] = String(value).trim().split(/\s+/);
    const where = t("submission.coordinates", { lat, lon });
    return accuracy ? `${where} ${t("submission.accuracy", { m: accuracy })}` : where;
  }
  if (node && MEDIA.has(node.type)) {
    const label = labelOf(node, lang, fallback);
    return <Media node={node} value={value} label={label} attachments={attachments} />;
  }
  return String(value);
}

const headingTag = (depth) => `h${Math.min(6, 3 + depth)}`;

function Section({ title, depth, children, testid }) {
  const Heading = headingTag(depth);
  return (
    <section class="answer-group" data-testid={testid}>
      <Heading>{title}</Heading>
      {children}
    </section>
  );
}

// The rows of one level: questions as a definition list, groups and repeats as sections, in order.
function Level({ nodes, answers, depth, context }) {
  const parts = [];
  let leaves = [];
  const flush = () => {
    if (leaves.length) parts.push(<dl class="answers" key={`dl-${parts.length}`}>{leaves}</dl>);
    leaves = [];
  };
  for (const node of nodes) {
    const value = answers?.[node.name];
    const label = node.label === undefined && node.raw ? node.name : labelOf(node, context.lang, context.fallback);
    if (node.type === "group") {
      flush();
      parts.push(
        <Section key={node.name} title={label} depth={depth} testid={`group-${node.name}`}>
          <Level nodes={childrenOf(node, value)} answers={value} depth={depth + 1} context={context} />
        </Section>,
      );
    } else if (node.type === "repeat") {
      flush();
      const instances = Array.isArray(value) ? value : empty(value) ? [] : [value];
      parts.push(
        <Section key={node.name} title={label} depth={depth} testid={`repeat-${node.name}`}>
          {instances.length === 0 && <p class="muted">{t("submission.repeatNone")}</p>}
          {instances.map((instance, index) => (
            <Section
              key={index}
              title={t("submission.repeatInstance", { label, n: index + 1 })}
              depth={depth + 1}
              testid={`repeat-${node.name}-${index + 1}`}
            >
              <Level nodes={childrenOf(node, instance)} answers={instance} depth={depth + 2} context={context} />
            </Section>
          ))}
        </Section>,
      );
    } else {
      leaves.push(
        <div class="answer" key={node.name} data-name={node.name}>
          <dt>{label}</dt>
          <dd>
            <Value node={node.raw ? null : node} value={value} context={context} />
          </dd>
        </div>,
      );
    }
  }
  flush();
  return parts;
}

// A node's questions from the descriptor (phone metadata left out), then the answers it does not name.
function childrenOf(node, answers) {
  const known = (node.children || []).filter((child) => !METADATA.has(child.type) && !child.control?.bodyless);
  const named = new Set((node.children || []).map((child) => child.name));
  const extra = Object.entries(answers && !Array.isArray(answers) && typeof answers === "object" ? answers : {})
    .filter(([name]) => !named.has(name))
    .map(([name, value]) => rawNode(name, value));
  return [...known, ...extra];
}

function rawNode(name, value) {
  if (Array.isArray(value)) {
    const children = value.length && typeof value[0] === "object" ? Object.keys(value[0]) : [];
    return { name, raw: true, type: "repeat", children: children.map((key) => rawNode(key, value[0][key])) };
  }
  if (value && typeof value === "object") {
    return { name, raw: true, type: "group", children: Object.entries(value).map(([key, v]) => rawNode(key, v)) };
  }
  return { name, raw: true, type: "text" };
}

export function Answers({ descriptor, answers, lang, attachments }) {
  const root = descriptor || { children: [] };
  const context = { lang, fallback: root.default_language, descriptor: root, attachments };
  return (
    <div class="answers-tree" data-testid="answers">
      <Level nodes={childrenOf(root, answers)} answers={answers} depth={0} context={context} />
    </div>
  );
}
