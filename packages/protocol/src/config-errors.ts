/**
 * One wording for configuration errors found by a JSON Schema validator (the agents validate their
 * config files with ajv): "path.to.key: message", or "unknown key x". Structural on ajv's ErrorObject
 * so this package takes no validator dependency.
 */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

export function describeSchemaError(e: SchemaError): string {
  const where = e.instancePath === "" ? "(top level)" : e.instancePath.slice(1).replaceAll("/", ".");
  const what =
    e.keyword === "additionalProperties"
      ? `unknown key ${String(e.params.additionalProperty)}`
      : (e.message ?? e.keyword);
  return `${where}: ${what}`;
}
