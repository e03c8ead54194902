/**
 * The chain-time clock (`clock.mode: "chain"`): receive times and entropy follow the chain's clock
 * instead of the host's, for local nodes whose time is moved (evm_increaseTime, anvil_setTime), so no
 * hand-set `clock.offsetMs` is needed. A node's time runs with the host's plus an offset it changes
 * when told to; each new block shows the current offset (its timestamp minus the host time when it
 * was first seen, at most one poll late). Between blocks the clock runs with the host's. It never
 * goes backwards.
 */
import type { JsonRpcProvider } from "ethers";

export class ChainClock {
  private offsetMs = 0;
  private lastBlock = -1;
  private lastNow = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly provider: Pick<JsonRpcProvider, "getBlock">,
    private readonly extraMs: number,
  ) {}

  /** Reads the latest block once (so the first receive time is already chain time), then polls. */
  static async start(
    provider: Pick<JsonRpcProvider, "getBlock">,
    options: {
      readonly pollMs?: number;
      readonly offsetMs?: number;
      readonly onError?: (e: unknown) => void;
    } = {},
  ): Promise<ChainClock> {
    const clock = new ChainClock(provider, options.offsetMs ?? 0);
    await clock.sync();
    clock.timer = setInterval(
      () => void clock.sync().catch((e: unknown) => options.onError?.(e)),
      options.pollMs ?? 1_000,
    );
    clock.timer.unref();
    return clock;
  }

  /** Takes the offset from the latest block when it is one not seen before. */
  async sync(): Promise<void> {
    const block = await this.provider.getBlock("latest");
    if (block === null || block.number === this.lastBlock) return;
    this.lastBlock = block.number;
    this.offsetMs = block.timestamp * 1000 - Date.now();
  }

  /** Chain time now, Unix ms. */
  readonly now = (): number => {
    const t = Math.max(this.lastNow, Date.now() + this.offsetMs + this.extraMs);
    this.lastNow = t;
    return t;
  };

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
