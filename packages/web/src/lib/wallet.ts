/**
 * wagmi for the wallet: injected wallets only, discovered through EIP-6963 announcements (wagmi's
 * multiInjectedProviderDiscovery), so nothing but the page's own providers is contacted at start-up.
 * Reads go to the configured JSON-RPC endpoint; writes through the connected wallet.
 */
import { createPublicClient, defineChain, http, type Chain, type PublicClient } from "viem";
import { createConfig, type Config } from "wagmi";

import type { AppConfig } from "./config";

export function chainOf(cfg: AppConfig): Chain {
  return defineChain({
    id: cfg.chainId,
    name: cfg.chainName,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [cfg.rpcUrl] } },
  });
}

export function wagmiConfig(cfg: AppConfig): Config {
  const chain = chainOf(cfg);
  return createConfig({
    chains: [chain],
    connectors: [],
    multiInjectedProviderDiscovery: true,
    transports: { [chain.id]: http(cfg.rpcUrl) },
  });
}

export function publicClientOf(cfg: AppConfig): PublicClient {
  return createPublicClient({ chain: chainOf(cfg), transport: http(cfg.rpcUrl), pollingInterval: 500 });
}
