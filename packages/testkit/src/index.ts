export {
  CONTRACT_COLUMNS,
  CONTRACT_TEST_NAMES,
  ContractViolation,
  checkWriteResult,
  runSinkContractSuite,
  sinkContractTests,
} from './contract.js';
export type {
  ContractHarness,
  ContractTest,
  ContractTestName,
  SinkContractHook,
  SinkContractOptions,
  SinkContractTarget,
} from './contract.js';
export { EventBuilder, toFlatMessage } from './events.js';
export type { EventBuilderOptions, EventOverrides } from './events.js';
export { MemorySink, MemoryTarget, createMemorySinkPlugin } from './memorySink.js';
export type { MemorySinkPlugin } from './memorySink.js';
export { MemoryDeadLetters } from './memoryDeadLetters.js';
export { RecordingSink, sequentialState } from './recordingSink.js';
export type { WriteScript } from './recordingSink.js';
export { MemorySource, createMemorySourcePlugin } from './memorySource.js';
export type { MemorySourceOptions } from './memorySource.js';
export {
  CheckingHandler,
  SOURCE_CONTRACT_TEST_NAMES,
  missingSourceHooks,
  runSourceContractSuite,
  sourceContractTests,
} from './sourceContract.js';
export type {
  SourceContractHarness,
  SourceContractHook,
  SourceContractOptions,
  SourceContractTarget,
  SourceContractTest,
  SourceContractTestName,
} from './sourceContract.js';
export { applyEvent, rowKey } from './model.js';
export type { Row, TableState } from './model.js';
