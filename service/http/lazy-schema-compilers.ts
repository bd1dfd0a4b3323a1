// fastify's own schema compilers (ajv for requests, fast-json-stringify for responses), made lazy: a route's
// validator or serializer is compiled at its first request instead of at start-up, and each compiler package
// is loaded when the first route needs it.
//
// A start-up profile spent ~0.3 s CPU compiling a few hundred route schemas that a given run mostly never uses,
// and the compiled code stayed on the heap. The compilers, their options and the shared schemas are unchanged;
// only the moment each route's function is built moves.

import { createRequire } from 'node:module';
import type ValidatorSelector from '@fastify/ajv-compiler';
import type SerializerSelector from '@fastify/fast-json-stringify-compiler';

type ValidatorFactory = ReturnType<typeof ValidatorSelector>;
type ValidatorCompiler = ReturnType<ValidatorFactory>;
type RouteValidator = ReturnType<ValidatorCompiler>;
type SerializerFactory = ReturnType<typeof SerializerSelector>;
type SerializerCompiler = ReturnType<SerializerFactory>;
type Serializer = ReturnType<SerializerCompiler>;

const load = createRequire(import.meta.url);

/** The ajv compiler; each route's validator is built when first called. */
export function lazyValidatorFactory(): ValidatorFactory {
  let factory: ValidatorFactory | undefined;
  return ((externalSchemas: Parameters<ValidatorFactory>[0], options: Parameters<ValidatorFactory>[1]) => {
    // One ajv instance per schema context, as fastify makes it, but only once one of its routes is used.
    let compiler: ValidatorCompiler | undefined;
    const compile = (route: Parameters<ValidatorCompiler>[0]): RouteValidator => {
      factory ??= (load('@fastify/ajv-compiler') as typeof ValidatorSelector)();
      compiler ??= factory(externalSchemas, options);
      return compiler(route);
    };
    return (route: Parameters<ValidatorCompiler>[0]) => {
      let validate: RouteValidator | undefined;
      // fastify reads `errors` off the function after a failed call, and passes the parent object (so ajv may
      // replace a root value) only to functions that carry `schemaEnv`, as every ajv validator does.
      const lazy = Object.assign((data: unknown, context?: unknown) => {
        validate ??= compile(route);
        const valid = (validate as (data: unknown, context?: unknown) => boolean | Promise<unknown>)(data, context);
        lazy.errors = validate.errors;
        return valid;
      }, { errors: null as RouteValidator['errors'], schemaEnv: true });
      return lazy as unknown as RouteValidator;
    };
  }) as ValidatorFactory;
}

/** fast-json-stringify; each route's serializer is built when first called. */
export function lazySerializerFactory(): SerializerFactory {
  let factory: SerializerFactory | undefined;
  return (externalSchemas, options) => {
    let compiler: SerializerCompiler | undefined;
    return (route) => {
      let serialize: Serializer | undefined;
      return (doc: unknown) => {
        if (serialize === undefined) {
          factory ??= (load('@fastify/fast-json-stringify-compiler') as typeof SerializerSelector)();
          compiler ??= factory(externalSchemas, options);
          serialize = compiler(route);
        }
        return serialize(doc);
      };
    };
  };
}
