/** bridge.best's status codes (bridges.ts has the schemas; this module has no zod). */

/** Status codes of bridge.best's `status` array. */
export const BRIDGE_BEST_STATUS = { specific: 0, shared: 1, silent: 2 } as const;
