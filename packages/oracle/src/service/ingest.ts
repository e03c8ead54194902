/**
 * Report ingestion with group commit. The API hands each request's report texts to `submit`;
 * texts that do not parse are refused at once (nothing stored). The rest are stamped with the
 * oracle's receive time and queued; one flush writes everything queued in ONE store transaction
 * (one fsync) and only then resolves the requests, so an acknowledgement always follows a durable
 * write, and concurrent submissions share the cost of the commit.
 */
import { keccak256, parseReport, toHex, type Hex, type ParseError } from "@hexmesh/protocol";

import type { InsertedReport, OracleStore, ReportInput } from "../store/types.js";

export type SubmitResult =
  | { readonly status: "accepted" | "duplicate"; readonly hash: Hex; readonly receivedAt: number }
  | {
      readonly status: "refused";
      readonly reason: "malformed";
      readonly code: string;
      readonly detail: string;
    };

/** A parsed report ready to store, or why it was refused. */
export type Checked =
  | { readonly ok: true; readonly input: ReportInput }
  | { readonly ok: false; readonly result: SubmitResult & { status: "refused" } };

export interface IngestorOptions {
  /** Receive-time clock (Unix ms). */
  readonly clock: () => number;
  /** Overrides the clock per report (the "device-timestamp" replay clock). */
  readonly stamp?: (raw: string) => number;
  /** Most reports in one transaction. Default 10,000. */
  readonly maxBatch?: number;
}

interface Waiting {
  readonly inputs: ReportInput[];
  readonly resolve: (r: InsertedReport[]) => void;
  readonly reject: (e: unknown) => void;
}

const utf8 = new TextEncoder();

/** A report text as the store keeps it (hash, named device, kind), received at `receivedAt`; or why it is no report. */
export function toReportInput(
  raw: string,
  receivedAt: number,
): { readonly ok: true; readonly input: ReportInput } | { readonly ok: false; readonly error: ParseError } {
  const parsed = parseReport(raw);
  if (!parsed.ok) return parsed;
  const r = parsed.report;
  return {
    ok: true,
    input: {
      hash: toHex(keccak256(utf8.encode(raw))),
      raw,
      receivedAt,
      device: r.type === "beacon" ? r.device : r.witness,
      kind: r.type,
    },
  };
}

export class Ingestor {
  private queue: Waiting[] = [];
  private queued = 0;
  private flushing = false;
  private scheduled = false;
  /** Reports acknowledged since start (accepted + duplicate). */
  acknowledged = 0;
  /** Transactions committed since start. */
  commits = 0;

  constructor(
    private readonly store: OracleStore,
    private readonly options: IngestorOptions,
  ) {}

  /** Parses and stamps one text (no I/O). */
  check(raw: string): Checked {
    const receivedAt = this.options.stamp !== undefined ? this.options.stamp(raw) : this.options.clock();
    const c = toReportInput(raw, receivedAt);
    if (c.ok) return c;
    const e = c.error;
    return {
      ok: false,
      result: {
        status: "refused",
        reason: "malformed",
        code: e.code,
        detail: e.field !== undefined ? `${e.field}: ${e.detail}` : e.detail,
      },
    };
  }

  /** Stores checked reports durably; resolves after the commit that holds them. */
  persist(inputs: ReportInput[]): Promise<InsertedReport[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.queued += inputs.length;
      this.schedule();
    });
  }

  /** check() then persist() for every text; results in input order. */
  async submit(raws: readonly string[]): Promise<SubmitResult[]> {
    const checked = raws.map((r) => this.check(r));
    const good = checked.flatMap((c) => (c.ok ? [c.input] : []));
    const stored = await this.persist(good);
    let k = 0;
    return checked.map((c) => {
      if (!c.ok) return c.result;
      const s = stored[k++]!;
      return { status: s.duplicate ? "duplicate" : "accepted", hash: s.hash, receivedAt: s.receivedAt };
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate: every request already read off the sockets in this turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const max = this.options.maxBatch ?? 10_000;
    const take: Waiting[] = [];
    let n = 0;
    while (this.queue.length > 0 && (n === 0 || n + this.queue[0]!.inputs.length <= max)) {
      const w = this.queue.shift()!;
      take.push(w);
      n += w.inputs.length;
    }
    this.queued -= n;
    try {
      const all = await this.store.insertReports(take.flatMap((w) => w.inputs));
      this.commits++;
      let k = 0;
      for (const w of take) {
        const mine = all.slice(k, k + w.inputs.length);
        k += w.inputs.length;
        this.acknowledged += mine.length;
        w.resolve(mine);
      }
    } catch (e) {
      for (const w of take) w.reject(e);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Reports waiting for a commit. */
  get pending(): number {
    return this.queued;
  }
}
