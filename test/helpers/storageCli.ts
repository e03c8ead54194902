/**
 * Runs the `hexmesh-storage` bin (packages/storage, compiled dist/) as a child process of this Node,
 * as a user would. No top-level side effects.
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const STORAGE_CLI = path.resolve("packages/storage/bin/hexmesh-storage.js");

/** Runs the CLI to completion with `env` over this process's environment; its exit code and output. */
export function runStorageCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [STORAGE_CLI, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
