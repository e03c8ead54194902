/**
 * The accepted beacons of an epoch and their valid witnesses, in typed arrays (stages 3-5): what the
 * epoch-wide rules and the selection need of them is 4 bytes a witness and ~30 a beacon, with no
 * object per beacon. Beacons are numbered by slot in the order accepted (canonical order, since the
 * beacon pass reads the rows in that order). Their witness lists are built in two passes over the
 * witnesses in canonical order (countWitness, then placeWitness: a list's length is known before it
 * is filled, so the lists are one array of rows by slot, each list in canonical order) and closed
 * (closeLists: a device's second witness of one beacon leaves its list as a duplicate). Linked
 * lists, built in one pass, took 8 bytes a witness and 8 a beacon. The lists are freed once stage 4
 * has selected from them (dropWitnessLists): the verdicts need only each beacon's row, payload and
 * count.
 */
import { RowIndex } from "./hashes.js";
import type { ReportRows } from "./table.js";

const EMPTY = new Uint32Array(0);

/** Where the witness lists are: counted, being placed, closed (readable), dropped. */
type ListsState = "counting" | "placing" | "closed" | "dropped";

export class AcceptedBeacons {
  /** Beacons accepted so far (slots 0 .. count - 1). */
  count = 0;
  private readonly table: ReportRows;
  private readonly capacity: number;
  /** Slot -> the beacon's report row. */
  private readonly rows: Int32Array;
  /** Payload hash -> slot. */
  private readonly byPayload: RowIndex;
  /**
   * Slot -> its list's first entry (slots 0 .. capacity; entry `capacity` is the end): counts while
   * counting, each list's next free entry while placing, its first entry once closed.
   */
  private starts: Uint32Array;
  /** Entry -> witness row (-1 once refused: a duplicate, or by an epoch-wide rule), by slot. */
  private witnessRows: Int32Array;
  /** Slot -> how many of its witnesses stage 4 selected. */
  private readonly selectedCounts: Uint16Array;
  /** While placing: each list's first entry (starts then holds each list's next free entry). */
  private listStarts = EMPTY;
  private entries = 0;
  private duplicates = 0;
  private state: ListsState = "counting";

  /** For at most `beacons` accepted beacons and `witnesses` valid witnesses. */
  constructor(table: ReportRows, beacons: number, witnesses: number) {
    this.table = table;
    this.capacity = beacons;
    this.rows = new Int32Array(beacons);
    this.byPayload = new RowIndex(table, "beacon", beacons, (slot) => this.rows[slot]!);
    this.starts = new Uint32Array(beacons + 1);
    this.witnessRows = new Int32Array(witnesses);
    this.selectedCounts = new Uint16Array(beacons);
  }

  /** Witnesses in the lists (duplicates not; those an epoch-wide rule refused since included). */
  get witnessEntries(): number {
    return this.entries - this.duplicates;
  }

  /** Accepts beacon row i (its payload not accepted yet); returns its slot. */
  add(i: number): number {
    if (this.count === this.capacity) throw new RangeError(`more than ${this.capacity} accepted beacons`);
    const slot = this.count++;
    this.rows[slot] = i;
    this.byPayload.add(slot);
    return slot;
  }

  /** The slot of the accepted beacon whose payload hash is record i's field "beacon", or -1. */
  find(i: number): number {
    return this.byPayload.find(i);
  }

  /** The report row of the beacon in `slot`. */
  row(slot: number): number {
    return this.rows[slot]!;
  }

  /** First pass: one more witness for the list of the beacon in `slot` (placed by placeWitness). */
  countWitness(slot: number): void {
    this.expect("counting");
    if (this.entries === this.witnessRows.length)
      throw new RangeError(`more than ${this.witnessRows.length} valid witnesses`);
    this.entries++;
    this.starts[slot]! += 1;
  }

  /**
   * Second pass: witness row w into the list of the beacon in `slot`. The witnesses counted, in the
   * order counted (canonical order): each list keeps that order.
   */
  placeWitness(slot: number, w: number): void {
    if (this.state === "counting") this.startPlacing();
    this.expect("placing");
    const e = this.starts[slot]!;
    if (e >= this.listStarts[slot + 1]!)
      throw new RangeError(`beacon slot ${slot} was given more witnesses than were counted for it`);
    this.witnessRows[e] = w;
    this.starts[slot] = e + 1;
  }

  /**
   * Ends the second pass: every counted witness placed. In each list, a witness of a device that is
   * already on it is a duplicate: it leaves the list and `duplicate` is told its row, in list order.
   */
  closeLists(duplicate: (w: number) => void): void {
    if (this.state === "counting") this.startPlacing(); // no witness at all, or none placed
    this.expect("placing");
    for (let slot = 0; slot < this.capacity; slot++)
      if (this.starts[slot] !== this.listStarts[slot + 1])
        throw new RangeError(`beacon slot ${slot} was given fewer witnesses than were counted for it`);
    this.starts = this.listStarts;
    this.listStarts = EMPTY;
    this.state = "closed";
    const t = this.table;
    for (let slot = 0; slot < this.count; slot++) {
      const from = this.starts[slot]!;
      const to = this.starts[slot + 1]!;
      // Each list's distinct devices are moved to its front as it is read, and each witness is
      // compared with those only: one entry per witnessing device, as the one-pass lists were (a
      // device that witnessed one beacon many times does not make its list's check quadratic).
      let kept = from;
      for (let e = from; e < to; e++) {
        const w = this.witnessRows[e]!;
        const d = t.deviceIndex(w);
        let seen = false;
        for (let k = from; k < kept && !seen; k++) seen = t.deviceIndex(this.witnessRows[k]!) === d;
        if (seen) {
          this.duplicates++;
          duplicate(w);
        } else this.witnessRows[kept++] = w;
      }
      this.witnessRows.fill(-1, kept, to);
    }
  }

  /** The witness rows of the beacon in `slot`, in list order, into `into` (emptied first). */
  witnessesOf(slot: number, into: number[]): number[] {
    this.expect("closed");
    into.length = 0;
    for (let e = this.starts[slot]!, end = this.starts[slot + 1]!; e < end; e++) {
      const w = this.witnessRows[e]!;
      if (w >= 0) into.push(w);
    }
    return into;
  }

  /**
   * Takes the witnesses of the given device indexes off every list (in list order: by slot, each
   * list in canonical order), calling `refused` with each one's row.
   */
  removeWitnessesOf(devices: ReadonlySet<number>, refused: (w: number) => void): void {
    this.expect("closed");
    if (devices.size === 0) return;
    for (let e = 0; e < this.entries; e++) {
      const w = this.witnessRows[e]!;
      if (w >= 0 && devices.has(this.table.deviceIndex(w))) {
        this.witnessRows[e] = -1;
        refused(w);
      }
    }
  }

  setSelected(slot: number, n: number): void {
    if (n > 0xffff) throw new RangeError(`${n} witnesses selected for one beacon: at most 65,535 are kept`);
    this.selectedCounts[slot] = n;
  }

  /** How many witnesses stage 4 selected for the beacon in `slot`. */
  selected(slot: number): number {
    return this.selectedCounts[slot]!;
  }

  /**
   * Frees the witness lists (4 bytes a valid witness and 4 a beacon: ~160 MB on a 40M-report day)
   * once stage 4 has selected from them; find, row and selected go on working for the verdicts.
   */
  dropWitnessLists(): void {
    this.state = "dropped";
    this.witnessRows = new Int32Array(0);
    this.starts = EMPTY;
  }

  /** Counts -> each list's first entry (and, kept apart while placing, where each list begins). */
  private startPlacing(): void {
    let at = 0;
    for (let s = 0; s <= this.capacity; s++) {
      const n = this.starts[s]!;
      this.starts[s] = at;
      at += n;
    }
    this.listStarts = this.starts.slice();
    this.state = "placing";
  }

  private expect(state: ListsState): void {
    if (this.state === state) return;
    if (this.state === "dropped")
      throw new Error("the accepted beacons' witness lists were dropped after selection");
    throw new Error(`the accepted beacons' witness lists are ${this.state}, not ${state}`);
  }
}
