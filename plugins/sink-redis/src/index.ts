export { redisSink, redisSink as default } from './plugin.js';
export { RedisSink } from './RedisSink.js';
export type { RedisSinkOptions } from './RedisSink.js';
export { redisMappingSchema } from './mappingSchema.js';
export type { RedisMapping, RedisMappingFile } from './mappingSchema.js';
export { redisPropertiesSchema, createClient } from './properties.js';
export type { RedisSinkProperties } from './properties.js';
export { compileMapping, checkRedisMapping, redisTables } from './mapping.js';
export type { CompiledMapping } from './mapping.js';
export {
  KeyTemplateError,
  hashTag,
  keyPattern,
  parseKeyTemplate,
  renderKey,
  staticPrefix,
} from './keyTemplate.js';
export type { KeyTemplate, RenderMiss, TemplatePart } from './keyTemplate.js';
export { planEvent, updateActs } from './plan.js';
export type { Command, PlanOptions } from './plan.js';
export { VERSION_SUFFIX, encodeVersion, versionKeyOf } from './version.js';
