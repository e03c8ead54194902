/**
 * Keccak-256 (the Ethereum hash: original Keccak padding 0x01, not SHA3's 0x06), from hash-wasm
 * (hand-tuned WebAssembly), behind the API the oracle has always used.
 *
 * Why a library: issue 15 asked to keep our own (a JavaScript permutation plus hand-assembled
 * WebAssembly, side by side) only if every library cost more than 20% on the 1,000,000-owner
 * Merkle tree or on the oracle's end-to-end verification. bench/keccak.ts measured it (commit
 * 923ebd7, 7 interleaved rounds on a shared 2-core machine; bench/results/keccak.json): against
 * our WebAssembly, hash-wasm costs 1.14x on the tree (1.17x in CPU time; ~4.8 s against ~4.1 s of
 * CPU) and 0.93x on verification (1.02x in CPU time, ~93 us per report for both), though a single
 * hash costs ~1.3-1.4x (~1.4M against ~1.9M 32-byte hashes per CPU second: each call allocates
 * a view and copies the digest). @noble/hashes 2.0.1 costs 8.7-9.7x on the tree and ~1.5x on
 * verification (~0.11M hashes per CPU second), our JavaScript permutation 2.3-2.5x on the tree.
 * So hash-wasm, within 20% on both, replaced both of ours; @noble/hashes remains the tests'
 * reference.
 *
 * hash-wasm instantiates its WebAssembly asynchronously, hence the top-level await: importers
 * (worker threads included) get a ready module, and constants computed at load (EIP-712 type
 * hashes) work as before.
 */
import { createKeccak, type IHasher } from "hash-wasm";

/** One hasher for the one-shot calls: each call runs init, update, digest on it. */
const oneShot: IHasher = await createKeccak(256);

/**
 * keccak256 of data[offset, offset + length) written to out[outOffset, outOffset + 32).
 * The hot paths (Merkle tree, EIP-712 digests) call this with reused buffers; out may be data
 * itself (the tree writes a parent over an earlier part of the buffer holding its children).
 */
export function keccak256Into(
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  oneShot.init();
  oneShot.update(offset === 0 && length === data.length ? data : data.subarray(offset, offset + length));
  out.set(oneShot.digest("binary"), outOffset);
}

/** keccak256(data) as a new 32-byte array. */
export function keccak256(data: Uint8Array): Uint8Array {
  oneShot.init();
  oneShot.update(data);
  return oneShot.digest("binary");
}

/**
 * The hasher behind every Keccak256Stream, and the stream whose state it holds. Creating a
 * hash-wasm hasher is asynchronous, so streams (created synchronously) share this one: a stream
 * that finds another's state in it saves that state into its owner and loads its own.
 */
const streamHasher: IHasher = await createKeccak(256);
const EMPTY_STATE = streamHasher.init().save();
let holder: Keccak256Stream | null = null;

/**
 * Incremental keccak256 for inputs that do not fit one buffer (the canonical epoch encoding can
 * be gigabytes). Streams may be interleaved with each other and with keccak256Into calls.
 */
export class Keccak256Stream {
  /** This stream's state while the shared hasher holds another's. */
  private state: Uint8Array = EMPTY_STATE;
  private finished = false;

  update(data: Uint8Array): this {
    if (this.finished) throw new Error("Keccak256Stream: update after digest");
    this.take().update(data);
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new Error("Keccak256Stream: digest called twice");
    this.finished = true;
    const digest = this.take().digest("binary");
    holder = null;
    return digest;
  }

  private take(): IHasher {
    if (holder !== this) {
      if (holder !== null) holder.state = streamHasher.save();
      streamHasher.load(this.state);
      holder = this;
    }
    return streamHasher;
  }
}
