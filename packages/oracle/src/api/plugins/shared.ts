/** What the route plugins share: a route's method and path for fastify, the error a handler throws, the error responses. */
import type { ROUTES } from "../routes.js";
import { ERROR } from "../schemas.js";

/** A route of the table as fastify's `route()` options take it: `app.route({ ...endpoint(ROUTES.owner), … })`. */
export function endpoint<R extends (typeof ROUTES)[keyof typeof ROUTES]>(
  route: R,
): { readonly method: R["method"]; readonly url: R["path"] } {
  return { method: route.method, url: route.path };
}

/** Thrown by a handler: answered as `{statusCode, error, message, code?}` with this status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The error responses every route declares. */
export const ERROR_RESPONSES = {
  400: ERROR,
  404: ERROR,
  409: ERROR,
  410: ERROR,
  413: ERROR,
  415: ERROR,
  429: ERROR,
  503: ERROR,
} as const;
