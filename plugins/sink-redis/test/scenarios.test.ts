// Eviction and write-through scenarios against a model of the source rows: key-column changes,
// deletes, derived keys, replays. Ends with no stale key in the keyspace.
import { describe } from 'vitest';
import { scenarioSuite } from './scenarioSuite.js';

describe('redis sink scenarios (standalone)', () => scenarioSuite(false));
