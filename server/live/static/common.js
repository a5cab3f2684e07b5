// What every live page shares: the token, GraphQL over HTTP, the connection state, DOM helpers.
import { LiveClient } from "./gqlws.js";

const TOKEN_KEY = "allot.token";

/** Build an element: h("p", {class: "x", onclick: f}, "text", child). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * The token: from the URL fragment (#token=...) once, which is then removed from the address
 * bar (a fragment never reaches the server or its logs), else from sessionStorage.
 */
export function takeToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

// A link with another token opened in this tab changes only the fragment: start again with it.
window.addEventListener("hashchange", () => {
  if (/(?:^#|&)token=/.test(location.hash)) location.reload();
});

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
  }
}

/** POST a query or mutation with the bearer token; the data, or a GraphQLError. */
export async function gql(token, query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new GraphQLError(body.errors);
  return body.data;
}

const STATE_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  resynced: "Resynced",
  refused: "Refused",
};

/**
 * Start a page: find the token (or ask for it), check it with `viewer`, then call
 * start({token, viewer, client}) with a LiveClient whose state shows in #conn.
 */
export async function boot(start, { live = true } = {}) {
  const conn = document.getElementById("conn");
  const who = document.getElementById("who");
  const main = document.getElementById("main");
  const token = takeToken();
  if (!token) {
    askForToken(main, "Paste a token to see this page.");
    conn.textContent = "Not signed in";
    return;
  }
  let viewer;
  try {
    viewer = (await gql(token, "{ viewer { userId tenantId roles } }")).viewer;
  } catch (error) {
    forgetToken();
    conn.textContent = "Not signed in";
    askForToken(main, `This token is not valid: ${error.message}`);
    return;
  }
  who.replaceChildren(
    `Signed in as ${viewer.userId} (${viewer.roles.map((r) => r.toLowerCase()).join(", ")}) `,
    h("button", { type: "button", class: "link", onclick: () => { forgetToken(); location.reload(); } }, "Sign out"),
  );
  if (!live) {
    conn.textContent = "";
    conn.hidden = true;
  }
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const client = live && new LiveClient({
    url,
    token,
    onState: (state, detail) => {
      conn.dataset.state = state;
      conn.textContent = STATE_TEXT[state] + (detail ? `: ${detail}` : "");
    },
  });
  try {
    await start({ token, viewer, client, main });
  } catch (error) {
    showError(main, error.message);
  }
}

export function showError(main, message) {
  main.prepend(h("p", { class: "error", role: "alert" }, message));
}

function askForToken(main, message) {
  const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true });
  const form = h(
    "form",
    { class: "token-form" },
    h("p", { role: "alert" }, message),
    h("label", { for: "token" }, "Token (a JWT, as in the Authorization header without “Bearer”)"),
    input,
    h("button", { type: "submit" }, "Use this token"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim().replace(/^Bearer\s+/i, ""));
    location.reload();
  });
  main.replaceChildren(form);
  input.focus();
}

/** "18:30" in a time zone. */
export function clock(iso, timeZone) {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone });
}

/** "1:05" for a number of seconds. */
export function countdown(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
