import { NodePoolSettings, NodePoolsSettings } from "../config";
import { NODE_POOLS, NodePoolPlacement, PoolName, POOL_NAMES } from "./types";

/** The pools a cloud cluster has, in a stable order: the three base pools, then aiml when configured. */
export function configuredPools(pools: NodePoolsSettings): { name: PoolName; size: NodePoolSettings }[] {
  return POOL_NAMES.flatMap((name) => {
    const size = pools[name];
    return size ? [{ name, size }] : [];
  });
}

/** The contract's placement of each configured pool. */
export function placements(pools: NodePoolsSettings): Partial<Record<PoolName, NodePoolPlacement>> {
  return Object.fromEntries(configuredPools(pools).map(({ name }) => [name, NODE_POOLS[name]]));
}
