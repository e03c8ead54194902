/**
 * An external merge sort of a generated day's reports into receive order, (receive time, hash):
 * the order an oracle's ingest appends them in, and the order of the store's reports_by_time index
 * (SQLite compares the hash texts bytewise, as JavaScript compares these lowercase hex strings).
 *
 * bench/scale-child.ts `generate` gets the day part by part (bench/day.ts streamedDay: 1,024
 * devices a part, over one of the day's four 6-hour windows; a part's reports are not in receive
 * order, and neither are the parts). Each part is sorted in memory and cut at the bucket bounds
 * (receive-time ranges, e.g. the day's hours); each piece is appended as one run to its bucket's
 * temp file, unlinked as soon as it is open (its space is freed when it is closed, or when the
 * process dies). Then the buckets are merged one after another, each bucket's runs through a binary
 * heap of their heads, each run read back through its own buffer, and a bucket's file is closed as
 * soon as it is merged. Memory: one part while writing; while merging, each run's head, the heap,
 * and a buffer per run being read (a run's share of MERGE_BUFFER_BYTES, 64 KiB to 1 MiB; 8 KiB
 * until its first refill, see RunReader). Disk: the runs, once; while merging, the store grows as
 * the merged buckets' files are freed, so the peak is about the store plus one bucket, not the
 * store plus every run (a 40M-report day's runs are about 20 GB).
 *
 * A record holds what the store's insertReports takes (toReportInput's ReportInput), so nothing is
 * parsed or hashed twice: u32 record bytes, f64 receivedAt, 32 bytes of hash, u8 kind (0 beacon,
 * 1 witness), u16 device bytes, the device (UTF-8), then the raw text (UTF-8) to the record's end.
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";

import type { ReportInput } from "@hexmesh/oracle";
import type { Hex } from "@hexmesh/protocol";

/** Split between the runs' read buffers while merging (each gets 64 KiB at least, 1 MiB at most). */
const MERGE_BUFFER_BYTES = 64 * 1024 * 1024;
const HEADER = 4 + 8 + 32 + 1 + 2;

/** (receivedAt, hash) order: the store's reports_by_time order. */
export function receiveOrder(a: ReportInput, b: ReportInput): number {
  return a.receivedAt - b.receivedAt || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
}

interface Run {
  readonly offset: number;
  readonly bytes: number;
  readonly reports: number;
}

/** Sorted runs of reports in unlinked temp files, one file per receive-time bucket, merged back in receive order. */
export class ReceiveOrderRuns {
  private readonly buckets: { fd: number; runs: Run[]; end: number; closed: boolean }[];
  private count = 0;

  /**
   * `file`: where the temp files are made (`file`.0, `file`.1, …, each unlinked at once): a path on
   * the disk that holds the store. `bounds`: ascending receive times that cut the buckets (bucket i
   * holds receive times in [bounds[i - 1], bounds[i]); the first and last are open-ended).
   */
  constructor(
    file: string,
    private readonly bounds: readonly number[] = [],
  ) {
    for (let i = 1; i < bounds.length; i++)
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error("bucket bounds must ascend");
    this.buckets = [];
    try {
      for (let i = 0; i <= bounds.length; i++) {
        const fd = openSync(`${file}.${i}`, "w+");
        unlinkSync(`${file}.${i}`);
        this.buckets.push({ fd, runs: [], end: 0, closed: false });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Reports written so far. */
  get reports(): number {
    return this.count;
  }

  /** Bytes of the temp files still open (every run written so far, until its bucket is merged). */
  get bytes(): number {
    return this.buckets.reduce((sum, b) => sum + (b.closed ? 0 : fstatSync(b.fd).size), 0);
  }

  get runCount(): number {
    return this.buckets.reduce((sum, b) => sum + b.runs.length, 0);
  }

  /** Sorts `part` in receive order and appends it as one run per bucket it reaches. */
  add(part: ReportInput[]): void {
    part.sort(receiveOrder);
    for (let from = 0, bucket = 0; from < part.length; bucket++) {
      const bound = this.bounds[bucket];
      let to = from;
      if (bound === undefined) to = part.length;
      else while (to < part.length && part[to]!.receivedAt < bound) to++;
      if (to > from) this.append(this.buckets[bucket]!, part.slice(from, to));
      from = to;
    }
  }

  private append(bucket: { fd: number; runs: Run[]; end: number }, run: ReportInput[]): void {
    let bytes = 0;
    const sizes = run.map((r) => {
      if (!/^0x[0-9a-f]{64}$/.test(r.hash)) throw new Error(`not a lowercase 32-byte hash: ${r.hash}`);
      const n = HEADER + Buffer.byteLength(r.device) + Buffer.byteLength(r.raw);
      bytes += n;
      return n;
    });
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    run.forEach((r, i) => {
      out.writeUInt32LE(sizes[i]!, at);
      out.writeDoubleLE(r.receivedAt, at + 4);
      out.write(r.hash.slice(2), at + 12, 32, "hex");
      out.writeUInt8(r.kind === "beacon" ? 0 : 1, at + 44);
      const device = out.write(r.device, at + HEADER, "utf8");
      out.writeUInt16LE(device, at + 45);
      out.write(r.raw, at + HEADER + device, "utf8");
      at += sizes[i]!;
    });
    for (let done = 0; done < bytes; )
      done += writeSync(bucket.fd, out, done, bytes - done, bucket.end + done);
    bucket.runs.push({ offset: bucket.end, bytes, reports: run.length });
    bucket.end += bytes;
    this.count += run.length;
  }

  /**
   * Every report of every run, in receive order, `batch` at a time: bucket after bucket, each a k-way
   * merge through a binary heap, its file closed (its space freed) once merged; `bufferBytes` per
   * run being read.
   */
  *merged(batch: number, bufferBytes?: number): Generator<ReportInput[]> {
    let out: ReportInput[] = [];
    for (const bucket of this.buckets) {
      if (bucket.closed) throw new Error("the runs were merged already");
      const perRun =
        bufferBytes ??
        Math.min(
          1024 * 1024,
          Math.max(64 * 1024, Math.floor(MERGE_BUFFER_BYTES / Math.max(1, bucket.runs.length))),
        );
      const heap: RunReader[] = [];
      for (const run of bucket.runs) {
        const reader = new RunReader(bucket.fd, run, perRun);
        if (reader.advance()) heap.push(reader);
      }
      const less = (a: RunReader, b: RunReader) => receiveOrder(a.head!, b.head!) < 0;
      const down = (i: number) => {
        for (;;) {
          const l = 2 * i + 1;
          if (l >= heap.length) return;
          const c = l + 1 < heap.length && less(heap[l + 1]!, heap[l]!) ? l + 1 : l;
          if (!less(heap[c]!, heap[i]!)) return;
          [heap[c], heap[i]] = [heap[i]!, heap[c]!];
          i = c;
        }
      };
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
      while (heap.length > 0) {
        const top = heap[0]!;
        out.push(top.head!);
        if (!top.advance()) {
          const last = heap.pop()!;
          if (heap.length > 0) heap[0] = last;
        }
        if (heap.length > 0) down(0);
        if (out.length === batch) {
          yield out;
          out = [];
        }
      }
      bucket.closed = true;
      closeSync(bucket.fd);
    }
    if (out.length > 0) yield out;
  }

  /** Closes the temp files still open (their space is freed); again, does nothing. */
  close(): void {
    for (const bucket of this.buckets) {
      if (bucket.closed) continue;
      bucket.closed = true;
      closeSync(bucket.fd);
    }
  }
}

/**
 * One run read back in order through a buffer of its own: FIRST_READ bytes at first (enough for its
 * head), `bufferBytes` from its first refill on. Only one bucket's runs are read at a time, and a
 * finished run's buffer is garbage: the buffers taken at once are about one bucket's runs'.
 */
const FIRST_READ = 8 * 1024;
class RunReader {
  head: ReportInput | null = null;
  private buffer: Buffer;
  private at = 0;
  private filled = 0;
  private next: number;
  private readonly end: number;
  private readonly bufferBytes: number;

  constructor(
    private readonly fd: number,
    run: Run,
    bufferBytes: number,
  ) {
    this.bufferBytes = Math.min(bufferBytes, run.bytes);
    this.buffer = Buffer.allocUnsafe(Math.min(FIRST_READ, this.bufferBytes));
    this.next = run.offset;
    this.end = run.offset + run.bytes;
  }

  /** Makes the next record of the run `head`; false at the run's end. */
  advance(): boolean {
    if (!this.have(4)) {
      if (this.filled - this.at !== 0) throw new Error("a run ends inside a record");
      this.head = null;
      return false;
    }
    const size = this.buffer.readUInt32LE(this.at);
    if (!this.have(size)) throw new Error("a run ends inside a record");
    const b = this.buffer;
    const at = this.at;
    const device = b.readUInt16LE(at + 45);
    this.head = {
      receivedAt: b.readDoubleLE(at + 4),
      hash: `0x${b.toString("hex", at + 12, at + 44)}` as Hex,
      kind: b[at + 44] === 0 ? "beacon" : "witness",
      device: b.toString("utf8", at + HEADER, at + HEADER + device) as Hex,
      raw: b.toString("utf8", at + HEADER + device, at + size),
    };
    this.at += size;
    return true;
  }

  /** Whether `n` bytes from `at` are in the buffer, after reading more of the run if needed. */
  private have(n: number): boolean {
    if (this.filled - this.at >= n) return true;
    const left = this.filled - this.at;
    const size = Math.max(n, this.bufferBytes);
    if (size > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(size);
      this.buffer.copy(bigger, 0, this.at, this.filled);
      this.buffer = bigger;
    } else this.buffer.copy(this.buffer, 0, this.at, this.filled);
    this.at = 0;
    this.filled = left;
    while (this.filled < this.buffer.length && this.next < this.end) {
      const got = readSync(
        this.fd,
        this.buffer,
        this.filled,
        Math.min(this.buffer.length - this.filled, this.end - this.next),
        this.next,
      );
      if (got === 0) throw new Error("the runs' temp file is shorter than written");
      this.filled += got;
      this.next += got;
    }
    return this.filled >= n;
  }
}
