/**
 * Bounded retries with exponential backoff for RPC round trips. Only failures that look like a
 * lost round trip (network, timeout, server error) are retried; a revert or a bad argument is not:
 * retrying it would fail the same way.
 */
export interface RetryOptions {
  /** Attempts in all (first try included). Default 5. */
  readonly attempts?: number;
  /** First backoff delay; doubles each retry. Default 250 ms. */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const TRANSIENT = new Set([
  "NETWORK_ERROR",
  "TIMEOUT",
  "SERVER_ERROR",
  "UNKNOWN_ERROR",
  "ECONNRESET",
  "ECONNREFUSED",
]);

/** Whether an error looks like a failed RPC round trip rather than a revert or a bad argument. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.has(code);
}

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 250;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      const delay = base * 2 ** (attempt - 1);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
