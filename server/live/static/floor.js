// The staff floor: one row per table (by zone), the evening across, bookings and holds as
// bars, the current time as a line; unassigned bookings at the side, to hold and confirm.
//
// Data: query restaurant(id) (name, time zone); subscription floorEvents(restaurantId, from,
// to) (SNAPSHOT, then HOLD_PLACED, HOLD_RELEASED, HOLD_EXPIRED, ASSIGNED, UNASSIGNED,
// BOOKING_CHANGED, TABLE_CHANGED); query suggestTables(bookingId); mutations proposeTables,
// confirmAssignment and cancelAssignmentSession; subscription sessionEvents(sessionId) for each
// of the viewer's own sessions (conflicts and expiries as they happen).
import { boot, clock, countdown, gql, h, showError } from "./common.js";

const TABLE = "id label zone minCapacity maxCapacity active";
const BOOKING = "id guestName partySize startsAt endsAt status version tables { id label }";
const ALLOCATION = `id kind bookingId sessionId startsAt endsAt expiresAt releasedAt table { ${TABLE} }`;
const FLOOR_EVENTS = `subscription($r: ID!, $from: DateTime!, $to: DateTime!) {
  floorEvents(restaurantId: $r, from: $from, to: $to) {
    kind sequence resync
    floor { tables { ${TABLE} } allocations { ${ALLOCATION} } bookings { ${BOOKING} } }
    allocation { ${ALLOCATION} }
    booking { ${BOOKING} }
    table { ${TABLE} }
  }
}`;
const SESSION = `id status version holdExpiresAt proposedTables { id label }
  violations { code message conflictingBookingId } booking { id guestName partySize }`;
const SESSION_EVENTS = `subscription($s: ID!) { sessionEvents(sessionId: $s) {
  sequence resync session { ${SESSION} } } }`;
const SUGGEST = `query($b: ID!) { suggestTables(bookingId: $b) {
  score reason tables { id label zone } violations { code message } } }`;
const PROPOSE = `mutation($b: ID!, $t: [ID!]!) { proposeTables(input: {bookingId: $b, tableIds: $t}) {
  __typename ... on SessionPayload { session { ${SESSION} } } ... on Error { code message } } }`;
const CONFIRM = `mutation($s: ID!, $v: Int) {
  confirmAssignment(input: {sessionId: $s, expectedVersion: $v}) {
    __typename ... on SessionPayload { session { ${SESSION} } }
    ... on TableConflict { message violations { code message } }
    ... on SessionNotActive { message status }
    ... on StaleVersion { message currentVersion }
    ... on Error { code message } } }`;
const CANCEL = `mutation($s: ID!) { cancelAssignmentSession(input: {sessionId: $s}) {
  __typename ... on SessionPayload { session { ${SESSION} } } ... on Error { code message } } }`;
const TERMINAL = new Set(["CONFIRMED", "CANCELLED", "EXPIRED"]);
const LEAVE_MS = 600;

// ------------------------------------------------------------------ time zones, no library

function partsIn(date, timeZone) {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  return Object.fromEntries(format.formatToParts(date).map((p) => [p.type, Number(p.value)]));
}

function offsetMs(date, timeZone) {
  const p = partsIn(date, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(date.getTime() / 1000) * 1000;
}

/** The instant it is `hour`:00 on the day `ymd` in the zone. */
function zoned(ymd, hour, timeZone) {
  const guess = Date.UTC(ymd.year, ymd.month - 1, ymd.day, hour);
  let at = guess - offsetMs(new Date(guess), timeZone);
  at = guess - offsetMs(new Date(at), timeZone);
  return new Date(at);
}

/** [from, to): ?from=&to= (ISO) if given, else this evening, 16:00 to midnight, local time. */
function windowFor(timeZone) {
  const params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) {
    return [new Date(params.get("from")), new Date(params.get("to"))];
  }
  const today = partsIn(new Date(), timeZone);
  const from = zoned(today, 16, timeZone);
  return [from, new Date(from.getTime() + 8 * 3600_000)];
}

function naturalLabel(a, b) {
  return a.label.localeCompare(b.label, "en", { numeric: true });
}

// ------------------------------------------------------------------ the page

boot(async ({ token, client, main }) => {
  const restaurantId = decodeURIComponent(location.pathname.split("/").pop());
  const { restaurant } = await gql(token, "query($r: ID!) { restaurant(id: $r) { id name timezone } }", { r: restaurantId });
  if (!restaurant) {
    main.replaceChildren(h("p", { role: "alert" }, "No restaurant with this id for this token."));
    return;
  }
  const tz = restaurant.timezone;
  const [from, to] = windowFor(tz);
  const span = to.getTime() - from.getTime();
  document.getElementById("title").textContent = `Floor · ${restaurant.name}`;
  document.title = `Floor · ${restaurant.name} · Allot`;

  const tables = new Map();
  const allocations = new Map();
  const bookings = new Map();
  const sessions = new Map(); // the viewer's own, by id
  const watching = new Map(); // session id -> subscription
  let selected = null; // booking id
  let suggestions = null; // [{...}] for the selected booking, or a message

  // skeleton
  const date = from.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", timeZone: tz });
  const axis = h("div", { class: "axis", "aria-hidden": "true" });
  const rowsBox = h("div", { class: "rows" });
  const nowLine = h("div", { class: "now-line", "aria-hidden": "true" }, h("span", {}, "now"));
  const timeline = h("div", { class: "timeline" }, axis, rowsBox, h("div", { class: "now-layer" }, nowLine));
  const unassigned = h("ul", { class: "unassigned", id: "unassigned" });
  const unassignedCount = h("span", { class: "count" });
  const panel = h("section", { class: "panel", id: "selected", "aria-live": "polite", "aria-labelledby": "selected-h" });
  const sessionList = h("ul", { class: "sessions" });
  const log = h("ol", { class: "log", role: "log", "aria-live": "polite" });
  main.replaceChildren(
    h("div", { class: "floor" },
      h("section", { class: "board", "aria-labelledby": "timeline-h" },
        h("h2", { id: "timeline-h" }, `Timeline · ${date} · ${clock(from, tz)}–${clock(to, tz)} (${tz})`),
        h("p", { class: "legend" },
          h("span", { class: "chip status-CONFIRMED" }, "confirmed"), " ",
          h("span", { class: "chip status-SEATED" }, "seated"), " ",
          h("span", { class: "chip status-PENDING" }, "pending"), " ",
          h("span", { class: "chip status-COMPLETED" }, "completed"), " ",
          h("span", { class: "chip hold" }, "hold (with time left)")),
        h("div", { class: "scroll" }, timeline)),
      h("aside", { class: "side" },
        h("section", { "aria-labelledby": "unassigned-h" },
          h("h2", { id: "unassigned-h" }, "Unassigned bookings ", unassignedCount), unassigned),
        panel,
        h("section", { "aria-labelledby": "sessions-h" }, h("h2", { id: "sessions-h" }, "Your sessions"), sessionList),
        h("section", { "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, "What happened"), log))));

  for (let t = from.getTime(); t <= to.getTime(); t += 3600_000) {
    const tick = h("span", { class: "tick" }, clock(new Date(t), tz));
    tick.style.left = `${((t - from.getTime()) / span) * 100}%`;
    axis.append(tick);
  }

  function note(text, kind = "info") {
    const at = new Date().toLocaleTimeString("en-GB", { timeZone: tz });
    log.prepend(h("li", { class: `log-${kind}` }, h("time", {}, at), " ", text));
    while (log.children.length > 30) log.lastChild.remove();
  }

  // ---------------------------------------------------------------- timeline

  const rows = new Map(); // table id -> track element
  let rowsKey = "";
  const bars = new Map(); // allocation id -> bar element

  function place(el, startsAt, endsAt) {
    const start = Math.max(0, (new Date(startsAt) - from) / span);
    const end = Math.min(1, (new Date(endsAt) - from) / span);
    el.style.left = `${start * 100}%`;
    el.style.width = `${Math.max(0.5, (end - start) * 100)}%`;
  }

  function buildRows() {
    const shown = [...tables.values()].sort(naturalLabel);
    const key = shown.map((t) => `${t.id}:${t.label}:${t.zone}:${t.active}:${t.minCapacity}-${t.maxCapacity}`).join("|");
    if (key === rowsKey) return;
    rowsKey = key;
    const zones = new Map();
    for (const t of shown) {
      if (!zones.has(t.zone)) zones.set(t.zone, []);
      zones.get(t.zone).push(t);
    }
    const groups = [];
    rows.clear();
    for (const [zone, list] of zones) {
      const group = h("div", { class: "zone", role: "group", "aria-label": `Zone ${zone}` }, h("h3", {}, zone));
      for (const t of list) {
        const track = h("div", { class: "track" });
        rows.set(t.id, track);
        group.append(h("div", { class: `row${t.active ? "" : " inactive"}`, "data-table": t.label },
          h("div", { class: "row-label" }, h("strong", {}, t.label), h("small", {}, ` ${t.minCapacity}–${t.maxCapacity}${t.active ? "" : " · out of service"}`)),
          track));
      }
      groups.push(group);
    }
    rowsBox.replaceChildren(...groups);
    for (const [id, bar] of bars) {
      const track = rows.get(allocations.get(id)?.table.id);
      if (track) track.append(bar);
    }
  }

  function barText(a) {
    const b = bookings.get(a.bookingId);
    const who = b ? `${b.guestName} · ${b.partySize}` : "booking";
    return a.kind === "HOLD" ? `Hold · ${who}` : who;
  }

  function renderBars() {
    for (const [id, bar] of bars) {
      if (!allocations.has(id)) {
        bars.delete(id);
        bar.classList.remove("enter");
        bar.classList.add("leave");
        setTimeout(() => bar.remove(), LEAVE_MS);
      }
    }
    for (const a of allocations.values()) {
      const track = rows.get(a.table.id);
      if (!track) continue;
      let bar = bars.get(a.id);
      if (!bar) {
        bar = h("div", { class: "bar enter", "data-allocation": a.id },
          h("span", { class: "what" }), h("span", { class: "count" }));
        bar.addEventListener("animationend", () => bar.classList.remove("enter"));
        bars.set(a.id, bar);
        track.append(bar);
      } else if (bar.parentElement !== track) {
        track.append(bar);
      }
      const b = bookings.get(a.bookingId);
      bar.className = `bar${bar.classList.contains("enter") ? " enter" : ""} ${a.kind === "HOLD" ? "hold" : `status-${b?.status ?? "CONFIRMED"}`}${selected === a.bookingId ? " selected" : ""}`;
      bar.dataset.kind = a.kind;
      bar.querySelector(".what").textContent = barText(a);
      bar.title = `${barText(a)}, ${clock(a.startsAt, tz)}–${clock(a.endsAt, tz)} at ${a.table.label}${b ? ` (${b.status.toLowerCase()})` : ""}`;
      place(bar, a.startsAt, a.endsAt);
    }
    tick();
  }

  // ---------------------------------------------------------------- unassigned bookings

  const items = new Map(); // booking id -> li
  function renderUnassigned() {
    const assigned = new Set([...allocations.values()].filter((a) => a.kind === "ASSIGNMENT").map((a) => a.bookingId));
    const held = new Set([...allocations.values()].filter((a) => a.kind === "HOLD").map((a) => a.bookingId));
    const waiting = [...bookings.values()]
      .filter((b) => b.status === "PENDING" && !assigned.has(b.id) && b.tables.length === 0)
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.guestName.localeCompare(b.guestName));
    unassignedCount.textContent = `(${waiting.length})`;
    const wanted = [];
    for (const b of waiting) {
      let li = items.get(b.id);
      if (!li) {
        const button = h("button", { type: "button", class: "pick", onclick: () => select(b.id) });
        li = h("li", {}, button, h("span", { class: "held" }));
        items.set(b.id, li);
      }
      const button = li.querySelector("button");
      button.textContent = `${bookings.get(b.id).guestName} · ${b.partySize} ${b.partySize === 1 ? "person" : "people"} · ${clock(b.startsAt, tz)}`;
      button.setAttribute("aria-pressed", String(selected === b.id));
      li.querySelector(".held").textContent = held.has(b.id) ? "held" : "";
      wanted.push(li);
    }
    for (const [id, li] of items) if (!wanted.includes(li)) { items.delete(id); li.remove(); }
    const same = wanted.length === unassigned.children.length && wanted.every((li, i) => unassigned.children[i] === li);
    if (!same) unassigned.replaceChildren(...wanted);
    if (!wanted.length) unassigned.replaceChildren(h("li", { class: "empty" }, "None: every booking has its tables."));
  }

  // ---------------------------------------------------------------- the selected booking

  async function select(bookingId) {
    selected = bookingId;
    suggestions = "Finding tables…";
    render();
    try {
      const data = await gql(token, SUGGEST, { b: bookingId });
      if (selected === bookingId) suggestions = data.suggestTables.slice(0, 6);
    } catch (error) {
      if (selected === bookingId) suggestions = `Could not suggest tables: ${error.message}`;
    }
    render();
    panel.querySelector("button")?.focus();
  }

  function sessionFor(bookingId) {
    return [...sessions.values()].reverse().find((s) => s.booking.id === bookingId && !TERMINAL.has(s.status));
  }

  function renderPanel() {
    const b = selected && bookings.get(selected);
    if (!b) {
      panel.replaceChildren(h("h2", { id: "selected-h" }, "Selected booking"),
        h("p", { class: "hint" }, "Choose an unassigned booking to see which tables fit it."));
      return;
    }
    const parts = [
      h("h2", { id: "selected-h" }, `${b.guestName}, ${b.partySize} ${b.partySize === 1 ? "person" : "people"}`),
      h("p", {}, `${clock(b.startsAt, tz)}–${clock(b.endsAt, tz)} · ${b.status.toLowerCase()}`),
    ];
    const session = sessionFor(b.id);
    if (session) parts.push(sessionView(session, true));
    if (typeof suggestions === "string") parts.push(h("p", {}, suggestions));
    else if (suggestions) {
      parts.push(h("h3", {}, "Suggested tables"));
      parts.push(h("ol", { class: "suggestions" }, suggestions.length ? suggestions.map((s) => {
        const labels = s.tables.map((t) => t.label).join(" + ");
        return h("li", {},
          h("span", { class: "tables" }, labels), " ", h("small", {}, `(${s.tables[0]?.zone ?? ""}) ${s.reason}`),
          s.violations.length ? h("ul", { class: "violations" }, s.violations.map((v) => h("li", {}, v.message))) : null,
          h("button", { type: "button", onclick: () => propose(b.id, s.tables.map((t) => t.id)) }, `Hold ${labels}`));
      }) : h("li", {}, "No table set fits this party.")));
    }
    parts.push(h("button", { type: "button", class: "link", onclick: () => { selected = null; suggestions = null; render(); } }, "Close"));
    // keep the keyboard focus on the same button across a re-render
    const focused = panel.contains(document.activeElement) ? document.activeElement.textContent : null;
    panel.replaceChildren(...parts);
    if (focused) [...panel.querySelectorAll("button")].find((el) => el.textContent === focused)?.focus();
  }

  function sessionView(s, withActions) {
    const labels = s.proposedTables.map((t) => t.label).join(" + ") || "no tables";
    const left = s.holdExpiresAt ? (new Date(s.holdExpiresAt) - Date.now()) / 1000 : null;
    const view = h("div", { class: `session session-${s.status}`, "data-session": s.id },
      h("p", {}, h("strong", {}, s.status === "HELD" ? "Held" : s.status.toLowerCase()), ` · ${s.booking.guestName} · ${labels}`,
        s.status === "HELD" && left !== null ? h("span", { class: "session-count", "data-expires": s.holdExpiresAt }, ` · ${countdown(left)} left`) : null),
      s.violations.length ? h("ul", { class: "violations" }, s.violations.map((v) => h("li", {}, v.message))) : null);
    if (withActions && !TERMINAL.has(s.status)) {
      view.append(
        h("button", { type: "button", disabled: s.status !== "HELD", onclick: () => confirm(s.id) }, `Confirm ${labels}`), " ",
        h("button", { type: "button", class: "secondary", onclick: () => cancel(s.id) }, "Release"));
    }
    return view;
  }

  function renderSessions() {
    const list = [...sessions.values()].reverse().slice(0, 8);
    sessionList.replaceChildren(...(list.length ? list.map((s) => h("li", {}, sessionView(s, false)))
      : [h("li", { class: "empty" }, "None yet: hold tables for a booking to start one.")]));
  }

  // ---------------------------------------------------------------- sessions (mine)

  function updateSession(s) {
    const before = sessions.get(s.id);
    sessions.delete(s.id);
    sessions.set(s.id, s);
    const labels = s.proposedTables.map((t) => t.label).join(" + ");
    const conflict = (x) => x?.violations.some((v) => v.code === "TABLE_CONFLICT");
    if (before && before.status !== s.status) {
      if (s.status === "EXPIRED") note(`Your hold on ${labels} for ${s.booking.guestName} expired.`, "warn");
      else if (s.status === "CONFIRMED") note(`Confirmed: ${s.booking.guestName} at ${labels}.`, "ok");
      else if (s.status === "CANCELLED") note(`Released ${labels} for ${s.booking.guestName}.`);
      else if (s.status === "HELD") note(`Holding ${labels} for ${s.booking.guestName}.`, "ok");
    }
    if (conflict(s) && !conflict(before)) {
      note(`Conflict for ${s.booking.guestName}: ${s.violations.map((v) => v.message).join("; ")}`, "warn");
    } else if (before && conflict(before) && !conflict(s) && !TERMINAL.has(s.status)) {
      note(`The conflict for ${s.booking.guestName} cleared: hold again to take the tables.`, "ok");
    }
    if (TERMINAL.has(s.status)) {
      watching.get(s.id)?.stop();
      watching.delete(s.id);
    } else if (!watching.has(s.id)) {
      watching.set(s.id, client.subscribe(SESSION_EVENTS, { s: s.id }, "sessionEvents", {
        next: (event) => { updateSession(event.session); render(); },
        error: (errors) => note(`Lost session ${s.id}: ${errors.map((e) => e.message).join("; ")}`, "warn"),
      }));
    }
  }

  function failure(result) {
    const extra = result.violations?.map((v) => v.message).join("; ");
    return `${result.message}${extra ? `: ${extra}` : ""}`;
  }

  async function propose(bookingId, tableIds) {
    try {
      const { proposeTables: r } = await gql(token, PROPOSE, { b: bookingId, t: tableIds });
      if (r.session) {
        updateSession(r.session);
        const labels = r.session.proposedTables.map((t) => t.label).join(" + ");
        if (r.session.status === "HELD") note(`Holding ${labels} for ${r.session.booking.guestName}.`, "ok");
        else note(`Not held (${labels}): ${r.session.violations.map((v) => v.message).join("; ")}`, "warn");
      } else note(`Could not hold: ${failure(r)}`, "warn");
    } catch (error) {
      note(`Could not hold: ${error.message}`, "warn");
    }
    render();
    panel.querySelector(".session button:not([disabled])")?.focus();
  }

  async function confirm(sessionId) {
    const s = sessions.get(sessionId);
    try {
      const { confirmAssignment: r } = await gql(token, CONFIRM, { s: sessionId, v: s?.version ?? null });
      if (r.session) {
        updateSession(r.session);
        if (r.session.status === "CONFIRMED" && selected === r.session.booking.id) { selected = null; suggestions = null; }
      } else note(`Could not confirm: ${failure(r)}`, "warn");
    } catch (error) {
      note(`Could not confirm: ${error.message}`, "warn");
    }
    render();
  }

  async function cancel(sessionId) {
    try {
      const { cancelAssignmentSession: r } = await gql(token, CANCEL, { s: sessionId });
      if (r.session) updateSession(r.session);
      else note(`Could not release: ${failure(r)}`, "warn");
    } catch (error) {
      note(`Could not release: ${error.message}`, "warn");
    }
    render();
  }

  // ---------------------------------------------------------------- live

  function tick() {
    const now = Date.now();
    const at = (now - from.getTime()) / span;
    nowLine.hidden = at < 0 || at > 1;
    nowLine.style.left = `${at * 100}%`;
    for (const [id, bar] of bars) {
      const a = allocations.get(id);
      const count = bar.querySelector(".count");
      count.textContent = a?.kind === "HOLD" && a.expiresAt ? ` · ${countdown((new Date(a.expiresAt) - now) / 1000)}` : "";
    }
    for (const el of document.querySelectorAll(".session-count")) {
      el.textContent = ` · ${countdown((new Date(el.dataset.expires) - now) / 1000)} left`;
    }
  }

  function render() {
    buildRows();
    renderBars();
    renderUnassigned();
    renderPanel();
    renderSessions();
  }

  function upsertAllocation(a) {
    if (a.releasedAt) allocations.delete(a.id);
    else allocations.set(a.id, a);
  }

  client.subscribe(FLOOR_EVENTS, { r: restaurantId, from: from.toISOString(), to: to.toISOString() }, "floorEvents", {
    next: (event, snapshot) => {
      if (snapshot) {
        tables.clear(); allocations.clear(); bookings.clear();
        for (const t of event.floor.tables) tables.set(t.id, t);
        for (const b of event.floor.bookings) bookings.set(b.id, b);
        for (const a of event.floor.allocations) upsertAllocation(a);
        render();
        return;
      }
      if (event.booking) bookings.set(event.booking.id, event.booking);
      if (event.table) tables.set(event.table.id, event.table);
      const a = event.allocation;
      const b = a && bookings.get(a.bookingId);
      const who = b ? b.guestName : "a booking";
      switch (event.kind) {
        case "HOLD_PLACED":
        case "ASSIGNED":
          upsertAllocation(a);
          if (event.kind === "HOLD_PLACED" && !(a.sessionId && sessions.has(a.sessionId))) note(`${a.table.label} held for ${who}.`);
          if (event.kind === "ASSIGNED") note(`${a.table.label} assigned to ${who}.`, "ok");
          break;
        case "HOLD_RELEASED":
        case "HOLD_EXPIRED":
        case "UNASSIGNED":
          allocations.delete(a.id);
          if (event.kind === "HOLD_EXPIRED") note(`The hold on ${a.table.label} for ${who} expired.`);
          if (event.kind === "UNASSIGNED") note(`${a.table.label} no longer assigned to ${who}.`, "warn");
          break;
        default:
          break;
      }
      render();
    },
    error: (errors) => showError(main, `The floor cannot be watched: ${errors.map((e) => e.message).join("; ")}`),
  });
  setInterval(tick, 1000);
  render();
});
