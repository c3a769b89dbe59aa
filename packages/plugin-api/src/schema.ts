/**
 * A small JSON-Schema subset that plugins use to describe their `properties` and mapping files.
 * The core validates configuration against it and reports every problem with file and line.
 */

/** Schema of one value. */
export type Schema =
  StringSchema | NumberSchema | BooleanSchema | ObjectSchema | MapSchema | ArraySchema | AnySchema;

/** Fields every schema node may carry. */
export interface SchemaBase {
  /** The node type. */
  readonly type: string;
  /** Shown in `sluice validate` and in generated documentation. */
  readonly description?: string;
  /** The value is a secret: redacted in every printout and log line. */
  readonly secret?: boolean;
  /** canal-adapter semantics: an empty YAML value means "use the default". */
  readonly default?: unknown;
}

/** A string (YAML scalars are read as text). */
export interface StringSchema extends SchemaBase {
  readonly type: 'string';
  /** The allowed values, when the set is closed. */
  readonly enum?: readonly string[];
  /** Allowed values are also matched case-insensitively, like Spring's enum binding. */
  readonly caseInsensitive?: boolean;
}

/** A number; `integer` rejects fractions. */
export interface NumberSchema extends SchemaBase {
  readonly type: 'integer' | 'number';
  /** Inclusive lower bound. */
  readonly minimum?: number;
  /** Inclusive upper bound. */
  readonly maximum?: number;
}

/** `true`/`false` (also `"true"`/`"false"` text, like Spring). */
export interface BooleanSchema extends SchemaBase {
  readonly type: 'boolean';
}

/** An object with known keys; keys are matched with Spring's relaxed binding. */
export interface ObjectSchema extends SchemaBase {
  readonly type: 'object';
  /** The known keys and their schemas. */
  readonly properties: Readonly<Record<string, Schema>>;
  /** Keys that must be present and non-empty. */
  readonly required?: readonly string[];
}

/** A map with free keys kept verbatim (`properties`, `targetColumns`, …). */
export interface MapSchema extends SchemaBase {
  readonly type: 'map';
  /** Schema of every value. */
  readonly values: Schema;
}

/** A YAML sequence. */
export interface ArraySchema extends SchemaBase {
  readonly type: 'array';
  /** Schema of every item. */
  readonly items: Schema;
}

/** Anything goes (free-form values). */
export interface AnySchema extends SchemaBase {
  readonly type: 'any';
}
