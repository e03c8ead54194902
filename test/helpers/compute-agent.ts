/**
 * Shared setup of the provider agent's and client commands' tests: the compute system on Hardhat's
 * in-process chain served as JSON-RPC on localhost (so the agent and the commands, separate
 * processes, reach it as they reach any node), the accounts' key files, the agent's configuration,
 * and the `hexmesh-compute` command as a process. No top-level side effects.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { HDNodeWallet, Mnemonic } from "ethers";

import { BIN, startProcessGroup } from "./service.js";

export const COMPUTE_CLI = fileURLToPath(
  new URL("../../packages/compute/bin/hexmesh-compute.js", import.meta.url),
);
export const PATH_TRACER = fileURLToPath(
  new URL("../../packages/compute/dist/jobs/pathtracer.wasm", import.meta.url),
);
const NODE = path.join(BIN, "node");

/** Hardhat's default accounts (its test mnemonic): the key of the account at `index`. */
export function hardhatKey(index: number): HDNodeWallet {
  const phrase = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
  return HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${index}`);
}

/** Writes `wallet`'s key file (0x + 64 hex) into `dir`; its path. */
export function writeKeyFile(dir: string, name: string, wallet: HDNodeWallet): string {
  const file = path.join(dir, `${name}.key`);
  writeFileSync(file, `${wallet.privateKey}\n`, { mode: 0o600 });
  return file;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hexmesh-compute` as a process, asynchronously: the chain it talks to is served by this
 * process, which must keep answering while the command runs.
 */
export function computeCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [COMPUTE_CLI, ...args],
      { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `hexmesh-compute`, expecting success; its stdout parsed as JSON. */
export async function computeJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const r = await computeCli(args);
  if (r.code !== 0) throw new Error(`hexmesh-compute ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts a long-running `hexmesh-compute` command (blob server, agent) in its own process group. */
export function startComputeProcess(args: string[]): { child: ChildProcess; output: () => string } {
  return startProcessGroup(NODE, [COMPUTE_CLI, ...args]);
}

/** Waits until `output()` has a JSON line with `event` (and the fields given); that line. */
export async function waitForLog(
  proc: { child: ChildProcess; output: () => string },
  event: string,
  match: Record<string, unknown> = {},
  ms = 60_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  for (;;) {
    for (const line of proc.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (o.event === event && Object.entries(match).every(([k, v]) => o[k] === v)) return o;
    }
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(
        `process exited (${proc.child.exitCode ?? proc.child.signalCode}) before "${event}":\n${proc.output()}`,
      );
    if (Date.now() > until) throw new Error(`no "${event}" within ${ms} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
