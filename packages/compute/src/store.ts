/**
 * A content-addressed store on disk: each blob in a file named by its keccak256. What it returns
 * was checked against the hash it was asked for, so a tampered or truncated file is refused.
 */
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import { contentHash, isHexBytes, type Hex } from "@hexmesh/protocol";

import { JobError } from "./errors.js";

/** Where programs, inputs, specs and outputs are fetched by hash. */
export interface ContentStore {
  get(hash: Hex): Promise<Uint8Array>;
}

export class FileContentStore implements ContentStore {
  constructor(readonly dir: string) {}

  /** Stores `bytes`; returns their hash. Written to a temporary name and renamed: never half a blob. */
  async put(bytes: Uint8Array): Promise<Hex> {
    const hash = contentHash(bytes);
    await mkdir(this.dir, { recursive: true });
    const temp = path.join(this.dir, `${hash}.${process.pid}.tmp`);
    await writeFile(temp, bytes);
    await rename(temp, this.file(hash));
    return hash;
  }

  /** Whether a file is held for `hash` (its content is checked by get). */
  async has(hash: Hex): Promise<boolean> {
    try {
      await access(this.file(hash));
      return true;
    } catch {
      return false;
    }
  }

  async get(hash: Hex): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.file(hash)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        throw new JobError("not-found", `no content ${hash}`);
      throw error;
    }
    const actual = contentHash(bytes);
    if (actual !== hash)
      throw new JobError("content-mismatch", `content stored as ${hash} hashes to ${actual}`);
    return bytes;
  }

  private file(hash: Hex): string {
    if (!isHexBytes(hash, 32)) throw new RangeError(`not a 32-byte hash: ${hash}`);
    return path.join(this.dir, hash.slice(2));
  }
}
