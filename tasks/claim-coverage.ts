import { readFileSync } from "node:fs";

import { getAddress, isAddress, isHexString } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatMesh,
  openSuite,
  requireNotPaused,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

interface ClaimArgs extends CommonArgs {
  owner: string;
  oracle: string;
  proofFile: string;
}

interface OwnerProof {
  cumulative: bigint;
  proof: string[];
}

/** Checks the {cumulative, proof} document an oracle serves (cumulative in wei, as a decimal string). */
function parseProof(json: unknown, source: string): OwnerProof {
  const o = json as { cumulative?: unknown; proof?: unknown };
  const cumulative =
    typeof o?.cumulative === "string" || typeof o?.cumulative === "number" ? String(o.cumulative) : "";
  if (!/^\d+$/.test(cumulative))
    throw new TaskError(`${source}: "cumulative" must be a wei amount as a decimal string`);
  if (!Array.isArray(o.proof) || !o.proof.every((p) => typeof p === "string" && isHexString(p, 32))) {
    throw new TaskError(`${source}: "proof" must be an array of 32-byte hex strings`);
  }
  return { cumulative: BigInt(cumulative), proof: o.proof as string[] };
}

async function fetchProof(base: string, owner: string): Promise<OwnerProof> {
  const url = `${base.replace(/\/+$/, "")}/v1/owners/${owner}/proof`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new TaskError(`cannot reach the oracle at ${url}: ${(e as Error).message}`);
  }
  if (res.status === 404) throw new TaskError(`the oracle has no rewards for ${owner} (${url}: 404)`);
  if (!res.ok) throw new TaskError(`the oracle answered ${res.status} ${res.statusText} for ${url}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new TaskError(`the oracle's answer at ${url} is not JSON`);
  }
  return parseProof(body, url);
}

/** Claims `cumulative - claimed` against the live root; anyone may submit, the owner is paid. */
export default async function claimCoverage(args: ClaimArgs, hre: HardhatRuntimeEnvironment) {
  if ((args.oracle === "") === (args.proofFile === ""))
    throw new TaskError("give exactly one of --oracle <url> and --proof-file <file>");
  const suite = await openSuite(hre, args);
  const who = args.owner === "" ? suite.signer.address : args.owner;
  if (!isAddress(who)) throw new TaskError(`--owner must be an address, got "${who}"`);
  const owner = getAddress(who);
  let proof: OwnerProof;
  if (args.proofFile !== "") {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(args.proofFile, "utf8"));
    } catch (e) {
      throw new TaskError(`cannot read proof file ${args.proofFile}: ${(e as Error).message}`);
    }
    proof = parseProof(json, args.proofFile);
  } else {
    proof = await fetchProof(args.oracle, owner);
  }
  await requireNotPaused(suite.distributor, "coverage rewards distributor");
  const claimed = await suite.distributor.claimed(owner);
  if (proof.cumulative <= claimed) {
    throw new TaskError(
      `nothing to claim for ${owner}: lifetime ${formatMesh(proof.cumulative)}, already claimed ${formatMesh(claimed)}`,
    );
  }
  suite.log(`claiming ${formatMesh(proof.cumulative - claimed)} of coverage rewards for ${owner}`);
  return {
    ...(await sendOrDryRun(
      suite,
      suite.distributor,
      "claim",
      [owner, proof.cumulative, proof.proof],
      args.dryRun,
    )),
    amount: proof.cumulative - claimed,
  };
}
