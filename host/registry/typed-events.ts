/** A small typed event emitter: listeners may be async; a failing listener is logged and never breaks the emitter. */
import type { HostLogger, Unsubscribe } from '../../plugin/host-contract/index.js';

type Listener<P> = (payload: P) => void | Promise<void>;

export class TypedEvents<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();

  constructor(
    private readonly logger: HostLogger,
    private readonly source: string,
  ) {}

  on<E extends keyof M>(event: E, listener: Listener<M[E]>): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const entry = listener as Listener<never>;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Calls every listener in registration order and waits for the async ones. */
  async emit<E extends keyof M>(event: E, payload: M[E]): Promise<void> {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        await (listener as Listener<M[E]>)(payload);
      } catch (error) {
        this.logger.error(`${this.source}: a listener of ${String(event)} failed`, { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
