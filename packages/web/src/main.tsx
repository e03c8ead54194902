/** Start-up: read hexmesh.json, then render the app with wagmi, react-query and the chain reader. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { WagmiProvider } from "wagmi";

import { App } from "./App";
import { AppContext, oracleFor } from "./lib/context";
import { loadConfig } from "./lib/loadConfig";
import { publicClientOf, wagmiConfig } from "./lib/wallet";

import "./styles.css";

const root = createRoot(document.getElementById("root")!);

try {
  const config = await loadConfig();
  const queries = new QueryClient({ defaultOptions: { queries: { staleTime: 1_000 } } });
  root.render(
    <StrictMode>
      <WagmiProvider config={wagmiConfig(config)}>
        <QueryClientProvider client={queries}>
          <AppContext.Provider value={{ config, client: publicClientOf(config), oracle: oracleFor(config) }}>
            <App />
          </AppContext.Provider>
        </QueryClientProvider>
      </WagmiProvider>
    </StrictMode>,
  );
} catch (e) {
  root.render(
    <main>
      <h1>Hexmesh</h1>
      <p role="alert">{e instanceof Error ? e.message : String(e)}</p>
    </main>,
  );
}
