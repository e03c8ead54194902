/**
 * An EIP-2612 permit on MESH signed by the connected wallet: one signature lets a contract take
 * `value` in the same transaction that uses it (staking, buying credits).
 */
import { parseSignature, type Address, type Hex, type PublicClient } from "viem";

import { MeshTokenAbi } from "@hexmesh/contracts/abis";
import { PERMIT_TYPES } from "@hexmesh/protocol";

import type { Wallet } from "../components/Wallet";

export interface SignedPermit {
  readonly deadline: bigint;
  readonly v: number;
  readonly r: Hex;
  readonly s: Hex;
}

export async function signPermit(
  wallet: Wallet,
  client: PublicClient,
  token: Address,
  spender: Address,
  value: bigint,
): Promise<SignedPermit> {
  const owner = wallet.account.address;
  const [domain, nonce, block] = await Promise.all([
    client.readContract({ address: token, abi: MeshTokenAbi, functionName: "eip712Domain" }),
    client.readContract({ address: token, abi: MeshTokenAbi, functionName: "nonces", args: [owner] }),
    client.getBlock(),
  ]);
  const deadline = block.timestamp + 3_600n; // an hour of chain time
  const signature = await wallet.signTypedData({
    account: wallet.account,
    domain: { name: domain[1], version: domain[2], chainId: domain[3], verifyingContract: domain[4] },
    types: { Permit: PERMIT_TYPES.Permit.map((f) => ({ ...f })) },
    primaryType: "Permit",
    message: { owner, spender, value, nonce, deadline },
  });
  const { r, s, v, yParity } = parseSignature(signature);
  return { deadline, v: Number(v ?? 27n + BigInt(yParity)), r, s };
}
