/** How current a figure is: the block it was read at and that block's chain time. */
import type { AsOf as AsOfBlock } from "../lib/chain";
import { chainTime } from "../lib/format";

export function AsOf({ at, epoch }: { readonly at: AsOfBlock; readonly epoch?: bigint }) {
  return (
    <p className="asof" data-testid="asof">
      as of block {at.blockNumber.toString()} (chain time {chainTime(at.blockTime)})
      {epoch !== undefined ? `, epoch ${epoch}` : ""}
    </p>
  );
}
