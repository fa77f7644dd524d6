// The arena's page as a TypeScript user writes it: the client library's declarations
// (tickwire/*.d.ts) with the arena's generated types (generated/arena.d.ts, from
// `tickwire schema --typescript`). tsc checks it in scripts/test; nothing runs it.

import {
  Client, CloseCode, decodeServerMessage, Entity, Interpolator, Predictor, Replica, Schema, socketUrl,
} from "../../tickwire/index.js";
import type { ConnectionStatus, PredictionState, Rematch, SnapshotReport, View, Welcome } from "../../tickwire/index.js";
import type { ArenaEvent, ArenaInput, ArenaWelcome, Game } from "./generated/arena.js";

type Predicted = "Position" | "Velocity";

function predict(state: PredictionState<Game, Predicted>, input: ArenaInput, dt: number, welcome: Welcome<Game>) {
  const rules: ArenaWelcome = welcome.game;
  const ax = (input.move_x / 127) * rules.movement.accel;
  const vx = state.Velocity.x + ax * dt;
  return { Position: { x: state.Position.x + vx * dt, y: state.Position.y }, Velocity: { x: vx, y: state.Velocity.y } };
}

const held: ArenaInput = { move_x: 127, move_y: 0, buttons: 0 };
const client = new Client<Game, Predicted>({
  url: socketUrl({ protocol: "http:", host: "localhost:8080" }, "ada", "/ws", { room: "duel" }),
  game: "arena",
  input: () => held,
  prediction: { components: ["Position", "Velocity"], predict, smooth: "Position", snapDistance: 4 },
  interpolation: { component: "Position", vanishNow: (gone, replica) => gone.has("Orb") && replica.own !== undefined },
});

// Every event with its payload.
client.on("status", (status: ConnectionStatus) => status.state === "open" && status.rttMs !== null);
client.on("open", () => {});
client.on("welcome", (welcome, schema) => {
  const size: number = welcome.game.world_width;
  const game: string = schema.game;
  return [size, game];
});
client.on("snapshot", (replica: Replica<Game>, report: SnapshotReport) => replica.tick + report.spawned.length);
client.on("event", (event: ArenaEvent, tick: number) => {
  if (typeof event === "object" && "Chat" in event) return `${tick} ${event.Chat.from}: ${event.Chat.text}`;
  if ("Milestone" in event) return event.Milestone.score.toFixed(0);
  return null;
});
client.on("pong", (pong, rttMs) => pong.clients + rttMs);
client.on("error", (reason: string) => reason.length);
client.on("close", (status) => status.code === CloseCode.ROOM_FULL);
client.on("rematch", (rematch: Rematch) => rematch.previousProcess ?? rematch.process);

// Methods.
client.connect();
client.connect({ matchmake: "https://play.example", room: "duel", name: "ada" });
const sent: boolean = client.send({ Chat: { text: "hi" } });
client.frame(performance.now());
const view: View<Game, Predicted> | null = client.view(performance.now());
if (view?.own?.state) {
  const x: number = view.own.state.Position.x + (view.own.drawn?.x ?? 0);
  const others = view.entities.map(({ id, entity, value }) => [id, entity.get("Name"), value.x, x]);
  void others;
}
const pending: number = client.session?.predictor?.pending.length ?? 0;
const delay: number = client.session?.interpolator?.delayMs ?? client.session?.clock.tickMs ?? pending;
void delay;
const stats = client.stats;
if (stats) void [stats.delayMs, stats.frames, stats.corrections];
client.close("bye");

// Change callbacks: typed by component.
const offs = [
  client.onAdd("Name", (id, name: string) => `${id} ${name}`),
  client.onChange("Score", (id, score: number, previous: number) => score - previous),
  client.onRemove("Color", (id, previous: [number, number, number]) => previous[0]),
  client.onAdd("Position", (id, at) => at.x + at.y),
  client.onAdd("Orb", (id, marker: null) => marker),
  client.onSpawn((id, entity: Entity<Game>) => entity.has("Orb")),
  client.onDespawn((id, entity) => entity.get("Score")),
];
offs.forEach((off) => off());

// Entities and the replica.
const replica = client.replica;
if (replica) {
  const own = replica.own;
  const radius: number | undefined = own?.get("Radius")?.radius;
  const raw: [number, number] | undefined = own?.raw("Position");
  const color: [number, number, number] | undefined = own?.get("Color");
  void [radius, raw, color, own?.toObject().Name];
}

// The lower pieces, headless.
declare const bytes: Uint8Array;
const welcome = decodeServerMessage<Game>(bytes);
if (welcome.type === "Welcome") {
  const schema = new Schema<Game>(welcome.schema);
  const headless = new Replica<Game>(schema, welcome.entity_id);
  const message = decodeServerMessage(bytes, schema);
  if (message.type === "Full" || message.type === "Delta") headless.apply(message);
  const predictor = new Predictor<Game, Predicted>({
    components: ["Position", "Velocity"], predict, tickRateHz: welcome.tick_rate_hz, welcome,
  });
  if (headless.own) predictor.reconcile(headless.own, headless.lastInputSeq, 0);
  const interpolator = new Interpolator<Game>(schema, { component: "Position", tickRateHz: 30 });
  interpolator.record(headless, { spawned: [], despawned: [], changed: [] }, null);
  void [interpolator.frame(12.5).renderTick, predictor.state?.Velocity.y];
}
void sent;
