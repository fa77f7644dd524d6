// The paint example's page in TypeScript, against paint's generated types
// (generated/paint.d.ts, from `cargo run --example paint -- schema --typescript`).

import { Client, socketUrl } from "../../tickwire/index.js";
import type { Game, PaintInput } from "./generated/paint.js";

const mouse: PaintInput = { x: 0, y: 0, down: false };
const client = new Client<Game>({
  url: socketUrl({ protocol: "https:", host: "paint.example" }, "ada"),
  game: "paint",
  input: () => ({ x: mouse.x, y: mouse.y, down: mouse.down }),
  interpolation: { component: "Cursor" },
});
client.on("welcome", (welcome) => welcome.game.width * welcome.game.height);
client.onAdd("Cell", (id, cell) => `${cell.x},${cell.y} rgb(${cell.color.join(",")})`);
client.onChange("Canvas", (id, canvas, previous) => canvas.strokes - previous.strokes);
client.onRemove("Painter", (id, painter) => painter.name);

function draw(now: number): string[] {
  client.frame(now);
  const view = client.view(now);
  if (!view) return [];
  const cursors = view.entities.map(({ entity, value }) => `${entity.get("Painter")?.name}@${value.x},${value.y}`);
  const own = view.own?.entity.get("Cursor");
  return own ? [...cursors, `me@${own.x},${own.y}`] : cursors;
}
draw(0);
