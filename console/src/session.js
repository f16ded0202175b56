// The API's token, kept in localStorage until it expires so that a reload keeps one logged in.
const KEY = "georegistry.session";
const listeners = new Set();

export function currentToken() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved && saved.expires_at > Date.now()) return saved.token;
  } catch {
    // an unreadable entry is as good as none
  }
  localStorage.removeItem(KEY);
  return null;
}

export function tokenExpiresAt() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null")?.expires_at ?? null;
  } catch {
    return null;
  }
}

export function saveToken(token, expiresInSeconds) {
  localStorage.setItem(KEY, JSON.stringify({ token, expires_at: Date.now() + expiresInSeconds * 1000 }));
  notify("login");
}

export function endSession(reason) {
  localStorage.removeItem(KEY);
  notify(reason);
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(reason) {
  for (const listener of listeners) listener(reason);
}

// Another tab logging out (or in) changes this one too.
window.addEventListener("storage", (event) => {
  if (event.key === KEY) notify(currentToken() ? "login" : "logout");
});
