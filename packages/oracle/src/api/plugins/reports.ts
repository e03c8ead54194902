/** Ingest: POST /v1/reports (one report, rate limited per device key) and /v1/reports/batch. */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Checked, SubmitResult } from "../../service/ingest.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

/** Counts reports per device key in fixed one-minute windows (for reports inside batches). */
class DeviceWindow {
  private window = -1;
  private counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  take(key: string, now = Date.now()): boolean {
    const w = Math.floor(now / 60_000);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.max;
  }
}

export function reportRoutes({ ingestor, limits }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    const devices = new DeviceWindow(limits.perDevicePerMinute);

    // The device key is in the body, so the limiter runs at preHandler (after parsing and
    // validation) with a key taken from the report text; a text that does not parse is keyed by IP.
    app.route({
      ...endpoint(ROUTES.submitReport),
      schema: { body: S.SUBMIT_ONE_BODY, response: { 200: S.SUBMIT_RESULT, ...ERROR_RESPONSES } },
      config: {
        rateLimit: {
          max: limits.perDevicePerMinute,
          timeWindow: 60_000,
          hook: "preHandler",
          keyGenerator: (req) => {
            const m = /"(?:device|witness)":"(0x[0-9a-f]{40})"/.exec(
              (req.body as { report?: string })?.report ?? "",
            );
            return m?.[1] ?? `ip:${req.ip}`;
          },
        },
      },
      handler: async (request) => {
        const [r] = await ingestor.submit([request.body.report]);
        if (r!.status === "refused")
          throw new HttpError(400, `report refused: ${r!.code}: ${r!.detail}`, r!.code);
        return r!;
      },
    });

    app.route({
      ...endpoint(ROUTES.submitReports),
      schema: {
        body: S.submitBatchBody(limits.batchMax),
        response: { 200: S.SUBMIT_BATCH_RESPONSE, ...ERROR_RESPONSES },
      },
      config: { rateLimit: { max: limits.batchesPerMinute, timeWindow: 60_000, hook: "preHandler" } },
      handler: async (request) => {
        const checked: Checked[] = request.body.reports.map((raw) => {
          const c = ingestor.check(raw);
          if (c.ok && !devices.take(c.input.device)) {
            return {
              ok: false,
              result: {
                status: "refused",
                reason: "malformed",
                code: "rate_limited",
                detail: `more than ${limits.perDevicePerMinute} reports this minute from ${c.input.device}`,
              },
            } as Checked;
          }
          return c;
        });
        const good = checked.flatMap((c) => (c.ok ? [c.input] : []));
        const stored = await ingestor.persist(good);
        let k = 0;
        const results: SubmitResult[] = checked.map((c) => {
          if (!c.ok) return c.result;
          const s = stored[k++]!;
          return { status: s.duplicate ? "duplicate" : "accepted", hash: s.hash, receivedAt: s.receivedAt };
        });
        const count = (s: string) => results.filter((r) => r.status === s).length;
        return {
          accepted: count("accepted"),
          duplicate: count("duplicate"),
          refused: count("refused"),
          results,
        };
      },
    });
  };
}
