// The host's big screen for a poem game: players and who has written this round (never what),
// the round and its word count, a progress bar, and at the end the poems, laid out to read.
//
// Data: subscription gameEvents(gameId) only (SNAPSHOT, then PLAYER_JOINED, PLAYER_LEFT,
// HOST_CHANGED, GAME_STARTED, LINE_SUBMITTED, ROUND_ADVANCED, GAME_COMPLETED, GAME_ABANDONED);
// every event carries the whole game as the viewer may see it (poems stay empty until the end).
import { boot, h, showError } from "./common.js";

const GAME_EVENTS = `subscription($g: ID!) { gameEvents(gameId: $g) {
  kind sequence resync byBot player { id displayName }
  game { id code status round roundWordCounts turnSeconds roundDeadline
    host { id displayName }
    players { id displayName seat submittedThisRound isBot left }
    poems { index lines { round text byBot author { id displayName } } }
    readers { poemIndex reader { id displayName } } } } }`;

const STATUS = { LOBBY: "In the lobby", IN_PROGRESS: "Playing", COMPLETED: "Finished", ABANDONED: "Ended early" };

function words(n) {
  return `${n} ${n === 1 ? "word" : "words"}`;
}

boot(async ({ client, main }) => {
  const gameId = decodeURIComponent(location.pathname.split("/").pop());
  const heading = h("h2", { id: "game-h" }, "Game");
  const summary = h("p", { class: "summary" });
  const progressLabel = h("label", { for: "progress" });
  const progress = h("progress", { id: "progress", max: 1, value: 0 });
  const roundsLabel = h("label", { for: "rounds" });
  const rounds = h("progress", { id: "rounds", max: 1, value: 0 });
  const players = h("ul", { class: "players", "aria-label": "Players" });
  const ticker = h("p", { class: "ticker", "aria-live": "polite" });
  const poems = h("section", { class: "poems", "aria-labelledby": "poems-h", hidden: true });
  main.replaceChildren(h("div", { class: "game" },
    h("section", { class: "stage", "aria-labelledby": "game-h" }, heading, summary,
      h("div", { class: "bars" }, h("div", {}, progressLabel, progress), h("div", {}, roundsLabel, rounds)),
      players, ticker),
    poems));

  function render(game) {
    document.title = `Game ${game.code} · Allot`;
    heading.textContent = game.status === "LOBBY" ? `Join with code ${game.code}` : `Game ${game.code}`;
    const total = game.roundWordCounts.length;
    const playing = game.status === "IN_PROGRESS";
    const done = game.status === "COMPLETED" || game.status === "ABANDONED";
    summary.replaceChildren(
      h("strong", {}, STATUS[game.status] ?? game.status),
      playing ? ` · Round ${game.round + 1} of ${total} · ${words(game.roundWordCounts[game.round])} a line` : "",
      game.status === "LOBBY" ? ` · ${game.players.length} ${game.players.length === 1 ? "player" : "players"} so far · hosted by ${game.host.displayName}` : "",
      done ? ` · ${total} rounds (${game.roundWordCounts.join(", ")} words)` : "",
    );
    const written = game.players.filter((p) => p.submittedThisRound).length;
    progress.max = Math.max(1, game.players.length);
    progress.value = playing ? written : done ? game.players.length : 0;
    progressLabel.textContent = playing ? `Lines written this round: ${written} of ${game.players.length}` : done ? "All lines written" : "Waiting for the host to start";
    rounds.max = total;
    rounds.value = done ? total : playing ? game.round : 0;
    roundsLabel.textContent = done ? `Rounds: ${total} of ${total}` : `Rounds finished: ${playing ? game.round : 0} of ${total}`;
    players.replaceChildren(...game.players.map((p) => {
      const state = !playing ? "" : p.submittedThisRound ? "written" : "writing";
      const mark = state === "written" ? "✓ " : state === "writing" ? "… " : "";
      return h("li", { class: `player ${state}`, "data-player": p.displayName },
        h("span", { class: "name" }, p.displayName),
        h("span", { class: "tags" }, p.id === game.host.id ? " host" : "", p.isBot ? " bot" : "", p.left ? " left" : ""),
        h("span", { class: "state" }, state ? `${mark}${state}` : ""));
    }));
    if (done && game.poems.length) {
      const readers = new Map(game.readers.map((r) => [r.poemIndex, r.reader.displayName]));
      poems.hidden = false;
      poems.replaceChildren(h("h2", { id: "poems-h" }, "The poems"), ...game.poems.map((poem) =>
        h("article", { class: "poem", "aria-labelledby": `poem-${poem.index}` },
          h("h3", { id: `poem-${poem.index}` }, `Poem ${poem.index + 1}`),
          readers.has(poem.index) ? h("p", { class: "reader" }, `Read aloud by ${readers.get(poem.index)}`) : null,
          h("ol", { class: "lines" }, poem.lines.map((line) =>
            h("li", {}, h("span", { class: "text" }, line.text),
              h("small", {}, line.byBot ? `${line.author.displayName} (bot)` : line.author.displayName)))))));
    } else {
      poems.hidden = true;
      poems.replaceChildren();
    }
  }

  client.subscribe(GAME_EVENTS, { g: gameId }, "gameEvents", {
    next: (event) => {
      render(event.game);
      const who = event.player?.displayName;
      const text = {
        PLAYER_JOINED: `${who} joined.`,
        PLAYER_LEFT: `${who} left; a bot writes their lines.`,
        HOST_CHANGED: `${event.game.host.displayName} is the host now.`,
        GAME_STARTED: "The game has started.",
        LINE_SUBMITTED: `${who} wrote their line${event.byBot ? " (by a bot)" : ""}.`,
        ROUND_ADVANCED: `Round ${event.game.round + 1} begins.`,
        GAME_COMPLETED: "The poems are revealed.",
        GAME_ABANDONED: "The game ended; the poems are revealed as they stand.",
      }[event.kind];
      if (text) ticker.textContent = text;
    },
    error: (errors) => showError(main, errors.some((e) => e.extensions?.code === "NOT_FOUND")
      ? "This game is not one this token plays in (the big screen needs a player's token, e.g. the host's)."
      : `The game cannot be watched: ${errors.map((e) => e.message).join("; ")}`),
  });
});
