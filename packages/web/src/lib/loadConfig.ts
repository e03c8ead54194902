/** Loads hexmesh.json in the browser (kept apart from its parsing, which Node's tests check too). */
import { ConfigError, parseConfig, type AppConfig } from "./config";

export async function loadConfig(url = "./hexmesh.json"): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetch(url, { cache: "no-store" });
  } catch (e) {
    throw new ConfigError(`cannot load ${url}: ${String(e)}`);
  }
  if (!res.ok) throw new ConfigError(`cannot load ${url}: HTTP ${res.status}`);
  return parseConfig(await res.json());
}
