/**
 * Work in progress: the redis sink is being built (see the README for what works today).
 */
export {};
