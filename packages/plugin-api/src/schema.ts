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
  /**
   * The value is a file-system path. The core resolves a relative path against the
   * configuration directory (never the working directory) before the plugin sees it.
   * `existing`: `sluice validate` and `sluice start` report a path that does not exist (an
   * input file, a CA certificate); `created`: the plugin may create it (an output directory, an
   * offset store).
   */
  readonly path?: 'existing' | 'created';
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

/** Flattens an intersection of object types into one object type (a helper of {@link Infer}). */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Keys of an object schema that are always present after binding: required or defaulted. */
export type PresentKeys<S extends ObjectSchema> = {
  [K in keyof S['properties']]: S['properties'][K] extends { readonly default: unknown }
    ? K
    : K extends (S['required'] extends readonly (infer R)[] ? R : never)
      ? K
      : never;
}[keyof S['properties']];

/**
 * The TypeScript type of a value that passed validation against schema `S`, as the core's binder
 * produces it: strings stay text (an `enum` gives the union of its members), numbers and booleans
 * are converted, keys of an {@link ObjectSchema} use the schema's spelling and are present when
 * they are `required` or have a `default` (the binder fills defaults in), optional otherwise.
 *
 * Declare the schema inline in `defineSink`/`defineSource` (or `as const`) so the literal types
 * survive. This `propertiesSchema` gives `properties` the type `{ output: 'stdout' | 'stderr' }`:
 *
 * ```ts
 * { type: 'object', properties: { output: { type: 'string', enum: ['stdout', 'stderr'], default: 'stdout' } } }
 * ```
 */
export type Infer<S> = S extends { readonly type: 'string'; readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly type: 'integer' | 'number' }
      ? number
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'map'; readonly values: infer V }
          ? Readonly<Record<string, Infer<V>>>
          : S extends { readonly type: 'array'; readonly items: infer I }
            ? readonly Infer<I>[]
            : S extends ObjectSchema
              ? Simplify<
                  { readonly [K in PresentKeys<S> & string]: Infer<S['properties'][K]> } & {
                    readonly [K in Exclude<keyof S['properties'], PresentKeys<S>> & string]?: Infer<
                      S['properties'][K]
                    >;
                  }
                >
              : unknown;
