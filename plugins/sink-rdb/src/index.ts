/**
 * Work in progress: the rdb sink is being built (see the README for what works today).
 */
export {};
