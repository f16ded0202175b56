// The paths of the data sources section: sources, versions, imports, exports, diffs.
//   /sources                    the account's data sources (and a new one, for managers)
//   /sources/<id>               a source: its versions with unit counts, new version, default, export
//   /sources/<id>/import        upload a file (presigned POST to S3), dry run, report, import
//   /sources/<id>/compare       compare two of its versions (a task) and read the diff
import { ComparePage } from "./ComparePage.jsx";
import { ImportPage } from "./ImportPage.jsx";
import { SourcePage } from "./SourcePage.jsx";
import { Sources } from "./Sources.jsx";
import "./sources.css";

export function sourcesPage({ path, params, me }) {
  if (path === "/sources") return <Sources me={me} />;
  const found = path.match(/^\/sources\/(\d+)(?:\/(import|compare))?$/);
  if (!found) return null;
  const id = Number(found[1]);
  if (found[2] === "import") return <ImportPage key={`import-${id}`} id={id} me={me} params={params} />;
  if (found[2] === "compare") return <ComparePage key={`compare-${id}`} id={id} me={me} params={params} />;
  return <SourcePage key={`source-${id}`} id={id} me={me} params={params} />;
}
