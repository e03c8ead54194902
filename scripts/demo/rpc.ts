/**
 * Serves an in-process chain (Hardhat's EDR provider) as JSON-RPC over HTTP on localhost, so oracle
 * services, in this process or others, reach it as they reach any node. No top-level side effects.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";

/** The EIP-1193 request function of the connection's provider. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface RpcRequest {
  readonly id?: unknown;
  readonly method: string;
  readonly params?: unknown[];
}

async function body(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

export interface JsonRpcEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port). */
export async function serveJsonRpc(provider: Eip1193, port = 0): Promise<JsonRpcEndpoint> {
  const answer = async (r: RpcRequest) => {
    try {
      const result = await provider.request({ method: r.method, params: r.params ?? [] });
      return { jsonrpc: "2.0", id: r.id ?? null, result };
    } catch (e) {
      const err = e as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: r.id ?? null,
        error: { code: err.code ?? -32000, message: err.message, data: err.data },
      };
    }
  };
  const server: Server = createServer((req, res) => {
    // Any origin may call it, as Hardhat's and Anvil's nodes allow: the web app reads the chain from
    // the browser, served from another port (the oracle's).
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-headers", "content-type");
    res.setHeader("access-control-allow-methods", "POST, OPTIONS");
    if (req.method === "OPTIONS") {
      res.statusCode = 204;
      res.end();
      return;
    }
    void body(req).then(async (text) => {
      let out: unknown;
      try {
        const parsed = JSON.parse(text) as RpcRequest | RpcRequest[];
        out = Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed);
      } catch {
        out = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } };
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A free TCP port on 127.0.0.1 (for services whose URLs must be known before they start). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
