/** JSON with bigints (stored chain indexes and owner lists): a bigint becomes {"$n": "decimal"}. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? { $n: v.toString() } : v));
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === "$n" && typeof o.$n === "string") return BigInt(o.$n);
    }
    return v;
  }) as T;
}
