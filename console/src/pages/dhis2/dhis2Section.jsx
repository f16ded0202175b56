// The paths of the DHIS2 section: connections, their imports, syncs, pushes and data-value runs.
//   /dhis2                   the account's connections (checked from the list), a new one; data-value mappings
//   /dhis2/<id>              a connection: its check and change; import, sync, push (?task=<id> followed);
//                            its runs and sync schedules
//   /dhis2/mappings/<id>     a data-value mapping: run it (?task=<id> followed), its runs and export statuses
import { ConnectionPage } from "./ConnectionPage.jsx";
import { Connections } from "./Connections.jsx";
import { MappingPage } from "./MappingPage.jsx";
import "./dhis2.css";

export function dhis2Page({ path, params, me }) {
  if (path === "/dhis2") return <Connections me={me} />;
  const mapping = path.match(/^\/dhis2\/mappings\/(\d+)$/);
  if (mapping) return <MappingPage key={`mapping-${mapping[1]}`} id={Number(mapping[1])} me={me} params={params} />;
  const connection = path.match(/^\/dhis2\/(\d+)$/);
  if (!connection) return null;
  const id = Number(connection[1]);
  return <ConnectionPage key={`connection-${id}`} id={id} me={me} params={params} />;
}
