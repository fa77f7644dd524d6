// A minimal event emitter shared by the connection and the client: `on(type, fn)` returns a
// function that unsubscribes; a listener that throws is reported on the console and does
// not stop the others (a rendering bug must not take the protocol down with it).

export class Emitter {
  #listeners = new Map();

  /** Calls `fn(...args)` on every `type` event; returns the unsubscribe function. */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
    return () => this.#listeners.get(type)?.delete(fn);
  }

  emit(type, ...args) {
    for (const fn of this.#listeners.get(type) ?? []) {
      try {
        fn(...args);
      } catch (error) {
        console.error(`tickwire: a "${type}" listener threw:`, error);
      }
    }
  }
}
