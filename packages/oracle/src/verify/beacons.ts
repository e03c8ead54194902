/**
 * The accepted beacons of an epoch and their valid witnesses, in typed arrays (stages 3-5): what the
 * epoch-wide rules and the selection need of them is 8 bytes a witness and ~40 a beacon, with no
 * object per beacon. Beacons are numbered by slot in the order accepted (canonical order, since the
 * beacon pass reads the rows in that order); each one's witnesses are a list, in the order added
 * (canonical order too), threaded through one pool. The lists are freed once stage 4 has selected
 * from them (dropWitnessLists): the verdicts need only each beacon's row, payload and count.
 */
import { RowIndex } from "./hashes.js";
import type { ReportRows } from "./table.js";

export class AcceptedBeacons {
  /** Beacons accepted so far (slots 0 .. count - 1). */
  count = 0;
  private readonly table: ReportRows;
  private readonly capacity: number;
  /** Slot -> the beacon's report row. */
  private readonly rows: Int32Array;
  /** Payload hash -> slot. */
  private readonly byPayload: RowIndex;
  /** Slot -> first and last pool entry of its witness list, -1 if empty. */
  private head: Int32Array;
  private tail: Int32Array;
  /** Slot -> how many of its witnesses stage 4 selected. */
  private readonly selectedCounts: Uint16Array;
  /** Pool entry -> witness row (-1 once refused by an epoch-wide rule) and the next entry of its list. */
  private witnessRows: Int32Array;
  private next: Int32Array;
  private entries = 0;
  private listsDropped = false;

  /** For at most `beacons` accepted beacons and `witnesses` valid witnesses. */
  constructor(table: ReportRows, beacons: number, witnesses: number) {
    this.table = table;
    this.capacity = beacons;
    this.rows = new Int32Array(beacons);
    this.byPayload = new RowIndex(table, "beacon", beacons, (slot) => this.rows[slot]!);
    this.head = new Int32Array(beacons).fill(-1);
    this.tail = new Int32Array(beacons).fill(-1);
    this.selectedCounts = new Uint16Array(beacons);
    this.witnessRows = new Int32Array(witnesses);
    this.next = new Int32Array(witnesses);
  }

  /** Witnesses added to the lists so far, those an epoch-wide rule refused since included. */
  get witnessEntries(): number {
    return this.entries;
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

  /** Appends witness row w to the list of the beacon in `slot`. */
  addWitness(slot: number, w: number): void {
    this.checkLists();
    if (this.entries === this.witnessRows.length)
      throw new RangeError(`more than ${this.witnessRows.length} valid witnesses`);
    const e = this.entries++;
    this.witnessRows[e] = w;
    this.next[e] = -1;
    const last = this.tail[slot]!;
    if (last === -1) this.head[slot] = e;
    else this.next[last] = e;
    this.tail[slot] = e;
  }

  /** Whether the list of the beacon in `slot` holds a witness of device index d. */
  hasWitnessOf(slot: number, d: number): boolean {
    this.checkLists();
    for (let e = this.head[slot]!; e !== -1; e = this.next[e]!) {
      const w = this.witnessRows[e]!;
      if (w >= 0 && this.table.deviceIndex(w) === d) return true;
    }
    return false;
  }

  /** The witness rows of the beacon in `slot`, in list order, into `into` (emptied first). */
  witnessesOf(slot: number, into: number[]): number[] {
    this.checkLists();
    into.length = 0;
    for (let e = this.head[slot]!; e !== -1; e = this.next[e]!) {
      const w = this.witnessRows[e]!;
      if (w >= 0) into.push(w);
    }
    return into;
  }

  /**
   * Takes the witnesses of the given device indexes off every list (in pool order, i.e. canonical
   * order), calling `refused` with each one's row.
   */
  removeWitnessesOf(devices: ReadonlySet<number>, refused: (w: number) => void): void {
    this.checkLists();
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
   * Frees the witness lists (8 bytes a valid witness and 8 a beacon: ~300 MB on a 40M-report day)
   * once stage 4 has selected from them; find, row and selected go on working for the verdicts.
   */
  dropWitnessLists(): void {
    this.listsDropped = true;
    this.witnessRows = this.next = this.head = this.tail = new Int32Array(0);
  }

  private checkLists(): void {
    if (this.listsDropped)
      throw new Error("the accepted beacons' witness lists were dropped after selection");
  }
}
