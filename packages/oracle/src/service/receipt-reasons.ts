/**
 * Why a packet receipt is refused at `POST /v1/receipts`: the one list the service (settlement.ts) and
 * the API's response schema (api/schemas.ts) share. No imports: the schema module stays light.
 */
export const RECEIPT_REFUSALS = [
  "malformed",
  "bad_signature",
  "out_of_epoch",
  "unknown_router",
  "unknown_hotspot",
  "duplicate",
  "over_balance",
] as const;

export type ReceiptRefusal = (typeof RECEIPT_REFUSALS)[number];
