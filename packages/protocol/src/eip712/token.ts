/**
 * MeshToken's EIP-2612 permit (OpenZeppelin ERC20Permit): what a wallet signs so that one
 * transaction both approves and spends (StakingVault.stakeWithPermit, DeviceRegistry's
 * onboardWithPermit). The domain is the token's own (read it with ERC-5267 `eip712Domain()`).
 */
import type { TypedFields } from "./typed-data.js";

export const PERMIT_TYPES: { Permit: TypedFields } = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
