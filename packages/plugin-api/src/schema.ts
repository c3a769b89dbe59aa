/**
 * A small JSON-Schema subset that plugins use to describe their `properties` and mapping files.
 * The core validates configuration against it and reports every problem with file and line.
 */

/** Schema of one value. */
export type Schema =
  | StringSchema
  | NumberSchema
  | BooleanSchema
  | ObjectSchema
  | MapSchema
  | ArraySchema
  | AnySchema;

interface SchemaBase {
  /** Shown in `sluice validate` and in generated documentation. */
  readonly description?: string;
  /** The value is a secret: redacted in every printout and log line. */
  readonly secret?: boolean;
  /** canal-adapter semantics: an empty YAML value means "use the default". */
  readonly default?: unknown;
}

export interface StringSchema extends SchemaBase {
  readonly type: 'string';
  readonly enum?: readonly string[];
  /** Allowed values are also matched case-insensitively, like Spring's enum binding. */
  readonly caseInsensitive?: boolean;
}

export interface NumberSchema extends SchemaBase {
  readonly type: 'integer' | 'number';
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface BooleanSchema extends SchemaBase {
  readonly type: 'boolean';
}

/** An object with known keys; keys are matched with Spring's relaxed binding. */
export interface ObjectSchema extends SchemaBase {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
}

/** A map with free keys kept verbatim (`properties`, `targetColumns`, …). */
export interface MapSchema extends SchemaBase {
  readonly type: 'map';
  readonly values: Schema;
}

export interface ArraySchema extends SchemaBase {
  readonly type: 'array';
  readonly items: Schema;
}

/** Anything goes (free-form values). */
export interface AnySchema extends SchemaBase {
  readonly type: 'any';
}
