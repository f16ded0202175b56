import { formatBytes, t } from "../strings.js";

// A task's files as download links (presigned, for a few minutes), with their type and size.
export function Artifacts({ artifacts }) {
  if (!artifacts.length) return <p>{t("task.artifactsNone")}</p>;
  return (
    <ul class="artifacts">
      {artifacts.map((artifact) => (
        <li key={artifact.name}>
          <a href={artifact.url} download={artifact.name}>
            {artifact.name}
          </a>{" "}
          ({artifact.content_type}, {formatBytes(artifact.size)})
        </li>
      ))}
    </ul>
  );
}
