import type { SinkInstance } from '@sluice/plugin-api';
import type { EsMapping } from '../src/index.js';

export type EsSinkInstance = SinkInstance<EsMapping>;
