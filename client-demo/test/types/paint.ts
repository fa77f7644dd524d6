// The paint example's page in TypeScript, against paint's generated types
// (generated/paint.d.ts, from `cargo run --example paint -- schema --typescript`).

import { Client, socketUrl } from "../../tickwire/index.js";
import type { Brush, Game, PaintInput } from "./generated/paint.js";

const mouse: PaintInput = { x: 0, y: 0, down: false };
const client = new Client<Game>({
  url: socketUrl({ protocol: "https:", host: "paint.example" }, "ada", "/ws", { sheet: "3" }),
  game: "paint",
  input: () => ({ x: mouse.x, y: mouse.y, down: mouse.down }),
  interpolation: { component: "Cursor" },
});
client.on("welcome", (welcome) => welcome.game.width * welcome.game.height);
client.onAdd("Cell", (id, cell) => `${cell.x},${cell.y} rgb(${cell.color.join(",")})`);
client.onChange("Canvas", (id, canvas, previous) => canvas.strokes - previous.strokes);
client.onRemove("Painter", (id, painter) => painter.name);
// An enum component: a unit variant's name, or a one-key object.
const painting = (brush: Brush): string => (brush === "Lifted" ? "up" : `at ${brush.Painting.x},${brush.Painting.y}`);
client.onChange("Brush", (id, brush) => painting(brush));

function draw(now: number): string[] {
  client.frame(now);
  const view = client.view(now);
  if (!view) return [];
  const cursors = view.entities.map(({ entity, value }) => `${entity.get("Painter")?.name}@${value.x},${value.y}`);
  const own = view.own?.entity.get("Cursor");
  return own ? [...cursors, `me@${own.x},${own.y}`] : cursors;
}
draw(0);
