/**
 * What the storage and compute oracles share: a round run every `intervalMs`, never two at once, and
 * the collection of what each peer's API serves at one path (a peer that fails or answers nonsense
 * contributes nothing).
 */
export class RoundTimer<R> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly round: () => Promise<R>) {}

  /** Runs a round now and every `intervalMs` after (skipped while one runs); errors go to `onError`. */
  start(intervalMs: number, onRound: (r: R) => void, onError: (e: unknown) => void): void {
    const run = () => {
      if (this.running) return;
      this.running = this.round()
        .then(onRound, onError)
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(run, intervalMs);
    run();
  }

  /** Stops the timer and waits for the round in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** `pick(body)` of each peer's JSON answer at `path` (200 only), in peer order. */
export async function collectFromPeers<T>(
  peers: readonly string[],
  path: string,
  pick: (body: unknown) => readonly T[],
  timeoutMs = 10_000,
): Promise<T[]> {
  const out: T[] = [];
  for (const peer of peers) {
    try {
      const res = await fetch(`${peer.replace(/\/$/, "")}${path}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) continue;
      out.push(...pick(await res.json()));
    } catch {
      continue;
    }
  }
  return out;
}
