/**
 * A loopback radio medium for tests and simulations: every adapter on one medium hears every other
 * adapter's transmissions (never its own), with the signal a link function gives.
 */
import type { Downlink, RadioAdapter, Uplink } from "./adapter.js";

/** Signal at `to` of a transmission from `from` (null: out of range, not heard). */
export type LinkFunction = (
  from: string,
  to: string,
  downlink: Downlink,
) => { readonly rssi: number; readonly snr: number } | null;

export class LoopbackMedium {
  private readonly adapters = new Map<string, LoopbackAdapter>();

  constructor(private readonly link: LinkFunction) {}

  adapter(name: string): LoopbackAdapter {
    if (this.adapters.has(name)) throw new Error(`loopback adapter ${name} exists`);
    const a = new LoopbackAdapter(name, this);
    this.adapters.set(name, a);
    return a;
  }

  /** @internal */
  deliver(from: string, downlink: Downlink): void {
    for (const [name, a] of this.adapters) {
      if (name === from) continue;
      const signal = this.link(from, name, downlink);
      if (signal === null) continue;
      a.receive({
        data: downlink.data.slice(),
        frequency: downlink.frequency,
        modulation: downlink.modulation,
        ...signal,
      });
    }
  }
}

export class LoopbackAdapter implements RadioAdapter {
  private listener: ((u: Uplink) => void) | undefined;

  constructor(
    readonly name: string,
    private readonly medium: LoopbackMedium,
  ) {}

  async start(onUplink: (u: Uplink) => void): Promise<void> {
    this.listener = onUplink;
  }

  async transmit(downlink: Downlink): Promise<void> {
    if (this.listener === undefined) throw new Error(`loopback adapter ${this.name} is not started`);
    // Asynchronously, as a radio would: the transmitter's own bookkeeping runs first.
    setImmediate(() => this.medium.deliver(this.name, downlink));
  }

  /** @internal */
  receive(u: Uplink): void {
    this.listener?.(u);
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }
}
