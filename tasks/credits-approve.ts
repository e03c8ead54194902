import { readFileSync, writeFileSync } from "node:fs";

import { getAddress, isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { creditsDomain, SPENDER_APPROVAL_TYPES, UNLIMITED_ALLOWANCE } from "@hexmesh/protocol";

import {
  formatCredits,
  openCredits,
  openSuite,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

interface SignedApproval {
  account: string;
  spender: string;
  allowance: string;
  nonce: string;
  deadline: string;
  signature: string;
}

function parseAllowance(value: string): bigint {
  const v = value.trim();
  if (v === "unlimited") return UNLIMITED_ALLOWANCE;
  if (!/^\d{1,39}$/.test(v) || BigInt(v) > UNLIMITED_ALLOWANCE)
    throw new TaskError(`--allowance must be a number of credits (micro-USD) or "unlimited", got "${value}"`);
  return BigInt(v);
}

/**
 * Authorizes a spender on the signer's credits: sends approveSpender, or signs an EIP-712
 * SpenderApproval into a file (--sign-out) for anyone to submit, or submits such a file (--submit-file).
 */
export default async function creditsApprove(
  args: CommonArgs & {
    spender: string;
    allowance: string;
    signOut: string;
    submitFile: string;
    validFor: string;
  },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const { credits } = await openCredits(suite);
  if (args.submitFile !== "") {
    let a: SignedApproval;
    try {
      a = JSON.parse(readFileSync(args.submitFile, "utf8")) as SignedApproval;
    } catch (e) {
      throw new TaskError(`cannot read the signed approval ${args.submitFile}: ${(e as Error).message}`);
    }
    for (const k of ["account", "spender", "allowance", "deadline", "signature"] as const) {
      if (typeof a[k] !== "string") throw new TaskError(`${args.submitFile}: "${k}" is missing`);
    }
    suite.log(`submitting ${a.account}'s approval of ${a.spender} for ${a.allowance} credits`);
    return sendOrDryRun(
      suite,
      credits,
      "approveSpenderWithSig",
      [a.account, a.spender, BigInt(a.allowance), BigInt(a.deadline), a.signature],
      args.dryRun,
    );
  }
  if (!isAddress(args.spender)) throw new TaskError(`--spender must be an address, got "${args.spender}"`);
  const spender = getAddress(args.spender);
  const allowance = parseAllowance(args.allowance);
  if ((await credits.spenderSubnetwork(spender)) === "0x" + "00".repeat(32)) {
    throw new TaskError(`${spender} is not a registered spender of the credits ledger`);
  }
  const shown = allowance === UNLIMITED_ALLOWANCE ? "unlimited credits" : formatCredits(allowance);
  if (args.signOut === "") {
    suite.log(`allowing spender ${spender} ${shown} of ${suite.signer.address}'s credits`);
    return sendOrDryRun(suite, credits, "approveSpender", [spender, allowance], args.dryRun);
  }
  const validFor = Number(args.validFor);
  if (!Number.isInteger(validFor) || validFor <= 0)
    throw new TaskError(`--valid-for must be a positive number of seconds, got "${args.validFor}"`);
  const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);
  const value = {
    account: suite.signer.address,
    spender,
    allowance,
    nonce: await credits.nonces(suite.signer.address),
    deadline: now + BigInt(validFor),
  };
  const domain = creditsDomain(suite.chainId, await credits.getAddress());
  const signature = await suite.signer.signTypedData({ ...domain }, SPENDER_APPROVAL_TYPES, value);
  const out: SignedApproval = {
    account: value.account,
    spender,
    allowance: allowance.toString(),
    nonce: value.nonce.toString(),
    deadline: value.deadline.toString(),
    signature,
  };
  writeFileSync(args.signOut, JSON.stringify(out, null, 2) + "\n");
  suite.log(
    `signed an approval of ${spender} for ${shown} (nonce ${value.nonce}, valid until ${value.deadline}) into ${args.signOut}`,
  );
  return { signed: out };
}
