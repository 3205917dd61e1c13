// The status page: a thin client of the hub's websocket protocol (v1), as the terminal client is.
//
// It opens the websocket with the user's token (offered as the subprotocol `bearer.<token>`
// beside `warroom.v1`, since a browser cannot set Authorization), says hello, and folds the
// events the hub's filter lets through into its own state; the page is drawn from that state
// alone. Every text that came from a user is set as textContent, never parsed as HTML.

const PROTOCOL = "warroom.v1";
const VERSION = 1;
const TOKEN_KEY = "warroom.token";
const INTERNAL = "internal";
const DELAYS = [500, 1000, 2000, 4000, 8000, 15000];
const DEFAULT_CADENCE = { SEV1: 900, SEV2: 1800, SEV3: 3600, SEV4: null };
const STATUS_ORDER = { investigating: 0, identified: 1, monitoring: 2, resolved: 3 };
const ASKERS = new Set(["stakeholder", "incident-manager"]);
const CLOSE_REVOKED = 4401;
const CLOSE_RESYNC = 4409;

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  socket: null,
  attempt: 0,
  accepted: false, // the hub has accepted this token once
  timer: null,
  cursor: 0,
  log: null,
  welcome: null,
  synced: false,
  cadence: DEFAULT_CADENCE,
  incidents: new Map(),
  pending: new Map(), // submit id -> { incident, text, frame, state, message }
  lastAsk: null,
};

// Events, folded ------------------------------------------------------------------------------

function fold(event) {
  if (event.type === "incident.declared") {
    state.incidents.set(event.incident, {
      id: event.incident,
      title: event.title,
      severity: event.severity,
      status: "investigating",
      apps: [...event.apps],
      declaredAt: event.at,
      resolvedAt: null,
      reopenedAt: null,
      impact: null,
      eta: null,
      updates: new Map(),
      workarounds: new Map(),
      questions: new Map(),
    });
    return;
  }
  const incident = state.incidents.get(event.incident);
  if (!incident) return; // of an incident this view does not hold
  switch (event.type) {
    case "status.changed":
      if (event.previous === "resolved") incident.reopenedAt = event.at;
      incident.status = event.status;
      incident.resolvedAt = event.status === "resolved" ? event.at : null;
      break;
    case "severity.changed":
      incident.severity = event.severity;
      break;
    case "impact.updated":
      incident.impact = {
        statement: event.statement,
        customerFacing: event.customer_facing,
        audience: event.audience,
        at: event.at,
      };
      break;
    case "eta.set":
      incident.eta = event.eta === null ? null : { at: event.eta, confidence: event.confidence };
      break;
    case "app.added":
      if (!incident.apps.includes(event.app)) incident.apps.push(event.app);
      break;
    case "app.removed":
      incident.apps = incident.apps.filter((app) => app !== event.app);
      break;
    case "mitigation.added":
      incident.workarounds.set(event.mitigation, {
        id: event.mitigation,
        text: event.text,
        state: event.state,
        apps: [...event.apps],
        audience: event.audience,
        at: event.at,
      });
      break;
    case "mitigation.state-changed": {
      const fix = incident.workarounds.get(event.mitigation);
      if (fix) fix.state = event.state;
      break;
    }
    case "question.asked":
      incident.questions.set(event.question, {
        id: event.question,
        text: event.text,
        asker: event.actor,
        askedAt: event.at,
        state: "open",
        answer: null,
        answeredAt: null,
        published: null,
      });
      break;
    case "question.answered": {
      const question = incident.questions.get(event.question) || {
        id: event.question,
        text: event.question_text,
        asker: "",
        askedAt: event.at,
      };
      Object.assign(question, {
        state: "answered",
        answer: event.text,
        answeredAt: event.at,
        published: event.audience,
      });
      incident.questions.set(event.question, question);
      break;
    }
    case "question.dismissed": {
      const question = incident.questions.get(event.question);
      if (question) Object.assign(question, { state: "dismissed", answer: event.reason || null });
      break;
    }
    case "question.merged": {
      const question = incident.questions.get(event.question);
      if (question) question.state = "merged";
      break;
    }
    case "update.published":
      incident.updates.set(event.update, {
        id: event.update,
        kind: event.kind,
        audience: event.audience,
        summary: event.summary,
        impact: event.impact,
        timeline: event.timeline,
        progress: event.progress,
        mitigation: event.mitigation,
        at: event.at,
      });
      if (incident.id === route()) announce(`New update on ${incident.id}`);
      break;
    case "audience.changed":
      // The entry travels with the event; to a stakeholder it was withdrawn if now internal.
      if (event.impact) {
        const impact = event.impact;
        incident.impact = {
          statement: impact.statement,
          customerFacing: impact.customer_facing,
          audience: event.audience,
          at: impact.updated_at,
        };
      }
      if (event.mitigation) {
        const fix = event.mitigation;
        incident.workarounds.set(fix.id, {
          id: fix.id,
          text: fix.text,
          state: fix.state,
          apps: [...fix.apps],
          audience: event.audience,
          at: fix.created_at,
        });
      }
      break;
    default:
      break; // notes, actions, privacy: not shown on this page
  }
}

function reset() {
  state.incidents = new Map();
  state.cursor = 0;
  state.synced = false;
}

// What the viewer may see ---------------------------------------------------------------------

function internal() {
  return state.welcome !== null && state.welcome.role !== "stakeholder";
}

function shown(audience) {
  return internal() || (audience !== INTERNAL && audience !== null && audience !== undefined);
}

function nextDue(incident) {
  const seconds = state.cadence[incident.severity];
  if (incident.status === "resolved" || seconds === null || seconds === undefined) return null;
  const starts = [Date.parse(incident.declaredAt)];
  for (const update of incident.updates.values()) starts.push(Date.parse(update.at));
  if (incident.reopenedAt) starts.push(Date.parse(incident.reopenedAt));
  return new Date(Math.max(...starts) + seconds * 1000);
}

function ordered(incidents) {
  const rank = (incident) => (incident.status === "resolved" ? 1 : 0);
  return [...incidents].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.severity.localeCompare(b.severity) ||
      Date.parse(b.declaredAt) - Date.parse(a.declaredAt),
  );
}

// The link ------------------------------------------------------------------------------------

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/`;
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ v: VERSION, ...frame }));
    return true;
  }
  return false;
}

function connect() {
  clearTimeout(state.timer);
  state.timer = null;
  if (!state.token) return;
  let socket;
  try {
    socket = new WebSocket(socketUrl(), [PROTOCOL, `bearer.${state.token}`]);
  } catch (error) {
    signIn(`The sign-in could not be used: ${error.message}`);
    return;
  }
  state.socket = socket;
  let opened = false;
  link("connecting", state.attempt ? "Reconnecting…" : "Connecting…");
  socket.addEventListener("open", () => {
    opened = true;
    state.accepted = true;
    state.attempt = 0;
    send({ type: "hello", cursor: state.cursor, log: state.log });
  });
  socket.addEventListener("message", (message) => receive(message.data));
  socket.addEventListener("close", (closed) => {
    if (state.socket !== socket) return;
    state.socket = null;
    state.synced = false;
    if (closed.code === CLOSE_REVOKED) {
      forget();
      signIn("Your access was revoked. Ask the incident manager for a new sign-in link.");
      return;
    }
    if (closed.code === CLOSE_RESYNC) {
      reset(); // what this user may see changed: start over, immediately
      connect();
      return;
    }
    if (opened) {
      retry();
      return;
    }
    // Refused before it opened: a browser is not told why, so ask the hub whether it is up.
    // Up means this sign-in was refused (an old link, a revoked token); down means wait.
    hubAnswers().then((up) => {
      if (state.socket !== null || state.timer !== null || !state.token) return;
      if (up) {
        link("down", "Not signed in");
        signIn(
          "The war room is up but did not accept this sign-in: the link is old or was " +
            "revoked. Open the latest link you were sent, or paste your token.",
        );
        return;
      }
      if (!state.accepted) {
        signIn(
          "The war room cannot be reached right now. This page keeps trying, and signs you " +
            "in as soon as it answers.",
        );
      }
      retry(state.accepted ? "Connection lost." : "The war room cannot be reached.");
    });
  });
}

async function hubAnswers() {
  try {
    const answer = await fetch("/health", { cache: "no-store" });
    return answer.ok;
  } catch {
    return false;
  }
}

function retry(why = "Connection lost.") {
  const base = DELAYS[Math.min(state.attempt, DELAYS.length - 1)];
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  state.attempt += 1;
  const seconds = Math.max(1, Math.round(delay / 1000));
  link("down", `${why} Reconnecting in ${seconds} s…`);
  render();
  state.timer = setTimeout(connect, delay);
}

function receive(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  switch (frame.type) {
    case "welcome":
      if (frame.reset) reset();
      state.welcome = frame;
      state.log = frame.log;
      state.cadence = { ...DEFAULT_CADENCE, ...(frame.cadence || {}) };
      link("syncing", "Catching up…");
      show("board");
      break;
    case "event":
      fold(frame.event);
      state.cursor = frame.seq;
      break;
    case "events":
      // A catch-up: many events to a frame, in order; painted once, after the last.
      for (const part of frame.events) {
        fold(part.event);
        state.cursor = part.seq;
      }
      break;
    case "synced":
      state.cursor = frame.head;
      state.synced = true;
      link("live", "Live");
      // Re-sent with the same id: the hub carries out a command once, however often it comes.
      for (const entry of state.pending.values()) {
        if (entry.state === "pending") {
          send(entry.frame);
          entry.message = "Sending…";
        }
      }
      break;
    case "ack":
      settle(frame.id, "sent", "Sent. The answer will appear under your questions.");
      break;
    case "rejected":
      settle(frame.id, "refused", `Refused: ${frame.message}`);
      break;
    case "error":
      link(state.synced ? "live" : "syncing", `The hub said: ${frame.message}`);
      break;
    default:
      break;
  }
  render();
}

// Asking --------------------------------------------------------------------------------------

function randomId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "page-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function ask(incident, text) {
  const id = randomId();
  const frame = { type: "submit", id, command: { type: "question.ask", incident, text } };
  const entry = { incident, text, frame, state: "pending", message: "Sending…" };
  state.pending.set(id, entry);
  state.lastAsk = id;
  if (!(state.synced && send(frame))) entry.message = "Waiting for the connection to send it…";
  render();
}

function settle(id, outcome, message) {
  const entry = state.pending.get(id);
  if (!entry) return;
  entry.state = outcome;
  entry.message = message;
  if (outcome === "sent" && id === state.lastAsk) $("ask-text").value = "";
}

// Drawing -------------------------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function ago(date) {
  const minutes = Math.round((date.getTime() - Date.now()) / 60000);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}

function sameDay(date) {
  return date.toDateString() === new Date().toDateString();
}

function time(iso, withRelative = true) {
  const date = iso instanceof Date ? iso : new Date(iso);
  const node = document.createElement("time");
  node.dateTime = date.toISOString();
  const absolute = sameDay(date) ? clock.format(date) : dateTime.format(date);
  node.textContent = withRelative ? `${absolute} (${ago(date)})` : absolute;
  node.title = dateTime.format(date);
  return node;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fill(node, ...children) {
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
}

function link(kind, text) {
  const node = $("link");
  node.dataset.state = kind;
  node.textContent = text;
  document.body.dataset.link = kind;
}

function announce(text) {
  $("announce").textContent = text;
}

function show(which) {
  $("signin").hidden = which !== "signin";
  $("board").hidden = which !== "board";
}

function signIn(reason) {
  $("signin-reason").textContent = reason;
  show("signin");
  $("sign-out").hidden = true;
}

function route() {
  const hash = decodeURIComponent(location.hash.slice(1));
  return /^INC-[A-Z0-9]+$/.test(hash) ? hash : null;
}

function render() {
  if (!state.welcome) return;
  const who = state.welcome;
  const groups = who.groups.length ? ` · ${who.groups.join(", ")}` : "";
  $("who").textContent = `${who.user} (${who.role}${groups})`;
  $("sign-out").hidden = false;
  renderList();
  renderIncident();
}

function renderList() {
  const appSelect = $("filter-app");
  const apps = new Set();
  for (const incident of state.incidents.values()) incident.apps.forEach((app) => apps.add(app));
  const wanted = appSelect.value;
  const options = [...apps].sort((a, b) => a.localeCompare(b));
  const present = [...appSelect.options].slice(1).map((option) => option.value);
  if (present.join("\n") !== options.join("\n")) {
    fill(appSelect, el("option", "", "All applications"), ...options.map((app) => el("option", "", app)));
    appSelect.options[0].value = "";
    appSelect.value = options.includes(wanted) ? wanted : "";
  }
  const app = appSelect.value;
  const severity = $("filter-severity").value;
  const all = ordered(state.incidents.values());
  const matching = all.filter(
    (incident) => (!app || incident.apps.includes(app)) && (!severity || incident.severity === severity),
  );
  const focused = document.activeElement?.closest?.("#incidents a")?.dataset.id;
  const open = route();
  fill(
    $("incidents"),
    ...matching.map((incident) => {
      const item = el("li", "item");
      const anchor = el("a");
      anchor.href = `#${incident.id}`;
      anchor.dataset.id = incident.id;
      if (incident.id === open) anchor.setAttribute("aria-current", "page");
      const top = el("span", "item-top");
      top.append(
        el("span", `sev sev-${incident.severity.toLowerCase()}`, incident.severity),
        el("span", `status status-${incident.status}`, incident.status),
        el("span", "id", incident.id),
      );
      const apps = incident.apps.length ? incident.apps.join(", ") : "no application named";
      anchor.append(top, el("span", "item-title", incident.title), el("span", "item-apps", apps));
      item.append(anchor);
      return item;
    }),
  );
  if (focused) document.querySelector(`#incidents a[data-id="${CSS.escape(focused)}"]`)?.focus();
  const openCount = all.filter((incident) => incident.status !== "resolved").length;
  $("list-count").textContent =
    `${openCount} open, ${all.length - openCount} resolved` +
    (matching.length !== all.length ? ` · ${matching.length} shown` : "");
  const empty = $("list-empty");
  empty.hidden = matching.length > 0;
  empty.textContent = all.length
    ? "No incident matches these filters."
    : state.synced
      ? "No incident you may see. This list updates by itself."
      : "Loading…";
}

function renderIncident() {
  const id = route();
  const incident = id ? state.incidents.get(id) : null;
  document.body.dataset.view = incident ? "incident" : "list";
  $("incident").hidden = !incident;
  $("none").hidden = Boolean(incident) || !state.synced;
  if (!incident) {
    if (id && state.synced) {
      $("none").firstElementChild.textContent = `${id} is not an incident you may see.`;
      $("none").hidden = false;
    } else {
      $("none").firstElementChild.textContent =
        "Choose an incident to see its updates, workarounds and your questions.";
    }
    return;
  }
  document.title = `${incident.id}: ${incident.title} · Incident status`;
  $("incident-title").textContent = incident.title;
  $("i-id").textContent = incident.id;
  const sev = $("i-severity");
  sev.className = `sev sev-${incident.severity.toLowerCase()}`;
  sev.textContent = incident.severity;
  const status = $("i-status");
  status.className = `status status-${incident.status}`;
  status.textContent = incident.status;

  const impact = incident.impact && shown(incident.impact.audience) ? incident.impact : null;
  if (impact && impact.statement) {
    const parts = [el("span", "prose", impact.statement)];
    if (impact.customerFacing) parts.push(el("span", "tag", "customer-facing"));
    fill($("i-impact"), ...parts);
  } else {
    fill($("i-impact"), el("span", "muted", "Not stated yet."));
  }
  if (incident.status === "resolved" && incident.resolvedAt) {
    fill($("i-eta"), el("span", "", "Resolved "), time(incident.resolvedAt));
  } else if (incident.eta) {
    fill(
      $("i-eta"),
      time(incident.eta.at),
      el("span", "muted", ` · ${incident.eta.confidence} confidence`),
    );
  } else {
    fill($("i-eta"), el("span", "muted", "No estimate yet."));
  }
  const due = nextDue(incident);
  if (due) {
    const late = due.getTime() < Date.now();
    fill($("i-next"), time(due), late ? el("span", "tag late", "overdue") : null);
  } else {
    const why = incident.status === "resolved" ? "None: resolved." : "No regular updates at this severity.";
    fill($("i-next"), el("span", "muted", why));
  }
  fill($("i-apps"), el("span", "", incident.apps.join(", ") || "None named."));
  fill($("i-declared"), time(incident.declaredAt));

  const updates = [...incident.updates.values()]
    .filter((update) => shown(update.audience))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id - a.id);
  fill($("i-updates"), ...updates.map(renderUpdate));
  $("updates-empty").hidden = updates.length > 0;

  const fixes = [...incident.workarounds.values()].filter(
    (fix) => shown(fix.audience) && fix.state !== "withdrawn",
  );
  fill(
    $("i-workarounds"),
    ...fixes.map((fix) => {
      const item = el("li", "workaround");
      const label = fix.state === "verified" ? "verified: works" : "proposed: not yet verified";
      item.append(el("span", `tag state-${fix.state}`, label), el("p", "prose", fix.text));
      if (fix.apps.length) item.append(el("p", "muted", `For ${fix.apps.join(", ")}`));
      return item;
    }),
  );
  $("workarounds-empty").hidden = fixes.length > 0;

  const me = state.welcome.user;
  const questions = [...incident.questions.values()]
    .filter((question) => internal() || question.asker === me || question.published)
    .sort((a, b) => Date.parse(b.askedAt) - Date.parse(a.askedAt));
  fill($("i-questions"), ...questions.map((question) => renderQuestion(question, me)));
  $("questions-empty").hidden = questions.length > 0;
  $("questions-empty").textContent = ASKERS.has(state.welcome.role)
    ? "You have asked nothing yet."
    : "No question yet.";

  const form = $("ask");
  form.hidden = !ASKERS.has(state.welcome.role) || incident.status === "resolved";
  const last = state.pending.get(state.lastAsk);
  const askState = $("ask-state");
  if (last && last.incident === incident.id) {
    askState.textContent = last.message;
    askState.dataset.state = last.state;
  } else {
    askState.textContent = "";
    delete askState.dataset.state;
  }
}

function renderUpdate(update) {
  const item = el("li", "update");
  const head = el("p", "update-head");
  head.append(el("strong", "", update.kind === "alert" ? "Alert" : "Update"), el("span", "", " · "), time(update.at));
  if (internal()) head.append(el("span", "muted", ` · to ${update.audience}`));
  item.append(head);
  if (update.summary) item.append(el("p", "prose summary", update.summary));
  const parts = [
    ["Impact", update.impact],
    ["Timeline", update.timeline],
    ["Progress", update.progress],
    ["Mitigation", update.mitigation],
  ].filter(([, text]) => text);
  if (parts.length) {
    const list = el("dl", "update-parts");
    for (const [name, text] of parts) {
      const row = el("div");
      row.append(el("dt", "", name), el("dd", "prose", text));
      list.append(row);
    }
    item.append(list);
  }
  return item;
}

function renderQuestion(question, me) {
  const item = el("li", `question q-${question.state}`);
  const head = el("p", "question-head");
  const by = question.asker === me ? "You asked" : question.asker ? `${question.asker} asked` : "Asked";
  head.append(el("span", "", `${by} `), time(question.askedAt));
  item.append(head, el("p", "prose question-text", question.text));
  if (question.state === "answered") {
    const answer = el("div", "answer");
    const answered = el("p", "answer-head");
    answered.append(el("strong", "", "Answer"), el("span", "", " · "), time(question.answeredAt));
    answer.append(answered, el("p", "prose", question.answer));
    item.append(answer);
  } else if (question.state === "dismissed") {
    item.append(el("p", "muted", `Closed without an answer${question.answer ? `: ${question.answer}` : "."}`));
  } else if (question.state === "merged") {
    item.append(el("p", "muted", "Asked before: you will get the same answer here."));
  } else {
    item.append(el("p", "tag waiting", "Waiting for an answer"));
  }
  return item;
}

// Signing in and out ---------------------------------------------------------------------------

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get("token");
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    // Out of the address bar, the history and any screenshot at once.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.accepted = false;
  state.welcome = null;
  state.log = null;
  state.pending.clear();
  reset();
}

function start(token) {
  state.token = token;
  state.accepted = false;
  state.attempt = 0;
  connect();
}

function wire() {
  $("zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  $("signin-form").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const token = $("token").value.trim();
    if (!/^[A-Za-z0-9_.~-]+$/.test(token)) {
      $("signin-reason").textContent = "That is not a token: it holds characters no token has.";
      return;
    }
    $("token").value = "";
    sessionStorage.setItem(TOKEN_KEY, token);
    start(token);
  });
  $("sign-out").addEventListener("click", () => {
    const socket = state.socket;
    state.socket = null;
    clearTimeout(state.timer);
    if (socket) socket.close(1000, "signed out");
    forget();
    link("down", "Signed out");
    signIn("You are signed out. Open your sign-in link again to come back.");
  });
  $("ask").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const text = $("ask-text").value.trim();
    const id = route();
    if (!text || !id) return;
    ask(id, text);
  });
  for (const select of [$("filter-app"), $("filter-severity")]) {
    select.addEventListener("change", render);
  }
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).get("token")) {
      const token = takeToken();
      if (state.socket) state.socket.close(1000, "signing in again");
      forget();
      start(token);
      return;
    }
    render();
    const heading = route() && !$("incident").hidden ? $("incident-title") : $("list-title");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  });
  // Relative times and "overdue" move on by themselves.
  setInterval(render, 30000);
  window.addEventListener("online", () => {
    if (!state.socket && state.token) connect();
  });
}

wire();
const token = takeToken();
if (token) {
  start(token);
} else {
  link("down", "Not signed in");
  signIn("Open the sign-in link the incident manager sent you, or paste your token here.");
}
