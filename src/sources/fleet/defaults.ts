/** Defaults of the fleet source, shared by its options and the CLI flags. */
export const FLEET_DEFAULTS = Object.freeze({
  intervalSeconds: 60,
  pageSize: 500,
  requestTimeoutSeconds: 10,
  retries: 3,
  maxDevices: 10_000,
  liveTimeoutSeconds: 30,
});
