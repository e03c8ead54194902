/**
 * An epoch's stage-1 records on disk instead of in memory: the close's per-report state is then
 * read back in bounded pages, so what the main thread holds no longer grows by 160 bytes per report.
 *
 * SpillWriter takes the records as stage 1 and 2 finish them (in the order the reports were read:
 * a close reads them in receive-time order) and writes them to an unlinked temp file in canonical
 * order: (receive time, id, stage-2 reason). Rows arriving in receive-time order need only each run
 * of equal receive times sorted (held until the run ends); rows arriving in another order (tests,
 * the simulator: arrays already in memory) are sorted whole at the end.
 *
 * SpilledTable reads them back: the ReportTable accessors over a page cache (DEFAULT_SPILL: 1,024
 * rows a page, 64 pages, least recently used dropped). Stages 3-5 read the records mostly in order
 * (witnesses lie within a witness window of their beacon in canonical order), so the cache hits.
 */
import { closeSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { toHex, type Hex } from "@hexmesh/protocol";

import { compare32At, OFFSET, RECORD_BYTES, ReportTable, type ReportRows, type RowField } from "./table.js";

/** How a spill is cut (the defaults suit a close; tests use tiny sizes to cross every boundary). */
export interface SpillSizes {
  /** Reports per stage-1 chunk (coverage.ts): one chunk's texts and records in memory at a time. */
  readonly chunkRows?: number;
  /** Rows per page read back. */
  readonly pageRows?: number;
  /** Pages kept in memory, least recently used dropped. */
  readonly cachePages?: number;
  /** Rows per write to the file. */
  readonly writeRows?: number;
}

/** ~5 MiB of records per chunk; 64 pages of 1,024 rows = 10 MiB of cache; 1.3 MiB per write. */
export const DEFAULT_SPILL: Required<SpillSizes> = {
  chunkRows: 32_768,
  pageRows: 1_024,
  cachePages: 64,
  writeRows: 8_192,
};

/** Closes a spill file's descriptor once its table is garbage (the file itself is already unlinked). */
const descriptors = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

let spills = 0;

/** An unlinked temp file open for reading and writing (its space is freed when it is closed). */
function tempFile(): number {
  const file = path.join(tmpdir(), `hexmesh-spill-${process.pid}-${Date.now()}-${spills++}.bin`);
  const fd = openSync(file, "w+");
  unlinkSync(file);
  return fd;
}

/** Writes stage-1 records to a temp file in canonical order (see the file comment). */
export class SpillWriter {
  private readonly fd = tempFile();
  private readonly sizes: Required<SpillSizes>;
  private readonly out: ReportTable;
  private outRows = 0;
  private written = 0;
  /** The current run of equal receive times, not yet written (its order is not final). */
  private run = new ReportTable(64);
  private runRows = 0;
  private sorted = true;
  private lastTime = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly count: number,
    sizes: SpillSizes = {},
  ) {
    this.sizes = { ...DEFAULT_SPILL, ...sizes };
    for (const [k, v] of Object.entries(this.sizes))
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`spill ${k} must be a positive integer: ${v}`);
    this.out = new ReportTable(this.sizes.writeRows);
  }

  /** Rows [start, end) of `t`, their stage-2 reason in byte OFFSET.reason, in the order read. */
  add(t: ReportTable, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const at = t.receivedAt(i);
      if (at !== this.lastTime) {
        if (at < this.lastTime) this.sorted = false;
        this.flushRun();
        this.lastTime = at;
      }
      if (this.runRows === this.run.length) {
        const bigger = new ReportTable(this.run.length * 2);
        bigger.bytes.set(this.run.bytes);
        this.run = bigger;
      }
      this.run.bytes.set(
        t.bytes.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES),
        this.runRows * RECORD_BYTES,
      );
      this.runRows++;
    }
  }

  /** The records in canonical order, read back through a page cache. */
  finish(): SpilledTable {
    this.flushRun();
    this.flushOut();
    if (this.written !== this.count)
      throw new RangeError(`the spill holds ${this.written} records, the epoch has ${this.count}`);
    if (!this.sorted) this.sortWhole();
    return new SpilledTable(this.fd, this.count, this.sizes.pageRows, this.sizes.cachePages);
  }

  /** Sorts the current run by (id, reason) and queues it for writing. */
  private flushRun(): void {
    const n = this.runRows;
    if (n === 0) return;
    const run = this.run;
    const order = Array.from({ length: n }, (_, k) => k);
    if (n > 1) order.sort((a, b) => compareCanonical(run, a, b));
    for (const k of order) {
      if (this.outRows === this.out.length) this.flushOut();
      this.out.bytes.set(
        run.bytes.subarray(k * RECORD_BYTES, (k + 1) * RECORD_BYTES),
        this.outRows * RECORD_BYTES,
      );
      this.outRows++;
    }
    this.runRows = 0;
  }

  private flushOut(): void {
    if (this.outRows === 0) return;
    const bytes = this.out.bytes.subarray(0, this.outRows * RECORD_BYTES);
    writeAll(this.fd, bytes, this.written * RECORD_BYTES);
    this.written += this.outRows;
    this.outRows = 0;
  }

  /** Rows that did not arrive in receive-time order: read whole, sorted, written back (small inputs). */
  private sortWhole(): void {
    const all = new ReportTable(this.count);
    readAll(this.fd, all.bytes, 0);
    const order = Array.from({ length: this.count }, (_, k) => k);
    order.sort((a, b) => all.receivedAt(a) - all.receivedAt(b) || compareCanonical(all, a, b));
    const sorted = new ReportTable(this.count);
    order.forEach((k, pos) =>
      sorted.bytes.set(all.bytes.subarray(k * RECORD_BYTES, (k + 1) * RECORD_BYTES), pos * RECORD_BYTES),
    );
    writeAll(this.fd, sorted.bytes, 0);
  }
}

/** Canonical order within equal receive times: id, then stage-2 reason. */
function compareCanonical(t: ReportTable, a: number, b: number): number {
  return t.compare32(a, b, "id") || t.stage2Reason(a) - t.stage2Reason(b);
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; )
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function readAll(fd: number, into: Uint8Array, position: number): void {
  for (let done = 0; done < into.length; ) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new RangeError(`spill file ended at byte ${position + done}`);
    done += n;
  }
}

/** Stage-1 records in canonical order on disk (SpillWriter), read through a page cache. */
export class SpilledTable implements ReportRows {
  readonly length: number;
  private readonly pages = new Map<number, ReportTable>();
  private lastPage = -1;
  private last: ReportTable | null = null;
  private readonly scratch = new ReportTable(1);
  /** Pages read from the file (tests: the cache is bounded and used). */
  reads = 0;

  constructor(
    private readonly fd: number,
    length: number,
    private readonly pageRows = DEFAULT_SPILL.pageRows,
    private readonly cachePages = DEFAULT_SPILL.cachePages,
  ) {
    this.length = length;
    descriptors.register(this, fd, this);
  }

  private closed = false;

  /** Closes the file now (its space is freed); the table cannot be read afterwards. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    descriptors.unregister(this);
    this.pages.clear();
    this.last = null;
    closeSync(this.fd);
  }

  /** Flushes the file to disk (not needed to read it back; for callers that keep it). */
  sync(): void {
    fsyncSync(this.fd);
  }

  /** The page holding row i (it becomes `lastPage`: the row in it is i - lastPage x pageRows). */
  private page(i: number): ReportTable {
    const p = Math.floor(i / this.pageRows);
    if (p === this.lastPage) return this.last!;
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} of a spilled table of ${this.length}`);
    if (this.closed)
      throw new Error("the spilled records were released (CoverageWork.release): they cannot be read");
    let page = this.pages.get(p);
    if (page === undefined) {
      const rows = Math.min(this.pageRows, this.length - p * this.pageRows);
      // The page dropped from a full cache is read into again: a pass over a 40M-report spill
      // would otherwise allocate 6.4 GB of page buffers, and collecting them (V8 counts them as
      // external memory) bound the epoch-wide stages to full collections of the whole heap.
      let reused: ReportTable | undefined;
      if (this.pages.size >= this.cachePages) {
        const oldest = this.pages.keys().next().value!;
        reused = this.pages.get(oldest);
        this.pages.delete(oldest);
      }
      page = reused !== undefined && reused.length === rows ? reused : new ReportTable(rows);
      readAll(this.fd, page.bytes, p * this.pageRows * RECORD_BYTES);
      this.reads++;
    } else this.pages.delete(p); // re-inserted below: most recently used last
    this.pages.set(p, page);
    this.lastPage = p;
    this.last = page;
    return page;
  }

  kind(i: number): number {
    return this.page(i).kind(i - this.lastPage * this.pageRows);
  }
  auth(i: number): number {
    return this.page(i).auth(i - this.lastPage * this.pageRows);
  }
  parseError(i: number): number {
    return this.page(i).parseError(i - this.lastPage * this.pageRows);
  }
  deviceIndex(i: number): number {
    return this.page(i).deviceIndex(i - this.lastPage * this.pageRows);
  }
  receivedAt(i: number): number {
    return this.page(i).receivedAt(i - this.lastPage * this.pageRows);
  }
  frequency(i: number): number {
    return this.page(i).frequency(i - this.lastPage * this.pageRows);
  }
  channel(i: number): number {
    return this.page(i).channel(i - this.lastPage * this.pageRows);
  }
  dataRate(i: number): number {
    return this.page(i).dataRate(i - this.lastPage * this.pageRows);
  }
  power(i: number): number {
    return this.page(i).power(i - this.lastPage * this.pageRows);
  }
  snr(i: number): number {
    return this.page(i).snr(i - this.lastPage * this.pageRows);
  }
  stage2Reason(i: number): number {
    return this.page(i).stage2Reason(i - this.lastPage * this.pageRows);
  }
  idHex(i: number): Hex {
    return this.page(i).idHex(i - this.lastPage * this.pageRows);
  }
  deviceHex(i: number): Hex {
    return this.page(i).deviceHex(i - this.lastPage * this.pageRows);
  }
  beaconHex(i: number): Hex {
    return this.page(i).beaconHex(i - this.lastPage * this.pageRows);
  }
  remoteEntropyHex(i: number): Hex {
    return toHex(this.fieldOf(i, "remoteEntropy"));
  }
  prefix48(i: number, field: "id" | "beacon" | "remoteEntropy"): number {
    return this.page(i).prefix48(i - this.lastPage * this.pageRows, field);
  }
  compare32(i: number, j: number, field: "id" | "beacon"): number {
    // The two rows may lie on different pages: i's field is copied out first.
    const s = this.scratch;
    this.copyField(i, field, s.bytes, OFFSET[field]);
    const pj = this.page(j);
    return compare32At(s.bytes, OFFSET[field], pj.bytes, pj.at(j - this.lastPage * this.pageRows, field));
  }
  copyField(i: number, field: RowField, into: Uint8Array, at: number): void {
    this.page(i).copyField(i - this.lastPage * this.pageRows, field, into, at);
  }

  private fieldOf(i: number, field: RowField): Uint8Array {
    const out = new Uint8Array(field === "device" ? 20 : 32);
    this.copyField(i, field, out, 0);
    return out;
  }
}
