/**
 * The dead-letter queue contract lives in the plugin API (a transport's source brings its own
 * queue through `SourceDefinition.deadLetters`); the core re-exports it for its own modules.
 */
export type {
  DeadLetterBatch,
  DeadLetterCapability,
  DeadLetterContext,
  DeadLetterQueue,
  DeadLetterReader,
} from '@sluice/plugin-api';
