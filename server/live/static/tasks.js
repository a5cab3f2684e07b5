// The work queue board: a project's tasks counted by step and status, live, and who is online.
//
// Data: query workProject(id) (name and steps); subscription projectQueueEvents(projectId)
// (a SNAPSHOT of the counts and the workers online, then both again whenever the counts change
// or a worker comes online). A worker drops off the list at their onlineUntil, here, without
// waiting for an event: the server announces a worker again while they keep heartbeating.
import { boot, gql, h, showError } from "./common.js";

const PROJECT = "query($p: ID!) { workProject(id: $p) { id name steps } }";
const QUEUE = `subscription($p: ID!) { projectQueueEvents(projectId: $p) {
  sequence resync counts { stepId status count } workersOnline { userId lastSeenAt onlineUntil } } }`;
const STATUSES = ["OPEN", "ASSIGNED", "DONE"];

boot(async ({ token, client, main }) => {
  const projectId = decodeURIComponent(location.pathname.split("/").pop());
  const { workProject: project } = await gql(token, PROJECT, { p: projectId });
  if (!project) {
    main.replaceChildren(h("p", { role: "alert" }, "No project with this id for this token."));
    return;
  }
  document.getElementById("title").textContent = `Work queue · ${project.name}`;
  document.title = `Work queue · ${project.name} · Allot`;
  const body = h("tbody");
  const foot = h("tfoot");
  const updated = h("p", { class: "updated", "aria-live": "polite" }, "Waiting for the counts…");
  const workers = h("ul", { class: "workers", "aria-live": "polite" });
  let online = [];
  function renderWorkers() {
    const now = Date.now();
    const here = online.filter((w) => Date.parse(w.onlineUntil) > now);
    workers.replaceChildren(...(here.length
      ? here.map((w) => h("li", { "data-worker": w.userId }, w.userId,
        h("small", {}, ` last seen ${new Date(w.lastSeenAt).toLocaleTimeString("en-GB")}`)))
      : [h("li", { class: "none" }, "Nobody is online.")]));
  }
  setInterval(renderWorkers, 1000);
  main.replaceChildren(h("div", { class: "tasks" },
    h("section", { "aria-labelledby": "queue-h" },
      h("h2", { id: "queue-h" }, "Tasks by step and status"),
      h("div", { class: "scroll" }, h("table", { class: "queue" },
        h("caption", {}, `Steps of ${project.name}, in order`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Step"),
          ...STATUSES.map((s) => h("th", { scope: "col" }, s.toLowerCase())), h("th", { scope: "col" }, "total"))),
        body, foot)),
      updated),
    h("section", { "aria-labelledby": "workers-h" },
      h("h2", { id: "workers-h" }, "Workers online"),
      workers,
      h("p", { class: "hint" }, "A worker is online while their last heartbeat is younger than "
        + "ALLOT_PRESENCE_SECONDS."))));

  const previous = new Map();
  function cell(key, value) {
    const td = h("td", { "data-cell": key }, String(value));
    if (previous.has(key) && previous.get(key) !== value) td.classList.add("changed");
    previous.set(key, value);
    return td;
  }

  function render(counts) {
    const by = new Map(counts.map((c) => [`${c.stepId}/${c.status}`, c.count]));
    const steps = [...project.steps, ...new Set(counts.map((c) => c.stepId).filter((s) => !project.steps.includes(s)))];
    body.replaceChildren(...steps.map((step) => h("tr", { "data-step": step },
      h("th", { scope: "row" }, step),
      ...STATUSES.map((s) => cell(`${step}/${s}`, by.get(`${step}/${s}`) ?? 0)),
      cell(`${step}/total`, STATUSES.reduce((n, s) => n + (by.get(`${step}/${s}`) ?? 0), 0)))));
    foot.replaceChildren(h("tr", {}, h("th", { scope: "row" }, "all steps"),
      ...STATUSES.map((s) => cell(`all/${s}`, counts.filter((c) => c.status === s).reduce((n, c) => n + c.count, 0))),
      cell("all/total", counts.reduce((n, c) => n + c.count, 0))));
    updated.textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
  }

  client.subscribe(QUEUE, { p: projectId }, "projectQueueEvents", {
    next: (event) => {
      render(event.counts);
      online = event.workersOnline;
      renderWorkers();
    },
    error: (errors) => showError(main, `The queue cannot be watched: ${errors.map((e) => e.message).join("; ")}`),
  });
});
