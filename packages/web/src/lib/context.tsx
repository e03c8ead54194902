/** The app's configuration, chain reader and oracle client, given to every page. */
import { createContext, useContext } from "react";
import type { PublicClient } from "viem";

import { OracleClient } from "@hexmesh/oracle/api/client";

import type { AppConfig } from "./config";

export interface AppContextValue {
  readonly config: AppConfig;
  readonly client: PublicClient;
  readonly oracle: OracleClient;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (v === null) throw new Error("useApp outside <AppContext.Provider>");
  return v;
}

export function oracleFor(config: AppConfig): OracleClient {
  return new OracleClient(config.oracleUrl === "" ? window.location.origin : config.oracleUrl, {
    timeoutMs: 10_000,
  });
}
