// The arena on the tickwire client library: which components it predicts and interpolates,
// its input, and the replica read as players and orbs for drawing. The only file that
// knows the arena's component names (docs/protocol.md, "The arena").

import { Client } from "./tickwire/index.js";
import { BUTTON_BOOST, movementRules, step } from "./movement.js";

export const GAME = "arena";
export { BUTTON_BOOST };
/** Drawn when a component is missing (never, from this server). */
const DEFAULT_COLOR = [128, 128, 128];

const rulesByWelcome = new WeakMap();
function rulesFor(welcome) {
  if (!rulesByWelcome.has(welcome)) rulesByWelcome.set(welcome, movementRules(welcome.game, welcome.tick_rate_hz));
  return rulesByWelcome.get(welcome);
}

/** One tick of the own player, on the prediction state {Position, Velocity} (world units). */
export function predict(state, input, dt, welcome) {
  const body = { px: state.Position.x, py: state.Position.y, vx: state.Velocity.x, vy: state.Velocity.y };
  const next = step(body, input, rulesFor(welcome));
  return { Position: { x: next.px, y: next.py }, Velocity: { x: next.vx, y: next.vy } };
}

// What the own player just touched (an orb it ate) vanishes now: it is drawn in the present.
function touchesOwn(gone, replica) {
  const own = replica.own;
  if (!gone || !own) return false;
  const a = gone.get("Position"), b = own.get("Position");
  if (!a || !b) return false;
  const margin = 1; // a tick of travel, in world units
  return Math.hypot(a.x - b.x, a.y - b.y) < (gone.get("Radius")?.radius ?? 0) + (own.get("Radius")?.radius ?? 0) + margin;
}

/** A Client for the arena: `input()` is the page's input mapping, sampled every tick. */
export function arenaClient(url, input, token = null) {
  return new Client({
    url,
    game: GAME,
    token,
    // Served by the server itself, whose /authcheck explains a refused join (a page signed
    // in by cookie has no token to say so).
    authcheck: true,
    input,
    prediction: { components: ["Position", "Velocity"], predict, smooth: "Position" },
    interpolation: { component: "Position", vanishNow: touchesOwn },
  });
}

/** How an entity is drawn, from its components: kind, name, score, color, radius. */
export function describe(entity) {
  return {
    kind: entity.has("Orb") ? "Orb" : "Player",
    name: entity.get("Name") ?? "",
    score: entity.get("Score") ?? 0,
    color: entity.get("Color") ?? DEFAULT_COLOR,
    radius: entity.get("Radius")?.radius ?? 1,
  };
}

/**
 * Everything to draw at `nowMs`, in world units, or null before the first snapshot: the own
 * player (predicted and smoothed) and the others (interpolated), each with its raw server
 * position (serverX, serverY; null once gone) for the debug view.
 */
export function scene(client, nowMs) {
  const view = client.view(nowMs);
  if (!view?.own?.drawn) return null;
  const replica = client.replica;
  const withServer = (id, entity, at) => {
    const now = replica.entities.get(id)?.get("Position");
    return { id, ...describe(entity), x: at.x, y: at.y, serverX: now?.x ?? null, serverY: now?.y ?? null };
  };
  return {
    renderTick: view.renderTick,
    self: withServer(view.own.id, view.own.entity, view.own.drawn),
    entities: view.entities.map(({ id, entity, value }) => withServer(id, entity, value)),
  };
}

/** The own player's motion for FrameStats: whether `input` asks for motion, the predicted
 *  speed, and the top speed the rules allow for that input (boost or not). */
export function ownMotion(client, input) {
  const movement = client.welcome?.game.movement;
  const velocity = client.predicted?.Velocity;
  if (!movement || !velocity || !input) return { input, moving: false, speed: 0, cap: Infinity };
  return {
    input,
    moving: input.move_x !== 0 || input.move_y !== 0,
    speed: Math.hypot(velocity.x, velocity.y),
    cap: input.buttons & BUTTON_BOOST ? movement.boost_max_speed : movement.max_speed,
  };
}

/** Players in the replica (the server's truth), world units, highest score first. */
export function players(replica) {
  const out = [];
  for (const [id, entity] of replica?.entities ?? []) {
    if (entity.has("Orb")) continue;
    const { name, score, color } = describe(entity);
    const at = entity.get("Position");
    out.push({ id, name, score, color, x: at.x, y: at.y });
  }
  return out.sort((a, b) => b.score - a.score || a.id - b.id);
}
