/**
 * Does the chain hold what a deployment record says? For every address in an Ignition deployment's
 * deployed_addresses.json, the runtime code at that address must be the recorded artifact's
 * deployedBytecode, with linked libraries filled in from the same record and immutables (set by
 * each constructor) masked out on both sides. An empty account means the record is stale: the
 * node was restarted or reset, or the network is not the one the deployment was made on.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface CodeCheck {
  readonly futureId: string;
  readonly address: string;
  readonly status: "ok" | "no_code" | "code_mismatch" | "no_artifact";
  readonly detail?: string;
}

export interface DeploymentCheck {
  readonly deploymentDir: string;
  readonly checks: readonly CodeCheck[];
  /** Every address holds its artifact's code. */
  readonly ok: boolean;
}

interface ArtifactCode {
  readonly contractName: string;
  readonly sourceName: string;
  readonly deployedBytecode: string;
  readonly deployedLinkReferences?: Record<string, Record<string, { start: number; length: number }[]>>;
  readonly immutableReferences?: Record<string, { start: number; length: number }[]>;
}

type RpcRequest = (method: string, params: unknown[]) => Promise<unknown>;

const strip = (hex: string) => hex.replace(/^0x/, "").toLowerCase();

/** Zeroes [start, start + length) byte ranges of a hex string (no 0x). */
function mask(hex: string, ranges: readonly { start: number; length: number }[]): string {
  let out = hex;
  for (const r of ranges) {
    const a = 2 * r.start;
    const b = 2 * (r.start + r.length);
    if (b <= out.length) out = out.slice(0, a) + "0".repeat(b - a) + out.slice(b);
  }
  return out;
}

/** Reads a deployment record and checks every recorded address's code on the chain behind `request`. */
export async function checkDeployedCode(
  request: RpcRequest,
  deploymentDir: string,
): Promise<DeploymentCheck> {
  const file = path.join(deploymentDir, "deployed_addresses.json");
  if (!existsSync(file)) return { deploymentDir, checks: [], ok: true };
  const addresses = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const artifacts = new Map<string, ArtifactCode>();
  for (const futureId of Object.keys(addresses)) {
    const a = path.join(deploymentDir, "artifacts", `${futureId}.json`);
    if (existsSync(a)) artifacts.set(futureId, JSON.parse(readFileSync(a, "utf8")) as ArtifactCode);
  }
  /** A linked library's address: the recorded future whose artifact is that library. */
  const libraryAddress = (sourceName: string, name: string) => {
    // Link references name the source as the compiler saw it ("project/contracts/..."), artifacts
    // by its path in the project ("contracts/...").
    for (const [futureId, art] of artifacts)
      if (
        art.contractName === name &&
        (sourceName === art.sourceName || sourceName.endsWith(`/${art.sourceName}`))
      )
        return addresses[futureId];
    return undefined;
  };
  const checks: CodeCheck[] = [];
  for (const [futureId, address] of Object.entries(addresses)) {
    const code = strip((await request("eth_getCode", [address, "latest"])) as string);
    if (code === "") {
      checks.push({ futureId, address, status: "no_code", detail: "no contract at this address" });
      continue;
    }
    const art = artifacts.get(futureId);
    if (art === undefined) {
      checks.push({
        futureId,
        address,
        status: "no_artifact",
        detail: "code present; no artifact to compare with",
      });
      continue;
    }
    let expected = strip(art.deployedBytecode);
    const ranges: { start: number; length: number }[] = [];
    let unresolved: string | undefined;
    for (const [source, libs] of Object.entries(art.deployedLinkReferences ?? {})) {
      for (const [lib, refs] of Object.entries(libs)) {
        const at = libraryAddress(source, lib);
        if (at === undefined) {
          unresolved = `${source}:${lib}`;
          continue;
        }
        for (const r of refs)
          expected = expected.slice(0, 2 * r.start) + strip(at) + expected.slice(2 * (r.start + r.length));
      }
    }
    for (const refs of Object.values(art.immutableReferences ?? {})) ranges.push(...refs);
    // A library's code starts with PUSH20 of its own address (call protection), written at deployment.
    if (expected.startsWith(`73${"00".repeat(20)}`)) ranges.push({ start: 1, length: 20 });
    if (unresolved !== undefined) {
      checks.push({
        futureId,
        address,
        status: "code_mismatch",
        detail: `library ${unresolved} is not in the record`,
      });
    } else if (mask(code, ranges) !== mask(expected, ranges)) {
      checks.push({
        futureId,
        address,
        status: "code_mismatch",
        detail: `runtime code (${code.length / 2} bytes) is not ${art.contractName}'s (${expected.length / 2} bytes)`,
      });
    } else checks.push({ futureId, address, status: "ok" });
  }
  return { deploymentDir, checks, ok: checks.every((c) => c.status === "ok" || c.status === "no_artifact") };
}

/** What went wrong and how to proceed, for a failed check. */
export function describeFailedCheck(check: DeploymentCheck, chainId: number, networkName: string): string {
  const bad = check.checks.filter((c) => c.status === "no_code" || c.status === "code_mismatch");
  const dir = path.relative(process.cwd(), check.deploymentDir);
  const empty = bad.filter((c) => c.status === "no_code").length;
  const lines = [
    `the deployment record ${dir} does not match chain ${chainId} (network "${networkName}"): ` +
      `${bad.length} of ${check.checks.length} recorded addresses ${empty === bad.length ? "hold no contract" : "do not hold the recorded code"}:`,
    ...bad.map((c) => `  ${c.futureId} at ${c.address}: ${c.detail}`),
    empty > 0
      ? "The record is stale: the node was restarted or reset after this deployment was recorded (Ignition trusts its journal, hence 'Nothing new to deploy'), or the network is not the chain the deployment was made on."
      : "The addresses hold other code: the network is not the chain this deployment was made on.",
    "To proceed: on a throwaway local node, deploy again from scratch with --reset (scripted: HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true HARDHAT_IGNITION_CONFIRM_RESET=true) or under a new --deployment-id; " +
      "on a testnet, check that --network and its RPC URL point at the chain of this record, and never delete a committed record.",
  ];
  return lines.join("\n");
}
