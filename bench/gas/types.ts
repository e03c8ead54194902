/** A gas benchmark: returns receipt gasUsed per operation key ("area.operation.variant"). */
export type GasBench = () => Promise<Record<string, bigint>>;
