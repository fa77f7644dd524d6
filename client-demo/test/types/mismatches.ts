// What the declarations must refuse: each line below is an error, and tsc fails on an
// `@ts-expect-error` that finds none. A declaration that grows too loose (an `any`, a
// missing event payload) fails the check here.

import { Client, Replica } from "../../tickwire/index.js";
import type { Game } from "./generated/arena.js";

declare const client: Client<Game, "Position" | "Velocity">;
declare const replica: Replica<Game>;

// @ts-expect-error a component the arena does not have
client.onAdd("Health", () => {});
// @ts-expect-error Score is a number, not a string
client.onChange("Score", (id, score: string) => score);
// @ts-expect-error a message the arena does not take
client.send({ Shout: { text: "hi" } });
// @ts-expect-error Chat carries {text}
client.send({ Chat: "hi" });
// @ts-expect-error an event name the client does not emit
client.on("snapshots", () => {});
// @ts-expect-error "event" hands the game's event, not a string
client.on("event", (event: string) => event);
// @ts-expect-error Position is {x, y} when read, not its integers
const position: [number, number] | undefined = replica.own?.get("Position");
// @ts-expect-error an input lacks buttons
new Client<Game>({ url: "ws://h/ws", input: () => ({ move_x: 1, move_y: 0 }) });
// @ts-expect-error frame wants the time
client.frame();
void position;
