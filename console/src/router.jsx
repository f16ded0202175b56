// Paths under /console/ with the History API; the server answers index.html for any of them.
import { useEffect, useState } from "preact/hooks";

export const ROOT = "/console";

export function currentRoute() {
  const url = new URL(window.location.href);
  const path = url.pathname.startsWith(ROOT) ? url.pathname.slice(ROOT.length) || "/" : "/";
  return { path: path.replace(/\/+$/, "") || "/", params: url.searchParams };
}

export function navigate(path, { replace = false } = {}) {
  const target = ROOT + path;
  if (replace) window.history.replaceState(null, "", target);
  else window.history.pushState(null, "", target);
  window.dispatchEvent(new Event("popstate"));
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}

// A link that moves without a reload (a modified click still opens a new tab).
export function Link({ to, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={ROOT + to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
