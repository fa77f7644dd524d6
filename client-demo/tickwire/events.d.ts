// Declarations of events.js: the small event emitter of Connection and Client.

/** The listener arguments of event `K` in an event map. */
export type EventArgs<E, K extends keyof E> = E[K] extends unknown[] ? E[K] : never;

/** An event emitter over an event map (`{ name: [argument, ...] }`). */
export declare class Emitter<E extends object = Record<string, unknown[]>> {
  /** Calls `fn(...args)` on every `type` event; returns the unsubscribe function. */
  on<K extends keyof E & string>(type: K, fn: (...args: EventArgs<E, K>) => void): () => void;
  /** Calls every `type` listener; one that throws is reported and does not stop the others. */
  emit<K extends keyof E & string>(type: K, ...args: EventArgs<E, K>): void;
}
