/**
 * A test wallet for the browser tests: an EIP-1193 provider injected into the page before any of
 * its scripts run, announced by EIP-6963 like a browser extension, whose requests are answered in
 * Node by viem with a local key against the chain's JSON-RPC endpoint (it signs; the node only sees
 * raw transactions). It records every request and can be told to refuse, as a person can.
 */
import type { Page } from "playwright-core";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Hex,
  type LocalAccount,
  type TypedDataDefinition,
} from "viem";

export interface TestWallet {
  readonly address: Hex;
  /** Every request the page made, in order. */
  readonly calls: { method: string; params: unknown[] }[];
  /** While true, every signing or sending request is refused (EIP-1193 code 4001). */
  refuse: boolean;
  /** The chain the wallet is on (starts elsewhere, so the app has to switch it). */
  chainId: number;
  /** Whether the page has asked for the account (eth_requestAccounts). */
  authorized: boolean;
  install(page: Page): Promise<void>;
}

const SIGNING = new Set(["eth_sendTransaction", "eth_signTypedData_v4", "personal_sign", "eth_sign"]);

/** uint/int fields of EIP-712 JSON come as strings: give viem bigints. */
function typedFromJson(json: string): TypedDataDefinition {
  const data = JSON.parse(json) as {
    domain: Record<string, unknown>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, unknown>;
  };
  const { EIP712Domain: _domainType, ...types } = data.types;
  const convert = (type: string, v: unknown): unknown => {
    if (/^u?int\d*$/.test(type)) return BigInt(v as string);
    const struct = types[type];
    if (struct === undefined) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(struct.map((f) => [f.name, convert(f.type, o[f.name])]));
  };
  const domain = { ...data.domain };
  if (domain.chainId !== undefined) domain.chainId = BigInt(domain.chainId as string);
  return {
    domain,
    types,
    primaryType: data.primaryType,
    message: convert(data.primaryType, data.message) as Record<string, unknown>,
  } as unknown as TypedDataDefinition;
}

export function testWallet(account: LocalAccount, rpcUrl: string, chainId: number): TestWallet {
  const chain = defineChain({
    id: chainId,
    name: "local",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  const reader = createPublicClient({ chain, transport: http(rpcUrl) });
  const state: TestWallet = {
    address: account.address,
    calls: [],
    refuse: false,
    chainId: 1,
    authorized: false,
    async install(page: Page) {
      await page.exposeFunction("__hexmeshTestWallet", async (text: string) => {
        const { method, params } = JSON.parse(text) as { method: string; params: unknown[] };
        state.calls.push({ method, params });
        try {
          return JSON.stringify({ result: await answer(method, params) });
        } catch (e) {
          const err = e as { code?: number; shortMessage?: string; message?: string };
          return JSON.stringify({
            error: { code: err.code ?? -32603, message: err.shortMessage ?? err.message ?? String(e) },
          });
        }
      });
      await page.addInitScript(INJECTED);
    },
  };
  async function answer(method: string, params: unknown[]): Promise<unknown> {
    if (state.refuse && SIGNING.has(method))
      throw Object.assign(new Error("User rejected the request."), { code: 4001 });
    switch (method) {
      case "eth_requestAccounts":
        state.authorized = true;
        return [account.address];
      case "eth_accounts":
        // As a browser wallet: no account for the page until the person connected it.
        return state.authorized ? [account.address] : [];
      case "eth_chainId":
        return `0x${state.chainId.toString(16)}`;
      case "wallet_switchEthereumChain": {
        const id = Number(BigInt((params[0] as { chainId: string }).chainId));
        if (id !== chainId) throw Object.assign(new Error(`Unrecognized chain ID ${id}`), { code: 4902 });
        state.chainId = id;
        return null;
      }
      case "eth_sendTransaction": {
        if (state.chainId !== chainId) throw Object.assign(new Error("wrong network"), { code: 4901 });
        const tx = params[0] as { to: Hex; data?: Hex; value?: Hex; gas?: Hex };
        return wallet.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value === undefined ? 0n : BigInt(tx.value),
          ...(tx.gas !== undefined ? { gas: BigInt(tx.gas) } : {}),
        });
      }
      case "eth_signTypedData_v4":
        return account.signTypedData(typedFromJson(params[1] as string));
      case "personal_sign":
        return account.signMessage({ message: { raw: params[0] as Hex } });
      default:
        // Reads go to the node, as a wallet forwards them.
        return reader.request({ method: method as "eth_blockNumber", params: params as never });
    }
  }
  return state;
}

/** Runs in the page before its scripts: the provider and its EIP-6963 announcement. */
const INJECTED = `(() => {
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  const provider = {
    async request({ method, params }) {
      const out = JSON.parse(await window.__hexmeshTestWallet(JSON.stringify({ method, params: params || [] })));
      if (out.error) {
        const e = new Error(out.error.message);
        e.code = out.error.code;
        throw e;
      }
      if (method === "wallet_switchEthereumChain") emit("chainChanged", params[0].chainId);
      return out.result;
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); return provider; },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return provider; },
  };
  const detail = Object.freeze({
    info: Object.freeze({
      uuid: "6b1c1e4e-3f0a-4f57-9a4e-6a3a8f0e2a11",
      name: "Hexmesh Test Wallet",
      icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/%3E",
      rdns: "org.hexmesh.testwallet",
    }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;
