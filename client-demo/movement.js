// The arena's movement rules (docs/protocol.md, "The arena"), step for step, in f32: what
// the arena predicts for its own player.
//
// JavaScript computes in f64; rounding with Math.fround after every single operation
// gives exactly the f32 result the server gets, because f64 holds every f32 sum, product,
// quotient and square root with room to round once. That is what makes prediction match
// the server bit for bit, so reconciliation on loopback moves nothing.
//
// Collisions between players and eating orbs are not predicted: the server corrects them.

/** Input button bit: boost. */
export const BUTTON_BOOST = 1;
/** Positions are 1/64 unit fixed point, velocities 1/64 unit per second (the schema's
 *  scales for Position and Velocity); the server snaps its state to that grid every tick. */
const POSITION_SCALE = 64;
const VELOCITY_SCALE = 64;

const f = Math.fround;

/** Rust's f32::round: half away from zero (Math.round rounds half up). */
function roundHalfAway(x) {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * The constants a step needs, all f32, taken from a Welcome (never hard-coded).
 * @param {object} game the Welcome's game value (ArenaWelcome)
 * @param {number} tickRateHz the Welcome's tick rate
 */
export function movementRules(game, tickRateHz) {
  const m = game.movement;
  return {
    dt: f(1 / tickRateHz),
    accel: f(m.accel),
    boostAccel: f(m.boost_accel),
    friction: f(m.friction),
    maxSpeed: f(m.max_speed),
    boostMaxSpeed: f(m.boost_max_speed),
    radius: f(m.player_radius),
    worldWidth: f(game.world_width),
    worldHeight: f(game.world_height),
  };
}

/**
 * One tick of one player. `body` is {px, py, vx, vy} in world units (per second for v);
 * returns the next body and leaves the argument alone.
 */
export function step(body, input, rules) {
  const { dt, radius: r } = rules;
  let dx = f(input.move_x / 127);
  let dy = f(input.move_y / 127);
  const len2 = f(f(dx * dx) + f(dy * dy));
  if (len2 > 1) {
    const len = f(Math.sqrt(len2));
    dx = f(dx / len);
    dy = f(dy / len);
  }
  const boost = (input.buttons & BUTTON_BOOST) !== 0;
  const a = boost ? rules.boostAccel : rules.accel;
  const cap = boost ? rules.boostMaxSpeed : rules.maxSpeed;

  let vx = f(body.vx + f(f(dx * a) * dt));
  let vy = f(body.vy + f(f(dy * a) * dt));
  let k = f(1 - f(rules.friction * dt));
  if (k < 0) k = 0;
  vx = f(vx * k);
  vy = f(vy * k);
  const s2 = f(f(vx * vx) + f(vy * vy));
  if (s2 > f(cap * cap)) {
    const scale = f(cap / f(Math.sqrt(s2)));
    vx = f(vx * scale);
    vy = f(vy * scale);
  }

  let px = f(body.px + f(vx * dt));
  let py = f(body.py + f(vy * dt));
  [px, vx] = wall(px, vx, r, f(rules.worldWidth - r));
  [py, vy] = wall(py, vy, r, f(rules.worldHeight - r));

  return {
    px: f(roundHalfAway(f(px * POSITION_SCALE)) / POSITION_SCALE),
    py: f(roundHalfAway(f(py * POSITION_SCALE)) / POSITION_SCALE),
    vx: f(Math.trunc(f(vx * VELOCITY_SCALE)) / VELOCITY_SCALE),
    vy: f(Math.trunc(f(vy * VELOCITY_SCALE)) / VELOCITY_SCALE),
  };
}

/** Keeps one axis inside [low, high], stopping motion into the wall. */
function wall(p, v, low, high) {
  if (p < low) {
    p = low;
    if (v < 0) v = 0;
  }
  if (p > high) {
    p = high;
    if (v > 0) v = 0;
  }
  return [p, v];
}
