// The shape every testbed service module exports.
export {};

/**
 * @typedef {import('./paths.mjs').ServiceState} ServiceState
 *
 * @typedef {object} Service
 * @property {string} name         short name, also the key in state.json ("kafka", "es", ...)
 * @property {string} envVar       env var that supplies an external instance instead
 * @property {string[]} requires   ids from prereqs.mjs REQUIREMENTS
 * @property {string[]=} after     services (by name) that must be up first when started in the same run
 * @property {string} endpoint     endpoint string of the managed instance (same format as envVar)
 * @property {number[]} ports      loopback ports the managed instance binds
 * @property {string} logFile
 * @property {number} readyTimeoutMs
 * @property {{home: string, data: string}} dirs  data is wiped by `down`
 * @property {(say: (msg: string) => void) => Promise<void>} prepare  download / init (idempotent)
 * @property {() => Promise<{pid: number, marker: string}>} start  spawn the server
 * @property {(endpoint: string) => Promise<string | boolean>} probe  truthy when really serving
 * @property {((endpoint: string) => Promise<void>)=} afterReady  users, databases (idempotent)
 * @property {(st: ServiceState) => Promise<void>} stop
 * @property {(st: ServiceState) => boolean} isOurs  recorded pid alive and still our process
 */
