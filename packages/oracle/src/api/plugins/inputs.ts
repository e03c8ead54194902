/** GET /v1/inputs/reports and /v1/inputs/entropy: the stored inputs, for peers and auditors. */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Hex } from "@hexmesh/protocol";

import type { ReportCursor, StoredReport } from "../../store/types.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

function checkRange(from: number, to: number): void {
  if (to < from) throw new HttpError(400, `bad range: to (${to}) is before from (${from})`, "bad_range");
}

/** A page's `next`: the last row's receive time and hash, `<receivedAt>:<hash>`. */
function cursorOf(r: StoredReport): string {
  return `${r.receivedAt}:${r.hash}`;
}

const CURSOR = /^(0|[1-9][0-9]{0,15}):(0x[0-9a-f]{64})$/;

/** `after` as a page gives it; one that no page of [from, to) could have given is `bad_cursor`. */
function parseCursor(after: string, from: number, to: number): ReportCursor {
  const m = CURSOR.exec(after);
  const receivedAt = m === null ? NaN : Number(m[1]);
  if (m === null || !Number.isSafeInteger(receivedAt))
    throw new HttpError(
      400,
      `bad cursor: after must be a page's next (<receivedAt>:<0x hash>)`,
      "bad_cursor",
    );
  if (receivedAt < from || receivedAt >= to)
    throw new HttpError(400, `bad cursor: ${receivedAt} is outside [${from}, ${to})`, "bad_cursor");
  return { receivedAt, hash: m[2] as Hex };
}

export function inputRoutes({ store }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  /** Raw reports of a pruned epoch are gone: a partial copy would give another root, so none is served. */
  async function refusePruned(from: number, to: number): Promise<void> {
    const pruned = await store.prunedOverlapping(from, to);
    if (pruned !== null)
      throw new HttpError(
        410,
        `the reports of epoch ${pruned.epoch} (received in [${pruned.fromMs}, ${pruned.toMs})) were pruned by retention`,
        "pruned",
      );
  }

  return async (app) => {
    app.route({
      ...endpoint(ROUTES.inputReports),
      schema: {
        querystring: S.INPUT_REPORTS_QUERY,
        response: { 200: S.INPUT_REPORTS_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const { from, to, after, limit } = request.query;
        checkRange(from, to);
        const cursor = after === undefined ? undefined : parseCursor(after, from, to);
        await refusePruned(from, to);
        // Keyset pages: each is an index range read after the previous page's last row, so a copy of
        // a range costs time linear in its size, and rows stored meanwhile never shift a page.
        const [total, page] = await Promise.all([
          cursor === undefined ? store.countReports(from, to) : undefined,
          store.reportsReceivedBetween(from, to, {
            ...(cursor !== undefined ? { after: cursor } : {}),
            limit,
          }),
        ]);
        return {
          ...(total !== undefined ? { total } : {}),
          next: page.length === limit ? cursorOf(page.at(-1)!) : null,
          reports: page.map((r) => ({ raw: r.raw, receivedAt: r.receivedAt })),
        };
      },
    });

    app.route({
      ...endpoint(ROUTES.inputEntropy),
      schema: { querystring: S.RANGE_QUERY, response: { 200: S.INPUT_ENTROPY_RESPONSE, ...ERROR_RESPONSES } },
      handler: async (request) => {
        const { from, to } = request.query;
        checkRange(from, to);
        return { entropy: await store.entropyBetween(from, to) };
      },
    });
  };
}
