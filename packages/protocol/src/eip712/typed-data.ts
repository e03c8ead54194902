/**
 * EIP-712 typed data: one field list per message. Signing code hands the lists to its library
 * (ethers' signTypedData, viem's signTypedData); hand-written hashers (reports/eip712.ts) derive
 * their type strings from the same lists with `encodeType`, so the two can never disagree.
 */

/** One struct member, in the shape ethers and viem take. */
export interface TypedField {
  readonly name: string;
  readonly type: string;
}

/** A message's field list (no nested structs in our messages); mutable, as ethers' types want. */
export type TypedFields = TypedField[];

/** `Name(type1 name1,type2 name2,…)`, EIP-712's encodeType for a struct without struct members. */
export function encodeType(name: string, fields: readonly TypedField[]): string {
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

/** The EIP-712 domain every Hexmesh contract uses: name, version, chain id and the contract. */
export interface ContractDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: bigint;
  readonly verifyingContract: string;
}

export const DOMAIN_FIELDS: TypedFields = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];
