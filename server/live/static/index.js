// The index: what this token can see, with links: restaurants (staff, admins), games (players:
// unfinished ones first, then finished ones) and work projects (admins, workers). Anything can
// also be opened by its id.
//
// Data: queries viewer, restaurants, myActiveGames, myGames, workProjects.
import { boot, gql, h } from "./common.js";

function opener(label, id, path) {
  const input = h("input", { id, name: id, required: true, autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "open-by-id" }, h("label", { for: id }, label), input, h("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.assign(`/live/${path}/${encodeURIComponent(input.value.trim())}`);
  });
  return form;
}

async function tryQuery(token, query) {
  try {
    return { data: await gql(token, query) };
  } catch (error) {
    return { error };
  }
}

boot(async ({ token, viewer, main }) => {
  const roles = new Set(viewer.roles);
  const sections = [];

  const restaurants = h("ul", { class: "links" });
  if (roles.has("STAFF") || roles.has("ADMIN")) {
    const { data, error } = await tryQuery(token, "{ restaurants { id name timezone } }");
    restaurants.replaceChildren(...(error ? [h("li", {}, `Could not list restaurants: ${error.message}`)]
      : data.restaurants.length ? data.restaurants.map((r) => h("li", {}, h("a", { href: `/live/floor/${r.id}` }, `Floor of ${r.name}`), ` (${r.timezone})`))
        : [h("li", {}, "No restaurants yet.")]));
  } else restaurants.append(h("li", {}, "Floors need a staff or admin token."));
  sections.push(h("section", { "aria-labelledby": "r-h" }, h("h2", { id: "r-h" }, "Restaurants"), restaurants));

  const games = h("ul", { class: "links" });
  if (roles.has("PLAYER")) {
    const { data, error } = await tryQuery(token,
      "{ myActiveGames { id code status players { id } } myGames(limit: 20) { id code status players { id } } }");
    const all = error ? [] : [...data.myActiveGames, ...data.myGames];
    games.replaceChildren(...(error ? [h("li", {}, `Could not list games: ${error.message}`)]
      : all.length ? all.map((g) => h("li", {}, h("a", { href: `/live/game/${g.id}` }, `Game ${g.code}`), ` (${g.status.toLowerCase().replace("_", " ")}, ${g.players.length} players)`))
        : [h("li", {}, "No games yet.")]));
  } else games.append(h("li", {}, "Games need a player token."));
  sections.push(h("section", { "aria-labelledby": "g-h" }, h("h2", { id: "g-h" }, "Games"),
    h("p", { class: "hint" }, "Your lobbies and running games, then your finished ones."),
    games, opener("Game id", "game-id", "game")));

  const projects = h("ul", { class: "links" });
  if (roles.has("ADMIN") || roles.has("WORKER")) {
    const { data, error } = await tryQuery(token, "{ workProjects { id name steps } }");
    projects.replaceChildren(...(error ? [h("li", {}, `Could not list projects: ${error.message}`)]
      : data.workProjects.length ? data.workProjects.map((p) => h("li", {}, h("a", { href: `/live/tasks/${p.id}` }, `Queue of ${p.name}`), ` (${p.steps.join(", ")})`))
        : [h("li", {}, "No projects yet.")]));
  } else projects.append(h("li", {}, "Work queues need an admin token."));
  sections.push(h("section", { "aria-labelledby": "p-h" }, h("h2", { id: "p-h" }, "Work projects"),
    projects, opener("Project id", "project-id", "tasks")));
  main.replaceChildren(h("div", { class: "index" }, ...sections));
}, { live: false });
