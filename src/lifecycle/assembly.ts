/**
 * Components built from a list of factories (after the Collector's service, which builds its
 * pipeline graph from factories instead of wiring everything in one function). The list's order
 * is the order the components start in (and, reversed, stop in); each is built when first asked
 * for, so a factory may use a component listed after it (an output started before the receiver
 * that feeds it can still ask the receiver for its state, lazily or at build time).
 */
import type { Component } from './component.js';

export type Factories<H, P> = { readonly [K in keyof P]: (a: Assembly<H, P>) => P[K] };

export class Assembly<H, P> {
  private readonly built = new Map<keyof P, unknown>();
  private readonly building = new Set<keyof P>();
  private readonly helpers = new Map<string, unknown>();

  constructor(
    readonly host: H,
    private readonly factories: Factories<H, P>,
  ) {}

  /** The component of that name, built by its factory at the first call; null when this configuration has none. */
  get<K extends keyof P>(name: K): P[K] {
    if (this.built.has(name)) return this.built.get(name) as P[K];
    if (this.building.has(name)) throw new Error(`component ${String(name)} needs itself to be built`);
    this.building.add(name);
    const part = this.factories[name](this);
    this.building.delete(name);
    this.built.set(name, part);
    return part;
  }

  /** Something several factories share that is not a component (the ingest core): made once. */
  shared<T>(key: string, make: () => T): T {
    if (!this.helpers.has(key)) this.helpers.set(key, make());
    return this.helpers.get(key) as T;
  }

  /**
   * Every component of this configuration, in start order. An entry without any lifecycle
   * method (the metrics sink) is one all the same: the contract's methods are all optional.
   */
  components(): Component[] {
    return (Object.keys(this.factories) as (keyof P)[]).flatMap((name) => (this.get(name) ?? []) as Component | never[]);
  }
}
