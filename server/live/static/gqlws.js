// A small client for the graphql-transport-ws protocol, as Allot's pages need it.
//
// The protocol is short and documented:
//   https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
// client -> connection_init {payload}; server -> connection_ack; client -> subscribe
// {id, payload: {query, variables}}; server -> next {id, payload} ... complete {id} or error
// {id, payload: [errors]}; either side -> ping, answered with pong. A socket refused for its
// token is closed with 4403 (and its reason says why): then we stop and say so.
//
// Reconnects with exponential backoff (0.5 s doubling up to 10 s, with jitter). Every Allot
// subscription starts with a SNAPSHOT, then deltas whose `sequence` goes up by one: after a
// reconnect, or on a gap in the sequence, the subscription is started again, so its first
// event is a fresh SNAPSHOT, and the state shown is "resynced".

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const RESYNCED_SHOWN_MS = 4_000;

export class LiveClient {
  /**
   * @param {{url: string, token: string, onState: (state: string, detail?: string) => void}} options
   *   onState gets "connecting", "live", "reconnecting", "resynced" or "refused".
   */
  constructor({ url, token, onState }) {
    this.url = url;
    this.token = token;
    this.onState = onState;
    this.subs = new Map(); // operation id -> subscription
    this.nextId = 1;
    this.attempt = 0;
    this.everAcked = false;
    this.stopped = false;
    this.resyncTimer = 0;
    this.state = "";
    this.setState("connecting");
    this.connect();
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url, "graphql-transport-ws");
    this.ws = ws;
    this.acked = false;
    ws.onopen = () => {
      this.send({ type: "connection_init", payload: { authorization: `Bearer ${this.token}` } });
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(JSON.parse(event.data));
    };
    ws.onclose = (event) => {
      if (ws === this.ws) this.closed(event);
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack": {
        this.acked = true;
        const again = this.everAcked;
        this.everAcked = true;
        this.attempt = 0;
        const subs = [...this.subs.values()];
        this.subs.clear();
        for (const sub of subs) {
          sub.resyncing = again;
          this.start(sub);
        }
        if (!again) this.setState("live");
        break;
      }
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next": {
        const sub = this.subs.get(message.id);
        if (sub) this.deliver(sub, message.payload);
        break;
      }
      case "error": {
        const sub = this.subs.get(message.id);
        if (sub) {
          this.subs.delete(message.id);
          sub.handlers.error?.(message.payload);
        }
        break;
      }
      case "complete":
        this.subs.delete(message.id);
        break;
      default:
        break;
    }
  }

  deliver(sub, payload) {
    if (payload.errors?.length) {
      sub.handlers.error?.(payload.errors);
      return;
    }
    const event = payload.data?.[sub.field];
    if (!event) return;
    if (sub.fresh) {
      // the first event of a (re)started subscription: its SNAPSHOT
      sub.fresh = false;
      sub.last = event.sequence;
      sub.handlers.next(event, true);
      if (sub.resyncing || event.resync) this.resynced();
      sub.resyncing = false;
      return;
    }
    if (event.sequence !== sub.last + 1) {
      // a gap: what we hold may be wrong; start again from a fresh SNAPSHOT
      this.send({ type: "complete", id: sub.id });
      this.subs.delete(sub.id);
      sub.resyncing = true;
      this.start(sub);
      return;
    }
    sub.last = event.sequence;
    if (event.resync) {
      // the server lost its database connection or we read too slowly: replace our state
      sub.handlers.next(event, true);
      this.resynced();
      return;
    }
    sub.handlers.next(event, false);
  }

  resynced() {
    this.setState("resynced");
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => {
      if (this.state === "resynced") this.setState("live");
    }, RESYNCED_SHOWN_MS);
  }

  closed(event) {
    this.acked = false;
    if (this.stopped) return;
    if (event.code === 4403) {
      this.stopped = true;
      this.setState("refused", event.reason || "Forbidden");
      return;
    }
    this.setState("reconnecting");
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay * (0.75 + Math.random() * 0.25));
  }

  start(sub) {
    sub.id = String(this.nextId++);
    sub.fresh = true;
    sub.last = 0;
    this.subs.set(sub.id, sub);
    if (this.acked) {
      this.send({ type: "subscribe", id: sub.id, payload: { query: sub.query, variables: sub.variables } });
    }
  }

  /**
   * Subscribe; `field` is the subscription's root field (its events carry `sequence`).
   * handlers.next(event, isSnapshot) and handlers.error(errors).
   * Returns {stop()}.
   */
  subscribe(query, variables, field, handlers) {
    const sub = { query, variables, field, handlers, id: "", fresh: true, last: 0, resyncing: false };
    this.start(sub);
    return {
      stop: () => {
        if (this.subs.get(sub.id) === sub) {
          this.subs.delete(sub.id);
          this.send({ type: "complete", id: sub.id });
        }
      },
    };
  }
}
